# Shared settings and helpers for fleet.sh. Sourced, not executed.
# shellcheck shell=bash disable=SC2034  # the settings below are used by the files that source this one

FLEET_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FLEET_SRC_DIR=$(dirname "$FLEET_LIB_DIR")
# The repo this script lives in, so a clone anywhere (CI) works without edits.
REPO_DIR=$(cd "$FLEET_SRC_DIR/../.." && pwd)

# Generated controller-side files (inventory, known_hosts, key); FLEET_DIR overrides.
FLEET_DIR=${FLEET_DIR:-$REPO_DIR/.fleet}
# Per-host state (overlay upper/work, console log, pid) and the rootfs cache.
FLEET_STATE_DIR=${FLEET_STATE_DIR:-/var/lib/vncplay-fleet}
FLEET_CACHE_DIR=${FLEET_CACHE_DIR:-/var/cache/vncplay-fleet}
FLEET_MIRROR=${FLEET_MIRROR:-http://deb.debian.org/debian}
FLEET_SUITE=bookworm
# Bump when the rootfs build steps change in a way the package list does not show.
ROOTFS_FORMAT=1
# Bump when personalize_host_root changes, so `up` rebuilds running hosts instead of reusing them.
HOST_FORMAT=2

BRIDGE=vpbr0
BRIDGE_ADDR=198.18.0.1
NET_PREFIX=198.18.0
LOGIN_USER=vncplay
BOOT_TIMEOUT=${FLEET_BOOT_TIMEOUT:-120}

log() { printf 'fleet: %s\n' "$*" >&2; }
die() { printf 'fleet: error: %s\n' "$*" >&2; exit 1; }

host_name() { printf 'h%d' "$1"; }
host_addr() { printf '%s.%d' "$NET_PREFIX" $((10 + $1)); }
host_netns() { printf 'vp-h%d' "$1"; }
# veth names: vp-h<i>-br sits on the bridge, vp-h<i>-in becomes eth0 inside the namespace.
host_veth_br() { printf 'vph%db' "$1"; }
host_dir() { printf '%s/h%d' "$FLEET_STATE_DIR" "$1"; }

# Time since the epoch in milliseconds, for reporting how long steps took.
now_ms() { date +%s%3N; }

require_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, mounts, nspawn)"; }

# Replaces this (sub)shell with "$@", every file descriptor above 2 closed first.
exec_without_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec ${fd}>&-"; fi
  done
  exec "$@"
}

# Is pid alive and is it the systemd-nspawn we started (not a recycled pid)?
pid_is_nspawn() {
  local pid=$1
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -q '^systemd-nspawn \|/systemd-nspawn '
}

# The first child of the nspawn process is the container's PID 1 (systemd).
container_init_pid() {
  local nspawn_pid=$1 child
  child=$(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 .) || return 1
  [[ -n $child ]] && printf '%s' "$child"
}

# Read the SSH identification line from addr:22; succeeds once sshd is really serving.
ssh_banner_ok() {
  local addr=$1 line=
  # sshd sends its identification line first and then waits for ours: read one line, not a byte count.
  line=$(timeout 2 bash -c "exec 3<>/dev/tcp/$addr/22 && IFS= read -r -t 2 line <&3 && printf '%s' \"\$line\"" 2>/dev/null) || return 1
  [[ $line == SSH-2.0-* ]]
}
