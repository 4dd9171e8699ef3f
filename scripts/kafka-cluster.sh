#!/usr/bin/env bash
# A three-node Apache Kafka cluster on loopback for actorlog's failover test
# and for trying a replicated deployment on one machine: three KRaft nodes,
# each broker and controller, with replication factor 3 and
# min.insync.replicas 2 as defaults, so a topic created without settings
# survives one node lost and an acks=all write needs two copies. Same jars as
# scripts/kafka.sh (Maven Central, into .kafka/).
#
#   scripts/kafka-cluster.sh start DIR      format and start three nodes; prints the bootstrap list
#   scripts/kafka-cluster.sh stop DIR       stop every node started in DIR
#   scripts/kafka-cluster.sh kill DIR N     SIGKILL node N (1-3), as a crash would
#   scripts/kafka-cluster.sh restart DIR N  start node N again on its ports and data
#   scripts/kafka-cluster.sh leader DIR TOPIC PARTITION   print the node leading that partition
#
# Each JVM gets KAFKA_CLUSTER_HEAP (default 384m): the cluster must fit beside
# the tests on a small shared machine. Every wait is bounded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
libs="$root/.kafka/libs"
nodes=(1 2 3)
heap=${KAFKA_CLUSTER_HEAP:-384m}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

java_opts() {
  local dir=$1
  echo "-Xms64m -Xmx$heap -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dkafka.logs.dir=$dir/logs -Dlog4j.configuration=file:$root/scripts/kafka/log4j.properties"
}

port_open() {
  node -e "require('net').connect($1,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" 2>/dev/null
}

# How many brokers the cluster reports as registered, asked through the
# bootstrap list with kafkajs (the client the services use).
registered() {
  (cd "$root" && timeout 20 node --input-type=module -e "
    import kafkajs from 'kafkajs';
    const admin = new kafkajs.Kafka({ brokers: process.argv[1].split(','), logLevel: 0, retry: { retries: 0 } }).admin();
    try { await admin.connect(); console.log((await admin.describeCluster()).brokers.length); } catch { console.log(0); }
    await admin.disconnect().catch(() => {}); process.exit(0);
  " "$1" 2>/dev/null) || echo 0
}

launch() {
  local dir=$1 n=$2
  local nd="$dir/node-$n"
  # shellcheck disable=SC2046
  nohup java $(java_opts "$nd") -cp "$libs/*" kafka.Kafka "$nd/server.properties" >"$nd/logs/stdout.log" 2>&1 &
  echo $! >"$nd/pid"
}

# Waits (bounded) until node N's listener accepts and the cluster counts all
# three brokers again.
await_node() {
  local dir=$1 n=$2 secs=${3:-90}
  local nd="$dir/node-$n" port
  port=$(cat "$nd/port")
  local deadline=$((SECONDS + secs))
  until port_open "$port"; do
    kill -0 "$(cat "$nd/pid")" 2>/dev/null || { echo "kafka-cluster.sh: node $n exited; see $nd/logs" >&2; tail -n 30 "$nd/logs/stdout.log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "kafka-cluster.sh: node $n did not open port $port in ${secs} s; see $nd/logs" >&2; exit 1; }
    sleep 0.5
  done
  until [ "$(registered "$(cat "$dir/bootstrap")")" = 3 ]; do
    [ $SECONDS -lt $deadline ] || { echo "kafka-cluster.sh: the cluster did not count three brokers in ${secs} s; see $dir/node-*/logs" >&2; exit 1; }
    sleep 0.5
  done
}

start() {
  local dir=$1
  bash "$root/scripts/kafka.sh" install
  if [ -f "$dir/bootstrap" ] && [ "$(registered "$(cat "$dir/bootstrap")")" = 3 ]; then
    cat "$dir/bootstrap"; return 0
  fi
  stop "$dir"
  rm -rf "$dir" && mkdir -p "$dir"
  local voters="" bootstrap="" n
  declare -A port controller
  for n in "${nodes[@]}"; do
    port[$n]=$(free_port); controller[$n]=$(free_port)
    voters+="${voters:+,}$n@127.0.0.1:${controller[$n]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${port[$n]}"
  done
  local cluster
  # shellcheck disable=SC2046
  cluster=$(java $(java_opts "$dir") -cp "$libs/*" kafka.tools.StorageTool random-uuid)
  for n in "${nodes[@]}"; do
    local nd="$dir/node-$n"
    mkdir -p "$nd/data" "$nd/logs"
    echo "${port[$n]}" >"$nd/port"
    cat >"$nd/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${port[$n]},CONTROLLER://127.0.0.1:${controller[$n]}
advertised.listeners=PLAINTEXT://127.0.0.1:${port[$n]}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$nd/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
PROPS
  done
  # Formatting starts a JVM per node: run the three at once.
  local pids=()
  for n in "${nodes[@]}"; do
    # shellcheck disable=SC2046
    java $(java_opts "$dir/node-$n") -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster" -c "$dir/node-$n/server.properties" >"$dir/node-$n/logs/format.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "kafka-cluster.sh: formatting failed; see $dir/node-*/logs/format.log" >&2; exit 1; }; done
  echo "$bootstrap" >"$dir/bootstrap"
  for n in "${nodes[@]}"; do launch "$dir" "$n"; done
  for n in "${nodes[@]}"; do await_node "$dir" "$n" 120; done
  cat "$dir/bootstrap"
}

stop_node() {
  local nd="$1/node-$2"
  [ -f "$nd/pid" ] || return 0
  local pid
  pid=$(cat "$nd/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$nd/pid"
}

stop() {
  local dir=$1 n
  for n in "${nodes[@]}"; do stop_node "$dir" "$n"; done
}

kill_node() {
  local nd="$1/node-$2"
  [ -f "$nd/pid" ] || { echo "kafka-cluster.sh: node $2 is not running" >&2; exit 1; }
  local pid
  pid=$(cat "$nd/pid")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$nd/pid"
}

restart_node() {
  local dir=$1 n=$2
  [ -f "$dir/node-$n/server.properties" ] || { echo "kafka-cluster.sh: no node $n in $dir" >&2; exit 1; }
  if [ -f "$dir/node-$n/pid" ] && kill -0 "$(cat "$dir/node-$n/pid")" 2>/dev/null; then return 0; fi
  launch "$dir" "$n"
  await_node "$dir" "$n" 90
}

leader() {
  local dir=$1 topic=$2 partition=$3
  (cd "$root" && timeout 20 node --input-type=module -e "
    import kafkajs from 'kafkajs';
    const [brokers, topic, partition] = process.argv.slice(1);
    const admin = new kafkajs.Kafka({ brokers: brokers.split(','), logLevel: 0 }).admin();
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    console.log(topics[0].partitions.find((p) => p.partitionId === Number(partition)).leader);
    await admin.disconnect(); process.exit(0);
  " "$(cat "$dir/bootstrap")" "$topic" "$partition")
}

usage() { echo "usage: scripts/kafka-cluster.sh start DIR | stop DIR | kill DIR N | restart DIR N | leader DIR TOPIC PARTITION" >&2; exit 2; }
node_arg() { case "${1:-}" in 1|2|3) ;; *) usage ;; esac; }

case "${1:-}" in
  start) [ -n "${2:-}" ] || usage; start "$2" ;;
  stop) [ -n "${2:-}" ] || usage; stop "$2" ;;
  kill) node_arg "${3:-}"; kill_node "$2" "$3" ;;
  restart) node_arg "${3:-}"; restart_node "$2" "$3" ;;
  leader) [ -n "${4:-}" ] || usage; leader "$2" "$3" "$4" ;;
  *) usage ;;
esac
