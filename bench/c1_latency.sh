#!/usr/bin/env bash
# Added latency at concurrency 1, one revision against another, in ONE interleaved run of
# ../shared/bench/gateway/compare.py: the stub upstream called directly (the baseline), `hiraga serve`
# (1 worker) from another checkout's src/ ("before") and from this checkout ("after"), both on ONE
# database, each call admitted through three limits and leaving a usage and an audit record.
#
#   BEFORE_SRC=../wt-base/src bash bench/c1_latency.sh              # PostgreSQL + Redis, 3 rounds
#   BACKEND=sqlite BEFORE_SRC=../wt-base/src bash bench/c1_latency.sh
#
# BEFORE_SRC is put first on PYTHONPATH of this checkout's venv (no second venv). Needs PostgreSQL
# at $PG_ADMIN_URL and Redis at $REDIS_URL for BACKEND=pg; there bench/pg_commit_probe.py measures what one
# durable commit costs before and after the runs. Results: $OUT/{versions.txt,summary.md,records.txt}.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${HARNESS:-$REPO/../shared/bench/gateway}"
WORK="${WORK:-/tmp/gwbench}"
BACKEND="${BACKEND:-pg}"
OUT="${OUT:-$WORK/c1-$BACKEND-$(date +%Y%m%d-%H%M%S)}"
ROUNDS="${ROUNDS:-3}" REQUESTS="${REQUESTS:-300}"
BEFORE_SRC="$(cd "${BEFORE_SRC:?the src/ folder of the revision to compare against}" && pwd)"
STUB_PORT="${STUB_PORT:-18300}" A_PORT="${A_PORT:-18381}" B_PORT="${B_PORT:-18382}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/9}"
PY="$REPO/.venv/bin/python"
HIRAGA="$REPO/.venv/bin/hiraga"
DB="hiraga_c1_$(date +%s)_$$"

mkdir -p "$OUT"
# shellcheck source=bench/gateway_world.sh
. "$REPO/bench/gateway_world.sh"
cleanup() {
  stop_started
  sleep 1
  [ "$BACKEND" != pg ] || psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
harness_venv

start_stub "$HPY" "$STUB_PORT"
export HIRAGA_DATA_DIR="$OUT/hiraga-data" HIRAGA_ALLOWED_UPSTREAM_HOSTS=127.0.0.1
export HIRAGA_SECRET_KEY="${HIRAGA_SECRET_KEY:-c1-bench-secret-key-0123456789abcdef}"
if [ "$BACKEND" = pg ]; then
  psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
  redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null
  export HIRAGA_DATABASE_URL="${PG_ADMIN_URL%/*}/$DB" HIRAGA_REDIS_URL="$REDIS_URL"
fi
KEY="$(make_world "$STUB_PORT")"

SERVE=(-c "from hiraga.cli.main import cli; cli()" serve --host 127.0.0.1 --workers 1 --no-migrate)
PYTHONPATH="$BEFORE_SRC" "$PY" "${SERVE[@]}" --port "$B_PORT" >"$OUT/before.log" 2>&1 &
B_PID=$!; PIDS+=("$B_PID")
"$PY" "${SERVE[@]}" --port "$A_PORT" >"$OUT/after.log" 2>&1 &
A_PID=$!; PIDS+=("$A_PID")
wait_http "http://127.0.0.1:$B_PORT/healthz" 60 || { log "before failed"; tail -30 "$OUT/before.log"; exit 1; }
wait_http "http://127.0.0.1:$A_PORT/healthz" 60 || { log "after failed"; tail -30 "$OUT/after.log"; exit 1; }

{
  echo "date: $(date -Is); host: $(uname -srm), nproc=$(nproc), loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "backend: $BACKEND; before: $(git -C "$BEFORE_SRC" rev-parse --short HEAD); after: $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet || echo ' (uncommitted changes)')"
  echo "settings: rounds=$ROUNDS requests=$REQUESTS concurrency=1 mode=nonstream"
} | tee "$OUT/versions.txt"

probe() { [ "$BACKEND" != pg ] || "$PY" "$REPO/bench/pg_commit_probe.py" "$HIRAGA_DATABASE_URL" | tee -a "$OUT/versions.txt"; }
probe
"$HPY" "$HARNESS/compare.py" --outdir "$OUT" --rounds "$ROUNDS" --modes nonstream --concurrency 1 \
  --requests-nonstream "$REQUESTS" --expect-stub --meter-pid "$STUB_PID" \
  --target "direct,http://127.0.0.1:$STUB_PORT,sk-unused" \
  --target "before,http://127.0.0.1:$B_PORT,$KEY,stub-model,$B_PID" \
  --target "after,http://127.0.0.1:$A_PORT,$KEY,stub-model,$A_PID" | tee "$OUT/console.log"
probe

stop_started
"$PY" - "$ROUNDS" "$REQUESTS" <<'PY' | tee "$OUT/records.txt"
import sys
from sqlalchemy import create_engine, text
from hiraga.settings import load_settings
rounds, requests = int(sys.argv[1]), int(sys.argv[2])
with create_engine(load_settings().effective_database_url).connect() as db:
    usage = db.execute(text("SELECT count(*) FROM usage_records")).scalar()
    audit = db.execute(text("SELECT count(*) FROM audit_records WHERE action = 'model_call'")).scalar()
sent = rounds * 2 * (requests + 20)  # load.py sends 20 warm-up calls before each run
print(f"calls sent to hiraga {sent}, usage records {usage}, model_call audit records {audit}")
PY
"$HIRAGA" audit verify --no-seal | tee -a "$OUT/records.txt"
log "done; results in $OUT"
