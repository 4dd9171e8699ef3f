#!/usr/bin/env bash
# `npm test`: builds, starts a real Kafka broker on loopback unless
# KAFKA_BROKERS names one, runs the unit then the integration tests, and
# stops the broker it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

npm run build --silent

started=""
if [ -z "${KAFKA_BROKERS:-}" ]; then
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/actorlog-kafka.XXXXXX")
  export KAFKA_BROKERS
  KAFKA_BROKERS=$(bash scripts/kafka.sh start "$run_dir")
  started=$run_dir
  trap 'bash scripts/kafka.sh stop "$started"; rm -rf "$started"' EXIT
  echo "test: Kafka broker at $KAFKA_BROKERS"
fi

# One file at a time: the embedded engine is one per process and the machine
# has two cores; each file gets its own process, data folder and topics.
node --test --test-concurrency=1 dist/test/unit/ dist/test/integration/
