#!/usr/bin/env bash
# The release pipeline as CI runs it, and as anyone can run it here: start the local deployment
# (npm start, the built-in models), optionally rebuild a bundle, release it under a steady load of
# SST sentences, keep the report, stop everything. Exits with the release's code (0: promoted).
#
#   SENTIMENT_DATA_DIR=../shared/data tools/release-pipeline.sh models/sentiment/4.0.0 [out-dir]
#   SENTIMENT_DATA_DIR=../shared/data TRAIN=1.2.0 tools/release-pipeline.sh models/sentiment/1.2.0
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${1:?usage: tools/release-pipeline.sh <bundle folder> [report dir]}"
out="${2:-release-report}"
: "${SENTIMENT_DATA_DIR:?set SENTIMENT_DATA_DIR to the folder holding sst3/ (the offline gates evaluate on sst3/test.tsv)}"
export RUN_DIR="${RUN_DIR:-.run}"
mkdir -p "$out"

if [ -n "${TRAIN:-}" ]; then
  npm run --silent train -- --only "$TRAIN"
fi

npm start > "$out/npm-start.log" 2>&1 &
start_pid=$!
# The controller (not npm, which does not pass signals on) stops its router and replicas with it.
stop() {
  local controller
  controller=$(node -e 'try { console.log(require(process.argv[1]).pid) } catch {}' "$PWD/$RUN_DIR/controller.json")
  [ -n "$controller" ] && kill -TERM "$controller" 2> /dev/null || true
  wait "$start_pid" 2> /dev/null || true
}
trap stop EXIT
for _ in $(seq 1 180); do
  grep -q 'sentiment-serving is up' "$out/npm-start.log" && break
  kill -0 "$start_pid" 2> /dev/null || { cat "$out/npm-start.log"; exit 1; }
  sleep 1
done
grep -q 'sentiment-serving is up' "$out/npm-start.log" || { echo 'npm start did not come up within 180 s' >&2; exit 1; }

# Traffic for the shadow and the rollout's analysis: SST test sentences, 50 a second, bounded.
node --import tsx tools/sst-traffic.ts --rate 50 --seconds 1800 > "$out/traffic.log" 2>&1 &
traffic_pid=$!
code=0
npm run --silent release -- "$bundle" --report-dir "$out" || code=$?
kill -INT "$traffic_pid" 2> /dev/null || true
wait "$traffic_pid" 2> /dev/null || true
tail -n 1 "$out/traffic.log"
exit "$code"
