#!/usr/bin/env bash
# The vncplay test fleet: real Debian hosts on this machine, each with its own network namespace,
# overlay root, systemd as PID 1 (systemd-nspawn --boot) and sshd. Needs root.
#
#   fleet.sh up N         make (or reuse) hosts h1..hN at 198.18.0.11.. and write .fleet/ files
#   fleet.sh down         stop and remove everything the fleet made (keeps the rootfs cache and the key)
#   fleet.sh status       one line per host
#   fleet.sh reset I      reboot host I from a clean upper layer (same ssh host keys)
#   fleet.sh stop I       power host I off (unreachable) until the next `up` or `reset I`
#   fleet.sh exec I -- CMD...   run CMD inside host I as root, bypassing ssh
#   fleet.sh up-light N   N light hosts (netns + sshd only) at 198.19.x.y for scale benchmarks
#   fleet.sh down-light   remove the light hosts
#
# Environment: FLEET_SLOT (1..9, default 1: a second fleet beside the first, same host names at 198.18.<S-1>.x,
# its files in <FLEET_DIR>/slot-<S>; `down` removes every slot), FLEET_DIR (default <repo>/.fleet),
# FLEET_STATE_DIR, FLEET_CACHE_DIR, FLEET_MIRROR, FLEET_BOOT_TIMEOUT (seconds, default 120).
set -euo pipefail

FLEET_SH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$FLEET_SH_DIR/lib/common.sh"
# shellcheck source=lib/rootfs.sh
source "$FLEET_SH_DIR/lib/rootfs.sh"
# shellcheck source=lib/host.sh
source "$FLEET_SH_DIR/lib/host.sh"
# shellcheck source=lib/outputs.sh
source "$FLEET_SH_DIR/lib/outputs.sh"
# shellcheck source=lib/light.sh
source "$FLEET_SH_DIR/lib/light.sh"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# Serializes changes to one slot's fleet: two test runs calling `up` at once must not build the same host twice.
# Slots have their own locks, so one fleet's reset never waits on the other's (the rootfs build has its own).
take_fleet_lock() {
  mkdir -p "$SLOT_STATE_DIR"
  exec 9>"$SLOT_STATE_DIR/.lock"
  flock 9
}

# Indices of every host of this slot that left a trace: state dir, namespace or bridge-side veth.
existing_host_indices() {
  {
    find "$SLOT_STATE_DIR" -maxdepth 1 -regex '.*/h[0-9]+' -printf '%f\n' 2>/dev/null | sed 's/^h//'
    find /run/netns -maxdepth 1 -regex ".*/vp$SLOT_TAG-h[0-9]+" -printf '%f\n' 2>/dev/null | sed "s/^vp$SLOT_TAG-h//"
    ip -o link show 2>/dev/null | sed -n "s/^[0-9]*: vp${SLOT_TAG}h\([0-9]*\)b[@:].*/\1/p"
  } | sort -nu
}

# Slots with a trace of a fleet: slot 1 always, others by their state folder, bridge or output folder.
existing_slots() {
  {
    echo 1
    find "$FLEET_STATE_DIR" -maxdepth 1 -regex '.*/s[2-9]' -printf '%f\n' 2>/dev/null | sed 's/^s//'
    ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: vpbr\([2-9]\)[@:].*/\1/p'
    find "$FLEET_BASE_DIR" -maxdepth 1 -regex '.*/slot-[2-9]' -printf '%f\n' 2>/dev/null | sed 's/^slot-//'
  } | sort -nu
}

# Reusable means: running, reachable, and built from the current rootfs, nspawn options and controller key.
host_is_reusable() {
  local i=$1 rootfs=$2 dir
  dir=$(host_dir "$i")
  host_is_healthy "$i" &&
    [[ $(cat "$dir/rootfs" 2>/dev/null) == "$rootfs" ]] &&
    [[ $(cat "$dir/nspawn.args" 2>/dev/null) == "$(nspawn_args "$i")" ]] &&
    [[ $(cat "$dir/format" 2>/dev/null) == "$HOST_FORMAT" ]] &&
    cmp -s "$FLEET_DIR/id_ed25519.pub" "$dir/root/home/$LOGIN_USER/.ssh/authorized_keys"
}

# Runs "$@" for each index in the background and fails if any of them failed.
for_each_parallel() {
  local fn=$1; shift
  local -a pids=()
  local i pid failed=0
  for i in "$@"; do "$fn" "$i" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}

rebuild_host() {
  local i=$1
  clean_host "$i"
  create_host "$i" "$ROOTFS"
  echo "$ROOTFS" >"$(host_dir "$i")/rootfs"
  echo "$HOST_FORMAT" >"$(host_dir "$i")/format"
}

cmd_up() {
  local n=${1:-3} start i
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 200 ]] || die "up: N must be 1..200 (got '$n')"
  require_root
  start=$(now_ms)
  take_fleet_lock
  ROOTFS=$(ensure_rootfs)
  ensure_controller_key
  ensure_bridge
  for i in $(existing_host_indices); do
    if (( i > n )); then log "removing h$i (fleet is now $n hosts)"; remove_host "$i"; fi
  done
  local -a todo=()
  for ((i = 1; i <= n; i++)); do
    if host_is_reusable "$i" "$ROOTFS"; then continue; fi
    todo+=("$i")
  done
  if ((${#todo[@]})); then
    log "booting ${todo[*]/#/h} (reusing $((n - ${#todo[@]})) healthy hosts)"
    for_each_parallel rebuild_host "${todo[@]}" || die "could not create every host"
    for_each_parallel wait_for_sshd "${todo[@]}" || die "some hosts did not boot"
  fi
  write_fleet_outputs "$n"
  prune_unused_rootfs "$ROOTFS"
  log "fleet of $n hosts up in $(( $(now_ms) - start )) ms; inventory: $FLEET_DIR/inventory.yml"
}

# Every slot goes down: a run that brought up two fleets leaves nothing behind with one `down`.
cmd_down() {
  require_root
  local -a all
  local slot
  for slot in $(existing_slots); do
    use_slot "$slot"
    take_fleet_lock
    mapfile -t all < <(existing_host_indices)
    if ((${#all[@]})); then
      for_each_parallel stop_host "${all[@]}" || true
      for_each_parallel remove_host "${all[@]}" || true
    fi
    remove_bridge
    remove_fleet_outputs
    if ((slot > 1)); then rm -rf --one-file-system "$FLEET_DIR"; fi
  done
  use_slot 1
  take_fleet_lock
  light_down
  log "fleet down"
}

cmd_status() {
  local i dir pid state slot
  for slot in $(existing_slots); do
    use_slot "$slot"
    for i in $(existing_host_indices); do
      dir=$(host_dir "$i")
      pid=$(cat "$dir/nspawn.pid" 2>/dev/null || echo -)
      if ! pid_is_nspawn "$pid"; then state=stopped
      elif ssh_banner_ok "$(host_addr "$i")"; then state=up
      else state=booting; fi
      printf 'slot %s\t%s\t%s\tnspawn=%s\t%s\n' "$slot" "$(host_name "$i")" "$(host_addr "$i")" "$pid" "$state"
    done
  done
  light_status
}

cmd_reset() {
  local i=${1:-} start
  [[ $i =~ ^[0-9]+$ && $i -ge 1 ]] || die "reset: which host? (fleet.sh reset 2)"
  require_root
  start=$(now_ms)
  take_fleet_lock
  [[ -d $(host_dir "$i") ]] || die "reset: h$i is not part of the fleet"
  ROOTFS=$(ensure_rootfs)
  ensure_bridge
  rebuild_host "$i"
  wait_for_sshd "$i"
  log "h$i reset in $(( $(now_ms) - start )) ms"
}

# Powers host I off (its address stops answering) but leaves it in the inventory; `up` or `reset` revives it.
cmd_stop() {
  local i=${1:-}
  [[ $i =~ ^[0-9]+$ && $i -ge 1 ]] || die "stop: which host? (fleet.sh stop 2)"
  require_root
  take_fleet_lock
  [[ -d $(host_dir "$i") ]] || die "stop: h$i is not part of the fleet"
  stop_host "$i"
  log "h$i stopped"
}

cmd_exec() {
  local i=${1:-} pid init
  [[ $i =~ ^[0-9]+$ ]] || die "exec: which host? (fleet.sh exec 1 -- systemctl is-system-running)"
  shift
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "exec: no command"
  pid=$(cat "$(host_dir "$i")/nspawn.pid" 2>/dev/null || true)
  pid_is_nspawn "$pid" || die "exec: h$i is not running"
  init=$(container_init_pid "$pid") || die "exec: h$i has no init process"
  exec nsenter -t "$init" -m -u -i -n -p -C -r -w -- \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset "$@" ;;
    stop) cmd_stop "$@" ;;
    exec) cmd_exec "$@" ;;
    up-light) require_root; use_slot 1; take_fleet_lock; ensure_controller_key; light_up "$@" ;;
    down-light) require_root; use_slot 1; take_fleet_lock; light_down ;;
    *) usage ;;
  esac
}

main "$@"
