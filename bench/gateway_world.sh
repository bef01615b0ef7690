# Sourced by bench/gateway_overhead.sh and bench/scale_out.sh (needs REPO, OUT, HIRAGA set): stopping
# what a run started, logging, waiting for a port, the stub upstream of ../shared/bench/gateway, and
# the hiraga world every benchmarked call runs in.

PIDS=()
stop_started() {  # every process started here (and its children), by PID
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    for c in $(pgrep -P "$p" 2>/dev/null || true); do kill "$c" 2>/dev/null || true; done
    kill "$p" 2>/dev/null || true
  done
}
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/run.log"; }
wait_http() {  # url seconds
  for _ in $(seq 1 $(( $2 * 2 ))); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.5
  done
  return 1
}

harness_venv() {  # the harness's venv under $WORK (first run only); sets HPY
  HPY="$WORK/venv-harness/bin/python"
  if [ ! -x "$HPY" ]; then
    log "building the harness venv under $WORK (first run only)"
    python3 -m venv "$WORK/venv-harness" && "$WORK/venv-harness/bin/pip" install -q aiohttp uvicorn uvloop httptools orjson
  fi
}

start_stub() {  # python port: the stub upstream; sets STUB_PID
  ( cd "$HARNESS" && exec "$1" stub_upstream.py --port "$2" ) >"$OUT/stub.log" 2>&1 &
  STUB_PID=$!; PIDS+=("$STUB_PID")
  wait_http "http://127.0.0.1:$2/health" 30 || { log "stub failed"; exit 1; }
}

make_world() {  # stub_port: a real user in team 企画課 with an API key (printed), endpoint stub-model,
  # and three generous limits, so every call is admitted through the quota path and reconciled at settlement
  set -e  # also inside KEY="$(make_world ...)", where the caller's errexit does not reach
  "$HIRAGA" db upgrade >/dev/null
  "$HIRAGA" admin create-org ベンチ市 >/dev/null
  "$HIRAGA" admin create-team 企画課 --org ベンチ市 >/dev/null
  echo "Kumo-Sora-Umi-2026" | "$HIRAGA" admin create-user bench@example.jp --password-stdin --team 企画課 >/dev/null
  "$HIRAGA" admin create-key bench@example.jp --name bench | tail -1
  "$HIRAGA" models add stub-model --base-url "http://127.0.0.1:$1/v1" --upstream-model stub-model \
    --all-teams --internal --price-in 0.5 --price-out 1.5 >/dev/null
  "$HIRAGA" limits add --team 企画課 --metric requests --window minute --amount 100000000 >/dev/null
  "$HIRAGA" limits add --team 企画課 --metric tokens --window day --amount 100000000000 >/dev/null
  "$HIRAGA" limits add --user bench@example.jp --metric cost_jpy --window month --amount 100000000 >/dev/null
}
