#!/bin/sh
# Start Roost as production runs it on one machine: N `roost serve` processes behind the edge.
#
#   deploy/start.sh [--nginx | --limit] [--processes N] [--host 0.0.0.0] [--listen 8080]
#                   [--run-dir /tmp/roost-run]
#                   [--base-port 9001] [--check] [--edge-only]
#
# The edge is HAProxy (`roost edge`), rendered from the same ROOST_* settings as the processes:
# it holds the connections, checks tokens and sessions, queues requests by priority in front of
# the processes (ROOST_EDGE_SERVER_MAXCONN each) and enforces the blocks and the attack mode the
# shields push to it through its runtime socket.
# --nginx uses nginx instead (nginx.conf: no priority queue, blocks by exported list; its measured
# limits are in docs/shield.md); --limit uses nginx-limit.conf (limit_req/limit_conn, shield off)
# for the comparison benchmark.
# --check renders the configuration and checks it (haproxy -c or nginx -t), then exits.
# --edge-only starts the edge alone, for processes started some other way (the benchmarks).
# Each process gets its own port (ROOST_PORT=9001..) and worker id; the edge is the only trusted
# proxy. Ctrl-C (or SIGTERM) stops the whole set. Redis, when ROOST_REDIS_URL is set, shares
# limits and blocks between the processes.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ROOST=${ROOST:-$ROOT/.venv/bin/roost}
PROCESSES=$(nproc)
HOST=0.0.0.0
LISTEN=8080
RUN=/tmp/roost-run
EDGE=haproxy
CONF=nginx.conf
BASE_PORT=9001
CHECK=0
EDGE_ONLY=0

while [ $# -gt 0 ]; do
  case "$1" in
    --nginx) EDGE=nginx ;;
    --limit) EDGE=nginx; CONF=nginx-limit.conf; export ROOST_SHIELD_ENABLED=0 ;;
    --processes) PROCESSES=$2; shift ;;
    --host) HOST=$2; shift ;;
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
SERVERS=""
i=0
while [ "$i" -lt "$PROCESSES" ]; do
  SERVERS="$SERVERS --server 127.0.0.1:$((BASE_PORT + i))"
  i=$((i + 1))
done

if [ "$EDGE" = haproxy ]; then
  # shellcheck disable=SC2086 # one --server flag per process
  EDGE_CONF=$("$ROOST" edge config --check --listen "$HOST:$LISTEN" $SERVERS --run-dir "$RUN/edge")
  [ "$CHECK" = 1 ] && { echo "configuration OK: $EDGE_CONF"; exit 0; }
  export ROOST_EDGE_RUNTIME=${ROOST_EDGE_RUNTIME:-$RUN/edge/edge.sock}
else
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
fi

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
if [ "$EDGE" = haproxy ]; then
  haproxy -f "$EDGE_CONF" -db >> "$RUN/haproxy.log" 2>&1 &
else
  nginx -c "$RUN/$CONF" -p "$RUN" -g "daemon off;" &
fi
EDGE_PID=$!

stop() {
  kill $EDGE_PID $PIDS 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "roost: $PROCESSES processes behind $EDGE on :$LISTEN; logs in $RUN"
if [ "$EDGE" = haproxy ]; then
  echo "the edge: roost edge status --runtime $ROOST_EDGE_RUNTIME"
else
  echo "refresh the edge block list: roost shield export-blocklist --format nginx --url http://127.0.0.1:$BASE_PORT -o $RUN/blocklist.conf && nginx -s reload -c $RUN/$CONF -p $RUN"
fi
wait $EDGE_PID
