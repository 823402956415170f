#!/usr/bin/env bash
# Installs what the agent needs to build, run and be tested (Debian packages, only those
# missing), then configures and builds it in ./build. Run as root. Used by run-agent.sh and
# run-tests.sh; safe to run again.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${SC_BUILD_DIR:-$top/build}

packages=(
  # build
  gcc make cmake pkg-config libc6-dev
  lxc-dev liblxc1 liblxc-common libglib2.0-dev libglib2.0-dev-bin libjson-glib-dev check
  libnl-3-dev libnl-route-3-dev libip4tc-dev   # network gateway
  # run
  lxc dbus-daemon dbus-bin dbus-system-bus-common libglib2.0-bin util-linux
  # tests
  python3 iproute2 weston wayland-utils pulseaudio pulseaudio-utils
  iptables iputils-ping busybox   # network gateway tests: iptables-legacy, ping (both kinds)
  # bench (bench/dbus-bench.c compares the D-Bus proxy with it)
  xdg-dbus-proxy
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs packages, and the agent manages LXC containers)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$top" -B "$build_dir" -DCMAKE_BUILD_TYPE="${SC_BUILD_TYPE:-RelWithDebInfo}" ${SC_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
