#!/usr/bin/env bash
# Checks `make cluster` end to end (make test runs it once the app is built): the cluster on
# spare ports with a temporary data directory, the demo customer signing in through nginx, the
# session valid on both instances, pages and the API served through nginx by both, and every
# process gone after the stop signal.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
export CLUSTER_DATA=$tmp/cluster CLUSTER_LISTEN=127.0.0.1:3390 CLUSTER_DB_PORT=8390 CLUSTER_PORTS="3391 3392"
base=http://$CLUSTER_LISTEN
fail() { echo "cluster check failed: $*" >&2; cat "$tmp/run.log" >&2; exit 1; }

"$root/cluster/run.sh" > "$tmp/run.log" 2>&1 &
cluster=$!
for _ in $(seq 1 1200); do curl -fs -o /dev/null "$base/readyz" && break; sleep 0.1; done
curl -fs -o /dev/null "$base/readyz" || fail "not ready through nginx"

token=$(curl -fs -H 'content-type: application/json' \
  -d '{"email":"customer@demo.test","password":"demo-password"}' "$base/api/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])') || fail "demo login"
for port in $CLUSTER_PORTS; do
  curl -fs -o /dev/null -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/auth/me" ||
    fail "the session is not valid on :$port"
done
page=$(curl -fs "$base/slots") || fail "the slots page"
grep -q "Career strategy session" <<< "$page" || fail "the demo slots on the slots page"
for _ in 1 2 3 4 5 6; do curl -fs -o /dev/null "$base/api/consulting-slots" || fail "browsing"; done
for port in $CLUSTER_PORTS; do
  scrape=$(curl -fs "http://127.0.0.1:$port/metrics") || fail "metrics of :$port"
  grep -q 'route="/api/consulting-slots",method="GET",status="200"' <<< "$scrape" ||
    fail "nginx sent no request to :$port"
done

kill -TERM "$cluster"
wait "$cluster" || true
for port in 3390 $CLUSTER_PORTS $CLUSTER_DB_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "something still listens on :$port"; fi
done
rm -rf "$tmp"
echo "cluster check passed: nginx on :3390 balanced two instances on one SurrealDB server, and all stopped"
