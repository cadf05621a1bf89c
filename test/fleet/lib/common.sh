# Shared settings and helpers for fleet.sh. Sourced, not executed.
# shellcheck shell=bash disable=SC2034  # the settings below are used by the files that source this one

FLEET_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FLEET_SRC_DIR=$(dirname "$FLEET_LIB_DIR")
# The repo this script lives in, so a clone anywhere (CI) works without edits.
REPO_DIR=$(cd "$FLEET_SRC_DIR/../.." && pwd)

# Two or more fleets can run side by side, so that test files using hosts run two at a time: FLEET_SLOT picks one.
# Slot 1 is the fleet everyone knows (h1..hN at 198.18.0.11.., bridge vpbr0, netns vp-h<i>); slot S>1 has the same
# host names at 198.18.(S-1).11.., bridge vpbr<S>, netns vp<S>-h<i>, its state in <state dir>/s<S>, and its files in
# <FLEET_DIR>/slot-<S>. (vpbr1 and 198.19.0.0/16 are the light fleet's.)
FLEET_SLOT=${FLEET_SLOT:-1}
[[ $FLEET_SLOT =~ ^[1-9]$ ]] || { printf 'fleet: error: FLEET_SLOT must be 1..9 (got %s)\n' "$FLEET_SLOT" >&2; exit 1; }
# Generated controller-side files (inventory, known_hosts, key); FLEET_DIR overrides (it names slot 1's folder).
FLEET_BASE_DIR=${FLEET_DIR:-$REPO_DIR/.fleet}
# Per-host state (overlay upper/work, console log, pid) and the rootfs cache.
FLEET_STATE_DIR=${FLEET_STATE_DIR:-/var/lib/vncplay-fleet}
FLEET_CACHE_DIR=${FLEET_CACHE_DIR:-/var/cache/vncplay-fleet}
FLEET_MIRROR=${FLEET_MIRROR:-http://deb.debian.org/debian}
FLEET_SUITE=bookworm
# Bump when the rootfs build steps change in a way the package list does not show.
ROOTFS_FORMAT=1
# Bump when personalize_host_root changes, so `up` rebuilds running hosts instead of reusing them.
HOST_FORMAT=2

# Sets every per-slot name: the slot's bridge, addresses, output folder and state folder.
use_slot() {
  FLEET_SLOT=$1
  if ((FLEET_SLOT == 1)); then
    BRIDGE=vpbr0
    FLEET_DIR=$FLEET_BASE_DIR
    SLOT_STATE_DIR=$FLEET_STATE_DIR
    SLOT_TAG=
  else
    BRIDGE=vpbr$FLEET_SLOT
    FLEET_DIR=$FLEET_BASE_DIR/slot-$FLEET_SLOT
    SLOT_STATE_DIR=$FLEET_STATE_DIR/s$FLEET_SLOT
    SLOT_TAG=$FLEET_SLOT
  fi
  NET_PREFIX=198.18.$((FLEET_SLOT - 1))
  BRIDGE_ADDR=$NET_PREFIX.1
}
use_slot "$FLEET_SLOT"
LOGIN_USER=vncplay
BOOT_TIMEOUT=${FLEET_BOOT_TIMEOUT:-120}

log() { printf 'fleet: %s\n' "$*" >&2; }
die() { printf 'fleet: error: %s\n' "$*" >&2; exit 1; }

host_name() { printf 'h%d' "$1"; }
# The container's machine name: unique across slots (nspawn keeps per-machine state under /run by this name).
host_machine() { if [[ -n $SLOT_TAG ]]; then printf 's%s-h%d' "$SLOT_TAG" "$1"; else printf 'h%d' "$1"; fi; }
host_addr() { printf '%s.%d' "$NET_PREFIX" $((10 + $1)); }
host_netns() { printf 'vp%s-h%d' "$SLOT_TAG" "$1"; }
# veth names: vp<S>h<i>b sits on the bridge, vp<S>h<i>i becomes eth0 inside the namespace.
host_veth_br() { printf 'vp%sh%db' "$SLOT_TAG" "$1"; }
host_veth_in() { printf 'vp%sh%di' "$SLOT_TAG" "$1"; }
host_mac() { printf '02:76:70:12:%02x:%02x' $((FLEET_SLOT - 1)) "$1"; }
host_dir() { printf '%s/h%d' "$SLOT_STATE_DIR" "$1"; }

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

# Is pid a live process (not gone, not a zombie waiting to be reaped)?
pid_is_running() {
  local stat
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  # The state follows the command name, which is in parentheses and may hold spaces.
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
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
