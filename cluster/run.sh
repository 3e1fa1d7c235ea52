#!/usr/bin/env bash
# `make cluster`: a SurrealDB server (SurrealKV storage under ./data/cluster), two app
# instances on it and Debian's nginx balancing them round-robin on http://127.0.0.1:3000, with
# the same demo data, simulated Zoom and mail files as `make run`. Ctrl-C stops everything.
#
# Expects what `make cluster` builds: the debug app server (which also runs the SurrealDB
# server, `specialistly db-server`) and its site (`cargo xtask build`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${TARGET_DIR:-$root/target}
# make test's cluster check runs the same build (`SERVER_BIN`, the tests' binary).
server=${SERVER_BIN:-$target/debug/specialistly}
# Overridable, so a check can run a second cluster beside a developer's.
data=${CLUSTER_DATA:-$root/data/cluster}
db_port=${CLUSTER_DB_PORT:-8000}
read -r -a ports <<< "${CLUSTER_PORTS:-3001 3002}"
listen=${CLUSTER_LISTEN:-127.0.0.1:3000}

mkdir -p "$data/nginx" "$data/mail" "$data/logs"
# One signing secret for every instance: a session opened on one is valid on the other.
[ -s "$data/jwt_secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$data/jwt_secret"

pids=()
stop() {
  trap - EXIT INT TERM
  echo "stopping the cluster"
  # nginx and the app instances first (they finish in-flight requests), the database last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop EXIT INT TERM

wait_for() { # URL or host:port, what
  for _ in $(seq 1 600); do
    if [[ $1 == http* ]]; then curl -fs -o /dev/null "$1" && return 0
    else (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0; fi
    sleep 0.1
  done
  echo "$2 did not start; see $data/logs" >&2
  exit 1
}

"$server" db-server start --no-banner --log warn --bind "127.0.0.1:$db_port" \
  --user root --pass root "surrealkv://$data/db" > "$data/logs/surreal.log" 2>&1 &
pids+=($!)
wait_for "127.0.0.1:$db_port" "the SurrealDB server"

for i in 0 1; do
  port=${ports[i]}
  # The first instance applies the migrations and seeds the demo data before the second starts.
  env DATABASE_URL="ws://127.0.0.1:$db_port" SURREAL_USER=root SURREAL_PASS=root \
    SURREAL_NS=specialistly SURREAL_DB=main \
    JWT_SECRET="$(cat "$data/jwt_secret")" TRUSTED_PROXIES=127.0.0.1 \
    APP_BASE_URL="http://$listen" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$target/site" LEPTOS_OUTPUT_NAME=specialistly LEPTOS_ENV=DEV \
    DATA_DIR="$data/instance-$((i + 1))" MAIL_DIR="$data/mail" \
    SEED_DEMO_DATA=$([ "$i" = 0 ] && echo true || echo false) \
    "$server" > "$data/logs/instance-$((i + 1)).log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/readyz" "instance $((i + 1))"
done

upstreams=$(printf 'server 127.0.0.1:%s; ' "${ports[@]}")
sed -e "s|@PREFIX@|$data/nginx|g" -e "s|@LISTEN@|$listen|g" -e "s|@UPSTREAMS@|$upstreams|g" \
  "$root/cluster/nginx.conf.template" > "$data/nginx/nginx.conf"
nginx -p "$data/nginx" -c "$data/nginx/nginx.conf" &
pids+=($!)
wait_for "http://$listen/healthz" "nginx"

cat <<MSG
Specialistly cluster: http://$listen (nginx) -> instances on :${ports[0]} and :${ports[1]}
  SurrealDB server ws://127.0.0.1:$db_port (data in $data/db), logs in $data/logs
  demo logins as with make run; simulated Zoom; mail in $data/mail (also /dev/mail)
  metrics: http://127.0.0.1:${ports[0]}/metrics, http://127.0.0.1:${ports[1]}/metrics
Ctrl-C stops it.
MSG
# Runs until Ctrl-C, or until any part stops by itself (then the rest is stopped too).
wait -n
