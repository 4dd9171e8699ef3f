#!/usr/bin/env bash
# A real Apache Kafka broker for actorlog's tests: one KRaft node (broker and
# controller) on loopback, installed from Maven Central into .kafka/.
#
#   scripts/kafka.sh install          fetch the jars (once)
#   scripts/kafka.sh start [DIR]      format and start a node; prints its bootstrap address
#   scripts/kafka.sh stop [DIR]       stop the node started in DIR
#
# DIR defaults to .kafka/run. Needs java (17+) and mvn on the PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home="$root/.kafka"
libs="$home/libs"
version=3.9.1

need() { command -v "$1" >/dev/null 2>&1 || { echo "kafka.sh: $1 is required" >&2; exit 1; }; }

install() {
  if [ -f "$libs/kafka_2.13-$version.jar" ]; then return 0; fi
  need java; need mvn
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central" >&2
  mkdir -p "$home"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.partial" >&2
  rm -rf "$libs" && mv "$libs.partial" "$libs"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local dir=${1:-$home/run}
  install
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    cat "$dir/bootstrap"; return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir/data" "$dir/logs"
  local port controller
  port=${KAFKA_PORT:-$(free_port)}
  controller=$(free_port)
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  local java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC "-Dkafka.logs.dir=$dir/logs" "-Dlog4j.configuration=file:$root/scripts/kafka/log4j.properties")
  local cluster
  cluster=$(java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid)
  java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  # Ready when the broker accepts connections on its listener.
  for _ in $(seq 1 120); do
    if node -e "require('net').connect($port,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null; then
      cat "$dir/bootstrap"; return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "kafka.sh: the broker exited; see $dir/logs" >&2; tail -n 30 "$dir/logs/stdout.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "kafka.sh: the broker did not open port $port in 60 s; see $dir/logs" >&2
  exit 1
}

stop() {
  local dir=${1:-$home/run}
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: scripts/kafka.sh install|start [DIR]|stop [DIR]" >&2; exit 2 ;;
esac
