#!/usr/bin/env bash
# The contract test: schemathesis (PyPI) runs the served /api/openapi.json against a fresh
# server on mem:// with demo data, once as the demo specialist and once as the demo customer,
# each through a write API token (a login token would end its own session when logout is
# exercised). It fails on any 5xx and on any answer outside the document: an undocumented
# status, content type or body.
#
# SERVER_BIN: the server binary; SITE_ROOT: the built site; CONTRACT_PORT (3200);
# CONTRACT_EXAMPLES: cases per operation (25).
set -euo pipefail
cd "$(dirname "$0")/../.."

port="${CONTRACT_PORT:-3200}"
examples="${CONTRACT_EXAMPLES:-25}"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL=mem:// LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$SITE_ROOT" \
  LEPTOS_OUTPUT_NAME=specialistly LEPTOS_ENV=DEV DATA_DIR="$work/data" MAIL_DIR="$work/mail" \
  SEED_DEMO_DATA=true ZOOM_WEBHOOK_SECRET_TOKEN=contract-zoom-secret \
  AUTH_RATE_PER_IP_PER_MINUTE=1000000 RUST_LOG=warn \
  "$SERVER_BIN" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done

# Signs in as $1 and prints a new read-write API token of that account.
api_token() {
  local login token
  login=$(curl -fsS -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"demo-password\"}" "$base/api/auth/login")
  token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])' <<<"$login")
  curl -fsS -H 'content-type: application/json' -H "authorization: Bearer $token" \
    -d '{"name":"contract test","scopes":["read","write"]}' "$base/api/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])'
}

status=0
for account in specialist@demo.test customer@demo.test; do
  echo "--- schemathesis as $account"
  token=$(api_token "$account")
  # The CLI through python3, wherever pip put its script; from the scratch directory, where
  # it keeps its cache.
  (cd "$work" && python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; schemathesis()' \
    run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 20261203 --workers 2 \
    --suppress-health-check all --warnings off --no-color) || status=1
done
if [ "$status" != 0 ]; then
  echo "--- server log (tail)"; tail -n 50 "$work/server.log"
fi
exit "$status"
