#!/usr/bin/env bash
# Installs the Debian 12 packages greekwire needs to build, test and benchmark.
# Idempotent: checks each package first and calls apt-get only for the missing ones.
# Works as root or through sudo. Set GW_BOOTSTRAP_SKIP=1 to skip it entirely.
set -euo pipefail

[[ "${GW_BOOTSTRAP_SKIP:-0}" == "1" ]] && exit 0

packages=(
  # toolchain
  g++ cmake ninja-build make pkg-config git
  clang libclang-rt-14-dev        # clang build, libFuzzer, LeakSanitizer runtime
  clang-format
  # libraries
  libssl-dev zlib1g-dev libcli11-dev
  libsimdjson-dev libmsgpack-cxx-dev libprotobuf-dev protobuf-compiler  # gateway encodings
  libsqlite3-dev libtomlplusplus-dev libfmt-dev                         # accounts, config
  libnats-dev                     # scale-out: the NATS C client (JetStream)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libquantlib0-dev  # QuantLib: pricing test oracle
  python3 python3-websockets      # independent peer: Python websockets
  python3-msgpack python3-protobuf  # decode the gateway's binary encodings independently
  nats-server                     # scale-out tests: NATS with JetStream (tests/scale)
  nodejs node-ws                  # independent peer: Node ws
  chromium                        # a real browser as a peer (driven by playwright-core)
  npm
  libboost-dev libboost-system-dev libwebsocketpp-dev libwebsockets-dev  # benchmark peers
  util-linux procps               # taskset, pkill
)

missing=()
for pkg in "${packages[@]}"; do
  # dpkg-query fails for unknown packages and prints "install ok installed" for present ones.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

# nodejs may come from another repository (NodeSource) under the same name; a working
# `node` binary is what matters.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs/}")
fi
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm/}")
fi

want=()
for pkg in "${missing[@]}"; do [[ -n "$pkg" ]] && want+=("$pkg"); done
if ((${#want[@]} == 0)); then
  echo "bootstrap: all packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "bootstrap: need root or sudo to install: ${want[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "bootstrap: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}"
