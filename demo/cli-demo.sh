#!/usr/bin/env bash
# The CLI demo: two "sessions" of a user, a day apart, on one bank file.
# The second session recalls what the first one said. No API key, no network.
set -euo pipefail
bin=${MNEMO_BIN:-build/bin/mnemo}
db=${MNEMO_DEMO_DB:-build/demo/alice.db}
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "Session 1 (2026-11-20): the user talks; Mnemo retains each message."
"$bin" --db "$db" retain --no-infer --timestamp 2026-11-20T09:00:00Z --document-id session-1 \
  --messages '[{"role":"user","content":"I prefer dark mode and I use Python"},
               {"role":"assistant","content":"Noted: dark mode, and Python it is."},
               {"role":"user","content":"My sister Ana lives in Porto and we meet every May"}]' \
  | head -c 400; echo

say "Session 2 (next day, new process): \"What's my preferred language?\""
"$bin" --db "$db" --pretty recall --query "What's my preferred language?" --limit 2 \
  --now 2026-11-21T09:00:00Z

say "What Mnemo knows:"
"$bin" --db "$db" stats
echo
say "Forget me:"
"$bin" --db "$db" delete-all && "$bin" --db "$db" stats
echo
