#!/usr/bin/env bash
# make demo-edge: the edge service in the background (its own make target),
# the client page in the foreground; Ctrl-C stops both.
#   run.sh PORT EDGE_PORT "command that runs the edge service on EDGE_PORT"
set -euo pipefail
port=$1 edge_port=$2 edge_cmd=$3
export MNEMO_EDGE_TOKENS=${MNEMO_EDGE_TOKENS:-'{"demo-token":"demo"}'}
PORT=$edge_port setsid bash -c "$edge_cmd" &
edge_pid=$!
trap 'kill -- -$edge_pid 2>/dev/null || true' EXIT INT TERM
# Wait for the service (building it the first time takes a while).
for _ in $(seq 1 600); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$edge_port") 2>/dev/null; then break; fi
  kill -0 "$edge_pid" 2>/dev/null || { echo "demo-edge: the edge service stopped" >&2; exit 1; }
  sleep 1
done
echo "Edge service on http://127.0.0.1:$edge_port/ (token \"demo-token\", tenant \"demo\")"
PORT=$port node "$(dirname "$0")/../serve.mjs" --edge "http://127.0.0.1:$edge_port" --path /edge/
