#!/usr/bin/env bash
# `npm test`: builds, starts a real Kafka broker on loopback unless
# KAFKA_BROKERS names one, runs the unit then the integration tests, and
# stops the broker it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

npm run build --silent

# Everything a run writes to temp (data folders, the broker) goes under one
# folder removed at the end, so runs do not pile up on the machine.
run_root=$(mktemp -d "${TMPDIR:-/tmp}/actorlog-test-run.XXXXXX")
started=""
cleanup() {
  if [ -n "$started" ]; then bash scripts/kafka.sh stop "$started" || true; fi
  rm -rf "$run_root"
}
trap cleanup EXIT
export TMPDIR=$run_root

if [ -z "${KAFKA_BROKERS:-}" ]; then
  started=$run_root/kafka
  export KAFKA_BROKERS
  KAFKA_BROKERS=$(bash scripts/kafka.sh start "$started")
  echo "test: Kafka broker at $KAFKA_BROKERS"
fi

# The browser tests drive Debian's Chromium, installed here when absent.
export CHROMIUM_PATH
CHROMIUM_PATH=$(bash scripts/chromium.sh)
echo "test: Chromium at $CHROMIUM_PATH"

# One file at a time: the embedded engine is one per process and the machine
# has two cores; each file gets its own process, data folder and topics.
# A test file whose tests are done exits even if something still holds its
# event loop, and the whole run is bounded, so a hang fails the run with its
# output instead of stalling it (the suite takes a few minutes).
timeout --kill-after=30s 40m \
  node --test --test-concurrency=1 --test-force-exit --test-timeout=600000 dist/test/unit/ dist/test/integration/
