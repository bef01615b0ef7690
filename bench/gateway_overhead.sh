#!/usr/bin/env bash
# Gateway overhead: hiraga (auth + quota + usage + audit ON) vs LiteLLM proxy vs a bare
# pass-through proxy (the floor) vs the stub upstream called directly, all in ONE interleaved run
# of ../shared/bench/gateway/compare.py, so every ratio compares runs made seconds apart.
#
#   bash bench/gateway_overhead.sh                  # 5 rounds, JSON + streaming, concurrency 1/16/64
#   ROUNDS=2 bash bench/gateway_overhead.sh         # quicker
#   HIRAGA_REDIS=1 bash bench/gateway_overhead.sh   # quota counters in Redis (127.0.0.1:6379)
#
# Everything listens on 127.0.0.1; every process started here is stopped by PID on exit.
# Results: $OUT/{summary.json,summary.md,report.md,versions.txt}.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${HARNESS:-$REPO/../shared/bench/gateway}"
WORK="${WORK:-/tmp/gwbench}"
OUT="${OUT:-$WORK/hiraga-$(date +%Y%m%d-%H%M%S)}"
ROUNDS="${ROUNDS:-5}"
MODES="${MODES:-nonstream,stream}"
CONCURRENCY="${CONCURRENCY:-1,16,64}"
REQ_NONSTREAM="${REQ_NONSTREAM:-200,800,1000}"
REQ_STREAM="${REQ_STREAM:-100,300,400}"
STUB_PORT="${STUB_PORT:-18100}" HIRAGA_PORT="${HIRAGA_PORT:-18180}"
FLOOR_PORT="${FLOOR_PORT:-18190}" LITELLM_PORT="${LITELLM_PORT:-4100}"
MASTER_KEY="sk-litellm-bench-master"
HPY="$WORK/venv-harness/bin/python"
LITELLM="$WORK/venv-litellm/bin/litellm"
PY="$REPO/.venv/bin/python"
HIRAGA="$REPO/.venv/bin/hiraga"

mkdir -p "$OUT"
# shellcheck source=bench/gateway_world.sh
. "$REPO/bench/gateway_world.sh"
trap stop_started EXIT INT TERM

# ---------------------------------------------------------------- venvs (shared with run_litellm.sh)
if [ ! -x "$HPY" ] || [ ! -x "$LITELLM" ]; then
  log "building the harness and LiteLLM venvs under $WORK (first run only)"
  python3 -m venv "$WORK/venv-harness" && "$WORK/venv-harness/bin/pip" install -q aiohttp uvicorn uvloop httptools orjson
  python3 -m venv "$WORK/venv-litellm" && "$WORK/venv-litellm/bin/pip" install -q "${LITELLM_SPEC:-litellm[proxy]}"
fi

# ---------------------------------------------------------------- stub upstream
start_stub "$HPY" "$STUB_PORT"

# ---------------------------------------------------------------- hiraga: real user, key, endpoint, limit
export HIRAGA_DATA_DIR="$OUT/hiraga-data" HIRAGA_ALLOWED_UPSTREAM_HOSTS=127.0.0.1
if [ "${HIRAGA_REDIS:-0}" = 1 ]; then export HIRAGA_REDIS_URL="redis://127.0.0.1:6379/0"; fi
HIRAGA_KEY="$(make_world "$STUB_PORT")"
"$HIRAGA" serve --host 127.0.0.1 --port "$HIRAGA_PORT" >"$OUT/hiraga.log" 2>&1 &
HIRAGA_PID=$!; PIDS+=("$HIRAGA_PID")
wait_http "http://127.0.0.1:$HIRAGA_PORT/healthz" 60 || { log "hiraga failed"; tail -30 "$OUT/hiraga.log"; exit 1; }

# ---------------------------------------------------------------- floor: bare pass-through proxy
"$PY" "$REPO/bench/passthrough_proxy.py" --port "$FLOOR_PORT" --upstream "http://127.0.0.1:$STUB_PORT" \
  >"$OUT/floor.log" 2>&1 &
FLOOR_PID=$!; PIDS+=("$FLOOR_PID")

# ---------------------------------------------------------------- LiteLLM (no DB), as run_litellm.sh
mkdir -p "$OUT/litellm"
cat >"$OUT/litellm/config.yaml" <<EOF
model_list:
  - model_name: stub-model
    litellm_params:
      model: openai/stub-model
      api_base: http://127.0.0.1:$STUB_PORT/v1
      api_key: sk-stub-upstream
litellm_settings:
  num_retries: 0
  request_timeout: 30
general_settings:
  master_key: $MASTER_KEY
EOF
( cd "$OUT/litellm" && exec env -u DATABASE_URL LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
    "$LITELLM" --config "$OUT/litellm/config.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" --num_workers 1 ) \
  >"$OUT/litellm/proxy.log" 2>&1 &
LITELLM_PID=$!; PIDS+=("$LITELLM_PID")
wait_http "http://127.0.0.1:$LITELLM_PORT/health/liveliness" 180 || { log "litellm failed"; exit 1; }
for _ in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$FLOOR_PORT/" && break; sleep 0.5; done

for url in "http://127.0.0.1:$HIRAGA_PORT" "http://127.0.0.1:$FLOOR_PORT"; do  # sanity: the Japanese reply
  curl -sf -H "Authorization: Bearer $HIRAGA_KEY" -H 'content-type: application/json' \
    -d '{"model":"stub-model","messages":[{"role":"user","content":"こんにちは"}]}' \
    "$url/v1/chat/completions" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])' \
    | tee -a "$OUT/run.log"
done

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), nproc=$(nproc)"
  echo "hiraga: $(git -C "$REPO" rev-parse --short HEAD) $("$PY" -c 'import fastapi,starlette,aiohttp,uvicorn,sqlalchemy;print("fastapi",fastapi.__version__,"starlette",starlette.__version__,"aiohttp",aiohttp.__version__,"uvicorn",uvicorn.__version__,"sqlalchemy",sqlalchemy.__version__)')"
  echo "litellm: $("$WORK/venv-litellm/bin/pip" list 2>/dev/null | awk '$1=="litellm"{print $2}')"
  echo "quota store: ${HIRAGA_REDIS_URL:-database (SQLite)}"
  echo "settings: rounds=$ROUNDS modes=$MODES conc=$CONCURRENCY req_nonstream=$REQ_NONSTREAM req_stream=$REQ_STREAM"
} | tee "$OUT/versions.txt"

log "compare: direct, floor, hiraga, litellm — $ROUNDS rounds"
"$HPY" "$HARNESS/compare.py" --outdir "$OUT" --rounds "$ROUNDS" --modes "$MODES" --concurrency "$CONCURRENCY" \
  --requests-nonstream "$REQ_NONSTREAM" --requests-stream "$REQ_STREAM" --expect-stub --meter-pid "$STUB_PID" \
  --target "direct,http://127.0.0.1:$STUB_PORT,sk-unused" \
  --target "floor,http://127.0.0.1:$FLOOR_PORT,sk-unused,stub-model,$FLOOR_PID" \
  --target "hiraga,http://127.0.0.1:$HIRAGA_PORT,$HIRAGA_KEY,stub-model,$HIRAGA_PID" \
  --target "litellm,http://127.0.0.1:$LITELLM_PORT,$MASTER_KEY,stub-model,$LITELLM_PID" | tee "$OUT/console.log"

"$PY" "$REPO/bench/gateway_report.py" "$OUT/summary.json" "$HIRAGA_DATA_DIR" | tee "$OUT/report.md"
log "done; results in $OUT"
