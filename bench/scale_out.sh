#!/usr/bin/env bash
# Scale-out: does a second `hiraga serve` worker buy throughput? One `hiraga serve --workers 1` and one
# `--workers 2`, both on ONE PostgreSQL database with quota counters in Redis, measured back to back
# in ONE interleaved run of ../shared/bench/gateway/compare.py (the stub upstream called directly is
# the baseline). Every call is admitted through three limits and leaves a usage and an audit record.
#
#   bash bench/scale_out.sh                          # 3 rounds, JSON + streaming, concurrency 1/16/64
#   ROUNDS=1 MODES=nonstream bash bench/scale_out.sh # quicker
#   WORKER_CPU_QUOTA=0.5 ROUNDS=3 MODES=nonstream CONCURRENCY=1,64 bash bench/scale_out.sh
#
# WORKER_CPU_QUOTA (a share of one core, e.g. 0.5) holds every process of both servers to that much CPU,
# each in a cgroup of its own (Linux cgroup v1 `cpu` controller, CFS quota; needs root). It stands in for
# a machine with a core per worker: on 2 cores, PostgreSQL, Redis, the stub and the load generator take
# the CPU a second worker would need, so the plain run measures the machine; with each worker held to the
# same share, what w2 ÷ w1 still lacks of 2× is contention between the workers (locks, the chain, the pool).
#
# Needs PostgreSQL at $PG_ADMIN_URL (a database is created and dropped) and Redis at $REDIS_URL.
# Results: $OUT/{summary.json,summary.md,records.txt,versions.txt}; every process started here is
# stopped by PID on exit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${HARNESS:-$REPO/../shared/bench/gateway}"
WORK="${WORK:-/tmp/gwbench}"
OUT="${OUT:-$WORK/scale-$(date +%Y%m%d-%H%M%S)}"
ROUNDS="${ROUNDS:-3}"
MODES="${MODES:-nonstream,stream}"
CONCURRENCY="${CONCURRENCY:-1,16,64}"
REQ_NONSTREAM="${REQ_NONSTREAM:-200,800,2000}"
REQ_STREAM="${REQ_STREAM:-100,300,800}"
STUB_PORT="${STUB_PORT:-18200}" W1_PORT="${W1_PORT:-18281}" W2_PORT="${W2_PORT:-18282}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/7}"
PY="$REPO/.venv/bin/python"
HIRAGA="$REPO/.venv/bin/hiraga"
DB="hiraga_scale_$(date +%s)_$$"
WORKER_CPU_QUOTA="${WORKER_CPU_QUOTA:-}"
CPU_CGROUPS=/sys/fs/cgroup/cpu

mkdir -p "$OUT"
# shellcheck source=bench/gateway_world.sh
. "$REPO/bench/gateway_world.sh"
cleanup() {
  stop_started
  sleep 1
  psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rmdir "$CPU_CGROUPS"/hiraga-scale-$$-* 2>/dev/null || true
}
hold_to_quota() {  # pid...: each process and its children in a cpu cgroup of its own, WORKER_CPU_QUOTA of a core
  local period=20000 quota pid group
  [ -w "$CPU_CGROUPS/cgroup.procs" ] || { log "WORKER_CPU_QUOTA needs a writable cgroup v1 cpu controller at $CPU_CGROUPS"; exit 1; }
  quota="$(python3 -c "import sys; q = float(sys.argv[1]); assert 0.01 <= q <= 64; print(int(q * $period))" "$WORKER_CPU_QUOTA")"
  for pid in $(for root in "$@"; do echo "$root"; pgrep -P "$root" || true; done); do
    group="$CPU_CGROUPS/hiraga-scale-$$-$pid"
    mkdir -p "$group"
    echo "$period" >"$group/cpu.cfs_period_us"
    echo "$quota" >"$group/cpu.cfs_quota_us"
    echo "$pid" >"$group/cgroup.procs"  # the whole process: every thread, the ledger's writer included
    log "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-60)) held to $WORKER_CPU_QUOTA of a core"
  done
}
trap cleanup EXIT INT TERM

harness_venv

start_stub "$HPY" "$STUB_PORT"

psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null
export HIRAGA_DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" HIRAGA_REDIS_URL="$REDIS_URL"
export HIRAGA_DATA_DIR="$OUT/hiraga-data" HIRAGA_ALLOWED_UPSTREAM_HOSTS=127.0.0.1
export HIRAGA_SECRET_KEY="${HIRAGA_SECRET_KEY:-scale-bench-secret-key-0123456789abcdef}"
KEY="$(make_world "$STUB_PORT")"

"$HIRAGA" serve --host 127.0.0.1 --port "$W1_PORT" --workers 1 >"$OUT/w1.log" 2>&1 &
W1_PID=$!; PIDS+=("$W1_PID")
"$HIRAGA" serve --host 127.0.0.1 --port "$W2_PORT" --workers 2 >"$OUT/w2.log" 2>&1 &
W2_PID=$!; PIDS+=("$W2_PID")
wait_http "http://127.0.0.1:$W1_PORT/healthz" 60 || { log "w1 failed"; tail -30 "$OUT/w1.log"; exit 1; }
wait_http "http://127.0.0.1:$W2_PORT/healthz" 60 || { log "w2 failed"; tail -30 "$OUT/w2.log"; exit 1; }
[ -z "$WORKER_CPU_QUOTA" ] || hold_to_quota "$W1_PID" "$W2_PID"

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), nproc=$(nproc), loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "hiraga: $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet || echo ' (uncommitted changes)')"
  echo "database: PostgreSQL $(psql -tA "$PG_ADMIN_URL" -c 'SHOW server_version'), quota counters: Redis $(redis-cli -u "$REDIS_URL" INFO server | awk -F: '/redis_version/{print $2}' | tr -d '\r')"
  echo "settings: rounds=$ROUNDS modes=$MODES conc=$CONCURRENCY req_nonstream=$REQ_NONSTREAM req_stream=$REQ_STREAM"
  echo "worker CPU quota: ${WORKER_CPU_QUOTA:-none (every process may use any core)}"
  echo "PYTHONPATH (code measured instead of this checkout's, when set): ${PYTHONPATH:-none}"
} | tee "$OUT/versions.txt"

sample_connections() {  # port file: every 0.25 s, the established connections each process holds on the port
  set +eo pipefail  # no connection open is no match, not an error
  while :; do
    ss -tnpH state established "( sport = :$1 )" 2>/dev/null | grep -o 'pid=[0-9]*' | sort | uniq -c \
      | awk '{print $1}' | sort -n | paste -sd/ -
    sleep 0.25
  done >"$2"
}
sample_connections "$W2_PORT" "$OUT/w2_connections.txt" &
PIDS+=("$!")

log "compare: direct, w1, w2 — $ROUNDS rounds"
"$HPY" "$HARNESS/compare.py" --outdir "$OUT" --rounds "$ROUNDS" --modes "$MODES" --concurrency "$CONCURRENCY" \
  --requests-nonstream "$REQ_NONSTREAM" --requests-stream "$REQ_STREAM" --expect-stub --meter-pid "$STUB_PID" \
  --target "direct,http://127.0.0.1:$STUB_PORT,sk-unused" \
  --target "w1,http://127.0.0.1:$W1_PORT,$KEY,stub-model,$W1_PID" \
  --target "w2,http://127.0.0.1:$W2_PORT,$KEY,stub-model,$W2_PID" | tee "$OUT/console.log"

"$PY" "$REPO/bench/scale_out_report.py" "$OUT/raw.jsonl" "$HIRAGA_DATABASE_URL" | tee "$OUT/report.md"
{
  echo
  echo "w2: connections per worker process, the most frequent splits in 0.25 s samples with ≥ 32 open"
  echo "(one number: one process held them all):"
  awk -F/ '{n = 0; for (i = 1; i <= NF; i++) n += $i} n >= 32' "$OUT/w2_connections.txt" | sort | uniq -c | sort -rn | head -6
} | tee -a "$OUT/report.md"
stop_started  # both servers down: verify the chain the run left (every lane)
"$HIRAGA" audit verify --no-seal | tee -a "$OUT/report.md"
log "done; results in $OUT"
