# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Shared settings and helpers for bin/start, bin/wait and bin/stop (sourced, not run).
#
# Environment (all optional):
#   CASSANDRA_DATA          data, logs, rendered config, pid file  (default: <repo>/cassandra/data)
#   CASSANDRA_CQL_PORT      native transport (CQL) port             (default: 9042)
#   CASSANDRA_STORAGE_PORT  internode (gossip) port                  (default: 7000)
#   CASSANDRA_JMX_PORT      local-only JMX port                      (default: 7199)
#   CASSANDRA_HEAP          -Xms/-Xmx of the Cassandra JVM           (default: 1g)
#   CASSANDRA_WAIT_SECONDS  how long bin/wait waits for readiness    (default: 120)
#   CASSANDRA_STOP_SECONDS  how long bin/stop waits after SIGTERM    (default: 30)
#   CASSANDRA_ADDRESS       listen, RPC and CQL address (127.0.0.0/8) (default: 127.0.0.1)
#   CASSANDRA_SEEDS         seed list address:storage_port,...       (default: this node)
#   JAVA_HOME               JDK 17 to run Cassandra with             (default: java on PATH)

CASSANDRA_HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CASSANDRA_BIN_DIR="$CASSANDRA_HOME_DIR/bin"
CASSANDRA_CONF_DIR="$CASSANDRA_HOME_DIR/conf"
CASSANDRA_LIB_DIR="$CASSANDRA_HOME_DIR/lib"

CASSANDRA_DATA="${CASSANDRA_DATA:-$CASSANDRA_HOME_DIR/data}"
case "$CASSANDRA_DATA" in
  /*) ;;
  *) CASSANDRA_DATA="$PWD/$CASSANDRA_DATA" ;;   # relative to the caller's directory
esac
CASSANDRA_CQL_PORT="${CASSANDRA_CQL_PORT:-9042}"
CASSANDRA_STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
CASSANDRA_JMX_PORT="${CASSANDRA_JMX_PORT:-7199}"
CASSANDRA_HEAP="${CASSANDRA_HEAP:-1g}"
CASSANDRA_WAIT_SECONDS="${CASSANDRA_WAIT_SECONDS:-120}"
CASSANDRA_STOP_SECONDS="${CASSANDRA_STOP_SECONDS:-30}"
CASSANDRA_ADDRESS="${CASSANDRA_ADDRESS:-127.0.0.1}"
# loopback only: a ring on one machine uses 127.0.0.1, 127.0.0.2, ... (Linux routes all of 127/8 to lo)
CASSANDRA_SEEDS="${CASSANDRA_SEEDS:-$CASSANDRA_ADDRESS:$CASSANDRA_STORAGE_PORT}"

CASSANDRA_PID_FILE="$CASSANDRA_DATA/cassandra.pid"
CASSANDRA_LOG_DIR="$CASSANDRA_DATA/logs"
CASSANDRA_SYSTEM_LOG="$CASSANDRA_LOG_DIR/system.log"
CASSANDRA_STDOUT_LOG="$CASSANDRA_LOG_DIR/stdout.log"

# Logged once by CassandraDaemon (INFO) after start() returned, i.e. after the
# native transport is bound: "... CassandraDaemon - Startup complete".
CASSANDRA_READY_LINE="Startup complete"

say() { echo "[cassandra] $*"; }
die() { echo "[cassandra] ERROR: $*" >&2; exit 1; }

for _v in CASSANDRA_CQL_PORT CASSANDRA_STORAGE_PORT CASSANDRA_JMX_PORT CASSANDRA_WAIT_SECONDS CASSANDRA_STOP_SECONDS; do
  [[ ${!_v} =~ ^[0-9]+$ ]] || die "$_v must be a number, got '${!_v}'"
done
[[ $CASSANDRA_HEAP =~ ^[0-9]+[kKmMgG]?$ ]] || die "CASSANDRA_HEAP must look like 512m or 1g, got '$CASSANDRA_HEAP'"
unset _v
[[ $CASSANDRA_ADDRESS =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "CASSANDRA_ADDRESS must be a 127.x.y.z address, got '$CASSANDRA_ADDRESS'"

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/$CASSANDRA_ADDRESS/$1") 2>/dev/null
}

# True if a CQL server answers on 127.0.0.1:$1: sends a native-protocol v4 OPTIONS
# request and expects a SUPPORTED response. Unlike a bare TCP probe this does not make
# Cassandra log a protocol exception.
cql_ping() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # frame header: version 0x04 (request), flags 0, stream 0, opcode 0x05 OPTIONS, body length 0
    printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
    hdr=$(od -An -tx1 -N9 <&3 | tr -d " \n")
    exec 3>&- 3<&-
    # response header: version 0x84, flags, stream (2 bytes), opcode 0x06 SUPPORTED
    [[ $hdr == 84??????06* ]]
  ' "$CASSANDRA_ADDRESS" "$1" 2>/dev/null
}

# True if pid $1 exists and is not a zombie.
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  [[ -n $stat && $stat != Z* ]]
}

# Prints the pid from the pid file if that process is alive and is a Cassandra daemon.
running_pid() {
  [[ -f $CASSANDRA_PID_FILE ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$CASSANDRA_PID_FILE")"
  [[ -n $pid ]] && pid_alive "$pid" || return 1
  ps -o args= -p "$pid" 2>/dev/null | grep -q 'org.apache.cassandra.service.CassandraDaemon' || return 1
  echo "$pid"
}

show_logs() {
  if [[ -s $CASSANDRA_SYSTEM_LOG ]]; then
    echo "----- last 50 lines of $CASSANDRA_SYSTEM_LOG -----" >&2
    tail -n 50 "$CASSANDRA_SYSTEM_LOG" >&2
  fi
  if [[ -s $CASSANDRA_STDOUT_LOG ]]; then
    echo "----- last 50 lines of $CASSANDRA_STDOUT_LOG -----" >&2
    tail -n 50 "$CASSANDRA_STDOUT_LOG" >&2
  fi
  if [[ ! -s $CASSANDRA_SYSTEM_LOG && ! -s $CASSANDRA_STDOUT_LOG ]]; then
    echo "(no log output in $CASSANDRA_LOG_DIR)" >&2
  fi
  return 0
}
