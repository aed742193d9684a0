// The load generator of the edge benchmark, run as its own process (so the
// client's CPU is not the server's): autocannon against one scenario, the
// summary as one JSON line on stdout.
//
//   node load.mjs '{"url", "method", "path", "body", "tokens": [...],
//                   "banks": [...], "connections", "duration"}'
//
// Requests cycle through the (token, bank) pairs, one pair per request.
import autocannon from 'autocannon';

const o = JSON.parse(process.argv[2]);
const pairs = o.tokens.map((t, i) => [t, o.banks[i % o.banks.length]]);
let next = 0;
let serial = 0;

const result = await autocannon({
  url: o.url,
  connections: o.connections,
  duration: o.duration,
  requests: [
    {
      method: o.method,
      setupRequest(req) {
        const [token, bank] = pairs[next++ % pairs.length];
        // A fresh text per retain, so no request is an upsert no-op.
        const body = o.body && JSON.stringify(o.body).replaceAll('{n}', String(serial++));
        return {
          ...req,
          path: o.path.replace('{bank}', bank),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        };
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }) + '\n',
);
