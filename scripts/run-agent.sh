#!/usr/bin/env bash
# Sets up (packages, build) and runs the agent in the foreground on the system bus, with the
# example service manifests of this tree. Starts a system bus with the agent's policy when
# none is running, and installs the policy into a running one. Run as root; stop with Ctrl-C
# (the agent destroys its containers and exits). Extra arguments go to the agent.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${SC_BUILD_DIR:-$top/build}
policy_src="$top/dbus/com.pelagicore.SoftwareContainerAgent.conf"
policy_dst=/etc/dbus-1/system.d/com.pelagicore.SoftwareContainerAgent.conf
socket=/run/dbus/system_bus_socket

"$top/scripts/setup.sh"

bus_running() {
  [ -S "$socket" ] && gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.GetId >/dev/null 2>&1
}

mkdir -p "$(dirname "$policy_dst")"
if ! cmp -s "$policy_src" "$policy_dst"; then
  install -m 0644 "$policy_src" "$policy_dst"
  if bus_running; then
    gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.ReloadConfig >/dev/null
  fi
fi
if ! bus_running; then
  echo "run-agent.sh: no system bus is running; starting one"
  mkdir -p /run/dbus
  rm -f "$socket"
  # the daemon outlives this script: it must not keep any descriptor the caller gave us
  # (a lock, a pipe) open for its whole life
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec dbus-daemon --system --fork
  )
  for _ in $(seq 50); do bus_running && break; sleep 0.1; done
fi

export LXC_MEMFD_REXEC=1
exec "$build_dir/bin/softwarecontainer-agent" \
  -m "$top/service-manifests/service-manifest.d" \
  -d "$top/service-manifests/service-manifest.default.d" "$@"
