#!/usr/bin/env bash
# Echo-server comparison: greekwire vs Boost.Beast vs websocketpp (and libwebsockets
# when its peer was built), same load generator (`greekwire bench echo`), same run,
# servers interleaved.
#
# For each round (R rounds) and each server (order rotated every round so drift
# and noise hit all servers alike): start the server pinned to SERVER_CPU, wait
# for its "listening on ws://127.0.0.1:PORT" line, run the load generator pinned
# to CLIENT_CPU with --json, parse the JSON, stop the server. Then print medians
# per server and the ratios greekwire/beast and greekwire/websocketpp (and /lws),
# with each side's CPU use so a load-generator-bound or disturbed run shows.
#
# Usage: bench/echo_compare.sh [options]
#   -r, --rounds N        rounds (env R or ROUNDS; default 5)
#   -d, --duration S      seconds per load run (env DURATION; default 10)
#   -c, --connections N   (env CONNECTIONS; default 100)
#   -s, --size BYTES      message size (env SIZE; default 512)
#   -p, --pipeline N      messages in flight per connection (env PIPELINE; default 1)
#       --servers LIST    comma-separated subset of greekwire,beast,websocketpp,lws,
#                         greekwire-tls (env SERVERS; default the first four; a missing binary
#                         is skipped). greekwire-tls is greekwire over TLS (wss://, a test PKI
#                         made with tests/tls/make_certs.sh); the summary then gives its ratio to
#                         cleartext greekwire, per second and per server CPU-second.
#   -b, --build-dir DIR   (env BUILD_DIR; default build/release)
#       --threads N       server threads (all servers) (env THREADS; default 1)
#       --deflate         permessage-deflate on: the load generator offers it, greekwire and
#                         Beast accept it (env DEFLATE=1; other peers are skipped)
#       --out DIR         keep raw per-run outputs there (env OUT_DIR; default: temp dir, removed)
#   -h, --help
# Other env: SERVER_CPU (0), CLIENT_CPU (1), BASE_PORT (19200),
#   LOADGEN (default "$BUILD_DIR/greekwire"), STRICT=1 (a missing server binary
#   is an error instead of a skipped server).
#
# Exit status: 0 all good; 1 a server failed to start/crashed or a load run
# failed; 2 usage error or nothing to run.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ROUNDS=${R:-${ROUNDS:-5}}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-100}
SIZE=${SIZE:-512}
PIPELINE=${PIPELINE:-1}
SERVERS=${SERVERS:-greekwire,beast,websocketpp,lws}
BUILD_DIR=${BUILD_DIR:-build/release}
THREADS=${THREADS:-1}
OUT_DIR=${OUT_DIR:-}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-19200}
STRICT=${STRICT:-0}
DEFLATE=${DEFLATE:-0}

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "echo_compare: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    -r|--rounds) ROUNDS=$2; shift 2 ;;
    -d|--duration) DURATION=$2; shift 2 ;;
    -c|--connections) CONNECTIONS=$2; shift 2 ;;
    -s|--size) SIZE=$2; shift 2 ;;
    -p|--pipeline) PIPELINE=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --deflate) DEFLATE=1; shift ;;
    -b|--build-dir) BUILD_DIR=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT_DIR=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
for v in ROUNDS DURATION CONNECTIONS SIZE PIPELINE THREADS BASE_PORT; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] || die "$v must be a positive integer (got '${!v}')"
done

[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
LOADGEN=${LOADGEN:-$BUILD_DIR/greekwire}

# ---------------------------------------------------------------- helpers ----
server_bin() {
  case $1 in
    greekwire|greekwire-tls) echo "$BUILD_DIR/greekwire" ;;
    beast) echo "$BUILD_DIR/bench/peers/beast_echo" ;;
    websocketpp) echo "$BUILD_DIR/bench/peers/websocketpp_echo" ;;
    lws) echo "$BUILD_DIR/bench/peers/lws_echo" ;;
    *) return 1 ;;
  esac
}
# server_cmd NAME PORT -> command line (as an array in SERVER_CMD)
server_cmd() {
  local bin; bin=$(server_bin "$1")
  case $1 in
    greekwire) SERVER_CMD=("$bin" echo --listen "127.0.0.1:$2" --threads "$THREADS") ;;
    greekwire-tls) SERVER_CMD=("$bin" echo --listen "127.0.0.1:$2" --threads "$THREADS"
                               --tls-cert "$OUT_DIR/pki/server.pem" --tls-key "$OUT_DIR/pki/server.key") ;;
    *) SERVER_CMD=("$bin" "$2" "$THREADS") ;;
  esac
  if ((DEFLATE)); then
    case $1 in
      greekwire|greekwire-tls) SERVER_CMD+=(--deflate) ;;
      beast) SERVER_CMD=(env GW_PEER_DEFLATE=1 "${SERVER_CMD[@]}") ;;
    esac
  fi
}

PIN_SERVER=(); PIN_CLIENT=()
ncpu=$(nproc 2>/dev/null || echo 1)
if command -v taskset >/dev/null && ((SERVER_CPU < ncpu && CLIENT_CPU < ncpu)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU"); PIN_CLIENT=(taskset -c "$CLIENT_CPU")
else
  echo "echo_compare: warning: taskset missing or CPUs $SERVER_CPU/$CLIENT_CPU not present: not pinning" >&2
fi

if command -v jq >/dev/null; then
  parse_json() {  # file -> "mps p50 p99 p999 messages errors" (one line) or failure
    jq -er 'select(type=="object") | [.messages_per_second, .p50_us, .p99_us, .p999_us, .messages, .errors]
            | map(if . == null then "nan" else tostring end) | join(" ")' "$1" 2>/dev/null | tail -n1 | grep .
  }
else
  parse_json() {
    python3 -c '
import json, sys
obj = None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        try: obj = json.loads(line)
        except ValueError: pass
if obj is None:
    obj = json.load(open(sys.argv[1]))
print(" ".join(str(obj.get(k, "nan")) for k in
      ("messages_per_second", "p50_us", "p99_us", "p999_us", "messages", "errors")))
' "$1" 2>/dev/null
  }
fi

SERVER_PID=
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "echo_compare: warning: server pid $SERVER_PID ignored SIGTERM; killing" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

KEEP_OUT=1
if [[ -z $OUT_DIR ]]; then OUT_DIR=$(mktemp -d /tmp/echo_compare.XXXXXX); KEEP_OUT=0; fi
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
cleanup() {
  stop_server
  [[ -n ${LOADGEN_PID:-} ]] && kill -TERM "$LOADGEN_PID" 2>/dev/null
  ((KEEP_OUT)) || rm -rf "$OUT_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME PORT TAG -> 0 when the ready line was seen
start_server() {
  local name=$1 port=$2 tag=$3
  server_cmd "$name" "$port"
  "${PIN_SERVER[@]}" "${SERVER_CMD[@]}" >"$OUT_DIR/$tag.server.out" 2>"$OUT_DIR/$tag.server.err" </dev/null &
  SERVER_PID=$!
  local ready="listening on ws://127.0.0.1:$port" i
  [[ $name == *-tls ]] && ready="listening on wss://127.0.0.1:$port"
  for ((i = 0; i < 100; i++)); do
    grep -qF "$ready" "$OUT_DIR/$tag.server.out" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "echo_compare: ERROR: $name did not print '$ready' (cmd: ${SERVER_CMD[*]})" >&2
  sed 's/^/  | /' "$OUT_DIR/$tag.server.out" "$OUT_DIR/$tag.server.err" >&2
  stop_server
  return 1
}

# ------------------------------------------------------------------ setup ----
LOADGEN_EXTRA=()
if ((DEFLATE)); then
  LOADGEN_EXTRA=(--deflate)
  [[ $SERVERS == greekwire,beast,websocketpp,lws ]] && SERVERS=greekwire,beast
fi
IFS=, read -r -a WANT <<<"$SERVERS"
if [[ ,$SERVERS, == *,greekwire-tls,* ]]; then
  bash "$ROOT/tests/tls/make_certs.sh" "$OUT_DIR/pki" >/dev/null || die "cannot make the test PKI"
fi
ACTIVE=()
for s in "${WANT[@]}"; do
  bin=$(server_bin "$s") || die "unknown server '$s' (known: greekwire, beast, websocketpp, lws, greekwire-tls)"
  if [[ ! -x $bin ]]; then
    ((STRICT)) && die "$s: binary $bin not found"
    echo "echo_compare: warning: $s: $bin not found; skipping it" >&2
    continue
  fi
  ACTIVE+=("$s")
done
((${#ACTIVE[@]})) || die "no server binary found under $BUILD_DIR"
[[ -x $LOADGEN ]] || die "load generator $LOADGEN not found (build greekwire, or set LOADGEN)"

RESULTS=$OUT_DIR/results.tsv   # round server mps p50 p99 p999 messages errors srv_cpu% cli_cpu%
: >"$RESULTS"
FAILED=0
total=$((ROUNDS * ${#ACTIVE[@]}))
echo "echo_compare: ${ACTIVE[*]} | rounds=$ROUNDS duration=${DURATION}s connections=$CONNECTIONS" \
     "size=$SIZE pipeline=$PIPELINE | server cpu $SERVER_CPU, client cpu $CLIENT_CPU" \
     "| ~$((total * (DURATION + 3)))s" >&2

# CPU accounting, to see who is the bottleneck: a server at ~100% of its core is
# being measured; a load generator at ~100% while the server is not means the
# load generator limits the result. Both well below 100% means waiting, or
# other processes took the CPUs.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
proc_cpu_s() {  # pid -> user+system CPU seconds (all threads)
  local stat rest
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || { echo 0; return; }
  rest=${stat##*) }   # fields after "(comm)": state is field 3
  awk -v t="$CLK_TCK" '{ printf "%.3f\n", ($12 + $13) / t }' <<<"$rest"
}
children_cpu_s() {  # -> CHILD_CPU: user+system CPU seconds of this shell's reaped children
  times >"$OUT_DIR/times"  # in this shell: in a $(subshell) the counters start at zero
  CHILD_CPU=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } print n }' "$OUT_DIR/times")
}

# Other work on the machine (a compile, a fuzzer on a 2-core box) dominates the
# results: sample the CPUs' idle share for a second before starting.
busy_warning() {
  local a b
  read -r -a a </proc/stat 2>/dev/null || return 0
  sleep 1
  read -r -a b </proc/stat 2>/dev/null || return 0
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  ((total > 0)) || return 0
  local idle=$(((b[4] + b[5] - a[4] - a[5]) * 100 / total))
  ((idle >= 90)) ||
    echo "echo_compare: warning: CPUs only ${idle}% idle $1: other processes compete; results will be noisy" >&2
  return 0
}
busy_warning "before the runs"

# ------------------------------------------------------------------- runs ----
run=0
for ((r = 0; r < ROUNDS; r++)); do
  n=${#ACTIVE[@]}
  for ((k = 0; k < n; k++)); do
    idx=$(((k + r) % n)); name=${ACTIVE[$idx]}   # rotate the order every round
    port=$((BASE_PORT + (r % 50) * 4 + idx))
    tag="r$((r + 1)).$name"
    run=$((run + 1))
    if ! start_server "$name" "$port" "$tag"; then
      echo "echo_compare: aborting: $name failed to start" >&2
      exit 1
    fi
    t0=$EPOCHREALTIME; s0=$(proc_cpu_s "$SERVER_PID"); children_cpu_s; c0=$CHILD_CPU
    url="ws://127.0.0.1:$port"; tls_args=()
    [[ $name == *-tls ]] && { url="wss://localhost:$port"; tls_args=(--tls-ca "$OUT_DIR/pki/ca.pem"); }
    "${PIN_CLIENT[@]}" "$LOADGEN" bench echo "$url" "${tls_args[@]}" --connections "$CONNECTIONS" \
      --size "$SIZE" --duration "$DURATION" --pipeline "$PIPELINE" --json "${LOADGEN_EXTRA[@]}" \
      >"$OUT_DIR/$tag.load.json" 2>"$OUT_DIR/$tag.load.err" </dev/null &
    LOADGEN_PID=$!
    wait "$LOADGEN_PID"; lrc=$?
    LOADGEN_PID=
    t1=$EPOCHREALTIME; s1=$(proc_cpu_s "$SERVER_PID"); children_cpu_s; c1=$CHILD_CPU
    read -r srv_cpu cli_cpu < <(awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" \
      'BEGIN { w = t1 - t0; if (w <= 0) w = 1; printf "%.0f %.0f\n", 100 * (s1 - s0) / w, 100 * (c1 - c0) / w }')
    alive=1; kill -0 "$SERVER_PID" 2>/dev/null || alive=0
    stop_server
    if ((!alive)); then
      echo "echo_compare: ERROR: $name (round $((r + 1))) died during the load run" >&2
      sed 's/^/  | /' "$OUT_DIR/$tag.server.err" >&2
      FAILED=1
    fi
    if ! vals=$(parse_json "$OUT_DIR/$tag.load.json"); then
      echo "echo_compare: ERROR: load run against $name (round $((r + 1))) gave no JSON (exit $lrc)" >&2
      sed 's/^/  | /' "$OUT_DIR/$tag.load.json" "$OUT_DIR/$tag.load.err" | head -20 >&2
      FAILED=1
      continue
    fi
    read -r mps p50 p99 p999 msgs errs <<<"$vals"
    ((lrc == 0)) || { echo "echo_compare: warning: load generator exited $lrc against $name" >&2; FAILED=1; }
    [[ $errs == 0 || $errs == 0.0 ]] || echo "echo_compare: warning: $name round $((r + 1)): $errs errors" >&2
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$((r + 1))" "$name" "$mps" "$p50" "$p99" "$p999" "$msgs" \
      "$errs" "$srv_cpu" "$cli_cpu" >>"$RESULTS"
    printf 'echo_compare: [%d/%d] round %d %-12s %10.0f msg/s  p50 %s us  p99 %s us  errors %s  cpu server %s%% client %s%%\n' \
      "$run" "$total" "$((r + 1))" "$name" "$mps" "$p50" "$p99" "$errs" "$srv_cpu" "$cli_cpu" >&2
    sleep 1   # let sockets in TIME_WAIT / the kernel settle between runs
  done
done

# ---------------------------------------------------------------- summary ----
median() {  # stdin: numbers, one per line
  sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "nan";
    else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
col() { awk -F'\t' -v s="$1" -v c="$2" '$2 == s { print $c }' "$RESULTS"; }

declare -A MED
NOT_BOUND=()
echo
printf '%-12s %4s %13s %11s %11s %9s %9s %9s %7s %8s %8s\n' server runs "median msg/s" "min msg/s" "max msg/s" \
  "p50 us" "p99 us" "p99.9 us" errors "srv cpu%" "cli cpu%"
for s in "${ACTIVE[@]}"; do
  runs=$(col "$s" 3 | wc -l)
  MED[$s]=$(col "$s" 3 | median)
  lo=$(col "$s" 3 | sort -g | head -n1); hi=$(col "$s" 3 | sort -g | tail -n1)
  errs=$(col "$s" 8 | awk '{t += $1} END {print t + 0}')
  printf '%-12s %4d %13.0f %11.0f %11.0f %9.1f %9.1f %9.1f %7s %8.0f %8.0f\n' "$s" "$runs" "${MED[$s]}" "${lo:-nan}" "${hi:-nan}" \
    "$(col "$s" 4 | median)" "$(col "$s" 5 | median)" "$(col "$s" 6 | median)" "$errs" \
    "$(col "$s" 9 | median)" "$(col "$s" 10 | median)"
done
for s in "${ACTIVE[@]}"; do
  awk -v sv="$(col "$s" 9 | median)" -v cl="$(col "$s" 10 | median)" 'BEGIN { exit !(sv < 80 && cl < 80) }' &&
    NOT_BOUND+=("$s")
  awk -v sv="$(col "$s" 9 | median)" -v cl="$(col "$s" 10 | median)" 'BEGIN { exit !(cl >= 90 && sv < 90) }' &&
    echo "echo_compare: warning: $s: the load generator was the bottleneck (client cpu >= 90%, server below)" >&2
done
if ((${#NOT_BOUND[@]})); then
  echo "echo_compare: warning: ${NOT_BOUND[*]}: neither server nor load generator was CPU-bound" \
       "(median cpu < 80%): other processes took the CPUs, or a server stalls; treat those numbers with care" >&2
fi
echo
if [[ -n ${MED[greekwire]:-} && -n ${MED[greekwire-tls]:-} ]]; then
  awk -v a="${MED[greekwire-tls]}" -v b="${MED[greekwire]}" \
      -v sa="$(col greekwire-tls 9 | median)" -v sb="$(col greekwire 9 | median)" 'BEGIN {
    printf "ratio greekwire-tls/greekwire %6.2fx (median msg/s)", a / b;
    if (sa > 0 && sb > 0) printf ", %.2fx per server CPU-second", (a / sa) / (b / sb);
    printf "\n" }'
fi
for peer in beast websocketpp lws; do
  if [[ -n ${MED[greekwire]:-} && -n ${MED[$peer]:-} ]]; then
    awk -v a="${MED[greekwire]}" -v b="${MED[$peer]}" -v p="$peer" 'BEGIN {
      if (b > 0 && a == a && b == b) printf "ratio greekwire/%-12s %6.2fx (median msg/s)%s\n", p, a / b,
        (p == "beast" ? (a / b >= 2 ? "  [>= 2x: OK]" : "  [< 2x target]") : "");
      else printf "ratio greekwire/%-12s n/a\n", p }'
  fi
done
echo "(cpu%: share of one core over the load run incl. warm-up; server ~100% = server-bound," \
     "client ~100% with server below = load-generator-bound)"
((KEEP_OUT)) && echo "raw results: $RESULTS"
exit "$FAILED"
