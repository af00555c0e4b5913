#!/usr/bin/env bash
# Starts `ariadne serve` and the C++ Cruddur backend beside it, with a little generated traffic,
# so real Cruddur traces show up in the UI within seconds. Ctrl-C stops both.
#
#   examples/cruddur/run.sh            # uses build/bin; OTLP (the Honeycomb path)
#   XRAY=1 examples/cruddur/run.sh     # the X-Ray path instead (daemon protocol, remote sampling)
#   BUILD=build-sdk examples/cruddur/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$ROOT/${BUILD:-build}/bin"
DATA="${DATA_DIR:-$ROOT/ariadne-data}"
for b in ariadne cruddur; do
  [[ -x "$BIN/$b" ]] || { echo "run.sh: $BIN/$b not built (cmake --build build)" >&2; exit 1; }
done

LOG="$(mktemp -d)"
"$BIN/ariadne" serve --data-dir "$DATA" --otlp-http 4318 --xray 2000 --http 8686 >"$LOG/ariadne.out" 2>&1 &
SERVER=$!
CRUDDUR=""
cleanup() {
  [[ -n "$CRUDDUR" ]] && kill "$CRUDDUR" 2>/dev/null || true
  kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 100); do
  grep -q "listening http " "$LOG/ariadne.out" && break
  sleep 0.1
done
grep "listening" "$LOG/ariadne.out" || { cat "$LOG/ariadne.out"; exit 1; }

# The seed's environment variables, pointed at Ariadne instead of Honeycomb and the X-Ray daemon.
# Both at once would store every sampled span twice in the same Ariadne.
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-backend-flask}"
if [[ "${XRAY:-0}" == 1 ]]; then
  export AWS_XRAY_DAEMON_ADDRESS="${AWS_XRAY_DAEMON_ADDRESS:-127.0.0.1:2000}"
  export AWS_XRAY_URL="${AWS_XRAY_URL:-*4567-*}"
else
  export OTEL_EXPORTER_OTLP_ENDPOINT="${OTEL_EXPORTER_OTLP_ENDPOINT:-http://127.0.0.1:4318}"
  export OTEL_EXPORTER_OTLP_HEADERS="${OTEL_EXPORTER_OTLP_HEADERS:-x-honeycomb-team=${HONEYCOMB_API_KEY:-}}"
  export OTEL_BSP_SCHEDULE_DELAY="${OTEL_BSP_SCHEDULE_DELAY:-1000}"
fi
"$BIN/cruddur" --port "${PORT:-4567}" --generate-traffic &
CRUDDUR=$!
echo "cruddur on http://127.0.0.1:${PORT:-4567}/api/activities/home — traces in http://127.0.0.1:8686/"
wait "$CRUDDUR"
