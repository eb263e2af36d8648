#!/usr/bin/env bash
# Kafka peer for tests: one Apache Kafka broker in KRaft mode (broker+controller in
# one JVM), from Maven Central jars, data under .peers/kafka.
#
#   install  mvn copies kafka_2.13 + dependencies into .peers/kafka/libs (skipped when there)
#   start    formats the storage once, starts the broker, waits for its port (~3 s)
#   stop     stops the broker this script started (by its pid file)
#   kill     SIGKILLs it (a crash, for tests; quicker than a clean stop)
#   status   exit 0 when the broker answers on its port
#
# Port: INFERLOG_KAFKA_PORT (default 19092); the controller on INFERLOG_KAFKA_CONTROLLER_PORT
# (default: the next port). INFERLOG_KAFKA_INSTANCE names a second broker's folder
# (.peers/<instance>; the jars stay shared in .peers/kafka/libs): tests that stop and restart
# a broker use their own instance, never the shared one.
# INFERLOG_KAFKA_SSL_PORT + INFERLOG_KAFKA_SSL_PEM (a PEM file: unencrypted PKCS#8 key and
# certificate chain) add a TLS listener, for the sink's TLS tests.
PEER_NAME=kafka
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$PEERS_DIR/${INFERLOG_KAFKA_INSTANCE:-kafka}"
PORT="${INFERLOG_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${INFERLOG_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/kafka/pom.xml")"
LIBS="$PEERS_DIR/kafka/libs"
STAMP="$LIBS/.installed-$KAFKA_VERSION"
CP="$LIBS/*"
PIDFILE="$DIR/broker.pid"

install() {
  if [ -f "$STAMP" ]; then step "kafka $KAFKA_VERSION jars present in $LIBS"; return; fi
  command -v "$JAVA" >/dev/null || die "java not found (Java 17 expected)"
  command -v mvn >/dev/null || die "mvn not found (Maven expected)"
  step "downloading kafka_2.13 $KAFKA_VERSION and dependencies from Maven Central"
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  if ! mvn -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$PEERS_DIR/kafka-mvn.log" 2>&1; then
    tail -n 30 "$PEERS_DIR/kafka-mvn.log" >&2
    die "mvn could not fetch the Kafka jars (log: $PEERS_DIR/kafka-mvn.log)"
  fi
  touch "$STAMP"
  step "installed $(ls "$LIBS" | wc -l) jars"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if port_open "$PORT"; then
    if running; then step "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return; fi
    # Another checkout's broker (or one of your own) on the same port serves the tests as well.
    step "port $PORT already answers (not started from $DIR): using it; set INFERLOG_KAFKA_PORT for a separate broker"
    return
  fi
  [ -f "$STAMP" ] || install
  mkdir -p "$DIR/data"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA@|$DIR/data|g" \
    "$HERE/kafka/server.properties" >"$DIR/server.properties"
  if [ -n "${INFERLOG_KAFKA_SSL_PORT:-}" ]; then
    [ -f "${INFERLOG_KAFKA_SSL_PEM:-}" ] || die "INFERLOG_KAFKA_SSL_PORT needs INFERLOG_KAFKA_SSL_PEM (key + certificate PEM file)"
    local ssl=127.0.0.1:$INFERLOG_KAFKA_SSL_PORT
    sed -i -e "s|^listeners=\(.*\)|listeners=\1,SSL://$ssl|" -e "s|^advertised.listeners=\(.*\)|advertised.listeners=\1,SSL://$ssl|" \
      -e "s|^listener.security.protocol.map=\(.*\)|listener.security.protocol.map=\1,SSL:SSL|" "$DIR/server.properties"
    printf 'ssl.keystore.type=PEM\nssl.keystore.location=%s\n' "$INFERLOG_KAFKA_SSL_PEM" >>"$DIR/server.properties"
  fi
  local jvm=(-Xms256m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$HERE/kafka/log4j.properties" "-Dkafka.logs.file=$DIR/broker.log")
  if [ ! -f "$DIR/data/meta.properties" ]; then
    step "formatting KRaft storage in $DIR/data"
    local cluster_id
    cluster_id="$("$JAVA" "${jvm[@]}" -cp "$CP" kafka.tools.StorageTool random-uuid)"
    "$JAVA" "${jvm[@]}" -cp "$CP" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$DIR/server.properties" --ignore-formatted >/dev/null
  fi
  step "starting broker on 127.0.0.1:$PORT (log: $DIR/broker.log)"
  rm -f "$DIR/broker.log"
  # setsid: the broker outlives the shell (and the test run) that started it.
  setsid nohup "$JAVA" "${jvm[@]}" -cp "$CP" kafka.Kafka "$DIR/server.properties" \
    >"$DIR/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  # The port opens before the broker is unfenced and serves metadata: wait for its own
  # "started" line (the log is rewritten at each start).
  if ! wait_for 60 grep -q 'Kafka Server started' "$DIR/broker.log" || ! wait_for 10 port_open "$PORT"; then
    tail -n 20 "$DIR/stdout.log" "$DIR/broker.log" >&2 || true
    die "broker did not start within 60 s"
  fi
  running || die "broker exited; see $DIR/broker.log"
  step "ready on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
}

stop() {
  if ! running; then step "not running"; rm -f "$PIDFILE"; return; fi
  local pid
  pid="$(cat "$PIDFILE")"
  step "stopping broker pid $pid"
  kill "$pid"
  wait_for 30 bash -c "! kill -0 $pid" || { step "still alive after 30 s: SIGKILL"; kill -9 "$pid" || true; }
  rm -f "$PIDFILE"
  step "stopped"
}

kill_broker() {
  if ! running; then step "not running"; rm -f "$PIDFILE"; return; fi
  local pid
  pid="$(cat "$PIDFILE")"
  step "killing broker pid $pid"
  kill -9 "$pid"
  wait_for 10 bash -c "! kill -0 $pid" || true
  rm -f "$PIDFILE"
}

status() {
  if port_open "$PORT"; then step "running on 127.0.0.1:$PORT"; else step "not running"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  kill) kill_broker ;;
  status) status ;;
  *) usage ;;
esac
