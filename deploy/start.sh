#!/bin/sh
# Start Roost as production runs it on one machine: N `roost serve` processes behind nginx.
#
#   deploy/start.sh [--limit] [--processes N] [--listen 8080] [--run-dir /tmp/roost-run] [--check]
#
# --check renders the configuration and runs `nginx -t` on it, then exits.
# --edge-only starts nginx alone, for upstreams started some other way (the benchmarks).
# --limit uses nginx-limit.conf (limit_req/limit_conn, shield off) for the comparison benchmark.
# Each process gets its own port (ROOST_PORT=9001..) and worker id; nginx is the only trusted
# proxy. Ctrl-C (or SIGTERM) stops the whole set. Redis, when ROOST_REDIS_URL is set, shares
# limits and blocks between the processes.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ROOST=${ROOST:-$ROOT/.venv/bin/roost}
PROCESSES=$(nproc)
LISTEN=8080
RUN=/tmp/roost-run
CONF=nginx.conf
BASE_PORT=9001
CHECK=0
EDGE_ONLY=0

while [ $# -gt 0 ]; do
  case "$1" in
    --limit) CONF=nginx-limit.conf; export ROOST_SHIELD_ENABLED=0 ;;
    --processes) PROCESSES=$2; shift ;;
    --listen) LISTEN=$2; shift ;;
    --run-dir) RUN=$2; shift ;;
    --base-port) BASE_PORT=$2; shift ;;
    --check) CHECK=1 ;;
    --edge-only) EDGE_ONLY=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$RUN"
: > "$RUN/upstreams.conf"
[ -f "$RUN/blocklist.conf" ] || printf 'geo $roost_blocked {\n  default 0;\n}\n' > "$RUN/blocklist.conf"

i=0
while [ "$i" -lt "$PROCESSES" ]; do
  echo "server 127.0.0.1:$((BASE_PORT + i)) max_fails=3 fail_timeout=2s;" >> "$RUN/upstreams.conf"
  i=$((i + 1))
done
for name in nginx-common.conf nginx-location.conf "$CONF"; do
  sed -e "s#ROOST_UPSTREAMS#$RUN/upstreams.conf#g" -e "s#ROOST_BLOCKLIST#$RUN/blocklist.conf#g" \
      -e "s#ROOST_DEPLOY#$RUN#g" -e "s#ROOST_RUN#$RUN#g" -e "s#ROOST_LISTEN#$LISTEN#g" \
      "$HERE/$name" > "$RUN/$name"
done
nginx -t -q -c "$RUN/$CONF" -p "$RUN"
[ "$CHECK" = 1 ] && { echo "configuration OK: $RUN/$CONF"; exit 0; }

export ROOST_SHIELD_TRUSTED_PROXIES=${ROOST_SHIELD_TRUSTED_PROXIES:-127.0.0.1/32}
export ROOST_SHIELD_MODE_FILE=${ROOST_SHIELD_MODE_FILE:-$RUN/shield-mode}
PIDS=""
i=0
while [ "$EDGE_ONLY" = 0 ] && [ "$i" -lt "$PROCESSES" ]; do
  port=$((BASE_PORT + i))
  ROOST_PORT=$port ROOST_WORKER_ID=$i ROOST_WORKERS=1 "$ROOST" serve > "$RUN/roost-$port.log" 2>&1 &
  PIDS="$PIDS $!"
  i=$((i + 1))
done
nginx -c "$RUN/$CONF" -p "$RUN" -g "daemon off;" &
NGINX=$!

stop() {
  kill $NGINX $PIDS 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "roost: $PROCESSES processes behind nginx on :$LISTEN ($CONF); logs in $RUN"
echo "refresh the edge block list: roost shield export-blocklist --format nginx --url http://127.0.0.1:$BASE_PORT -o $RUN/blocklist.conf && nginx -s reload -c $RUN/$CONF -p $RUN"
wait $NGINX
