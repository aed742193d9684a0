// Types: written with the API; see README.md until then.
