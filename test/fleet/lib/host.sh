# One fleet host: network namespace + veth, overlay root, identity, systemd-nspawn boot, teardown.
# shellcheck shell=bash

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $BRIDGE_ADDR/24"; then
    ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
}

remove_bridge() {
  ip link del "$BRIDGE" 2>/dev/null || true
}

# netns vp<S>-h<i> with eth0 = 198.18.<S-1>.(10+i)/24 and a default route to the bridge, inside the namespace only.
setup_host_network() {
  local i=$1 ns veth_br veth_in
  ns=$(host_netns "$i"); veth_br=$(host_veth_br "$i"); veth_in=$(host_veth_in "$i")
  ip netns add "$ns"
  ip link add "$veth_br" type veth peer name "$veth_in"
  ip link set "$veth_in" netns "$ns"
  # A fixed MAC per address: after a reset, neighbours' ARP caches (REACHABLE for up to 45 s) stay right,
  # otherwise connections to the rebuilt host hang until those entries expire.
  ip -n "$ns" link set "$veth_in" name eth0 address "$(host_mac "$i")"
  ip -n "$ns" addr add "$(host_addr "$i")/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$BRIDGE_ADDR"
  ip link set "$veth_br" master "$BRIDGE"
  ip link set "$veth_br" up
}

teardown_host_network() {
  local i=$1
  ip link del "$(host_veth_br "$i")" 2>/dev/null || true
  ip netns del "$(host_netns "$i")" 2>/dev/null || true
}

# Per-host ssh host keys live beside the overlay so `reset` keeps the host's identity (and known_hosts valid).
ensure_host_keys() {
  local i=$1 keys t
  keys=$(host_dir "$i")/keys
  mkdir -p "$keys"
  for t in ed25519 ecdsa rsa; do
    [[ -f $keys/ssh_host_${t}_key ]] && continue
    ssh-keygen -q -t "$t" -N '' -C "root@$(host_name "$i")" -f "$keys/ssh_host_${t}_key"
  done
}

mount_host_root() {
  local i=$1 rootfs=$2 dir
  dir=$(host_dir "$i")
  mkdir -p "$dir/upper" "$dir/work" "$dir/root"
  mount -t overlay "vncplay-$(host_machine "$i")" \
    -o "lowerdir=$rootfs,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
}

# Identity and test access, written into the upper layer through the merged view.
personalize_host_root() {
  local i=$1 dir root name uid
  dir=$(host_dir "$i"); root=$dir/root; name=$(host_name "$i")
  rm -f "$root/etc/machine-id"
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$root/etc/hosts"
  install -m 0600 "$dir"/keys/ssh_host_*_key "$root/etc/ssh/"
  install -m 0644 "$dir"/keys/ssh_host_*_key.pub "$root/etc/ssh/"
  cat >"$root/etc/ssh/sshd_config.d/vncplay-fleet.conf" <<'CONF'
# Test fleet: key login only, no reverse DNS (no resolver here), room for many parallel channels.
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxSessions 100
MaxStartups 200:30:400
CONF
  chroot "$root" useradd -m -s /bin/bash -G sudo "$LOGIN_USER"
  # useradd leaves the password locked ('!'), which sshd refuses without PAM; '*' is "no password" but unlocked.
  chroot "$root" usermod -p '*' "$LOGIN_USER"
  echo "$LOGIN_USER ALL=(ALL) NOPASSWD:ALL" >"$root/etc/sudoers.d/vncplay"
  chmod 0440 "$root/etc/sudoers.d/vncplay"
  uid=$(chroot "$root" id -u "$LOGIN_USER")
  install -d -m 0700 -o "$uid" -g "$uid" "$root/home/$LOGIN_USER/.ssh"
  install -m 0600 -o "$uid" -g "$uid" "$FLEET_DIR/id_ed25519.pub" "$root/home/$LOGIN_USER/.ssh/authorized_keys"
  quiet_host_units "$root"
}

# Units that slow boot, fight the test harness, or are features tests switch on themselves.
quiet_host_units() {
  local root=$1 u
  # Never wanted in a test host: periodic jobs, consoles, interface managers.
  for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
      man-db.timer logrotate.timer getty@tty1.service console-getty.service container-getty@.service \
      systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
      networking.service NetworkManager.service systemd-resolved.service systemd-timesyncd.service \
      e2scrub_reap.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
  done
  # Installed but off: tests enable them (so disabled, not masked). Without /etc/machine-id systemd treats
  # the boot as a first boot and runs `preset-all`, which would re-enable them: presets must say "disable" too.
  local -a off=(supervisor.service keepalived.service firewalld.service ufw.service nftables.service ssh.socket)
  for u in "${off[@]}"; do
    find "$root/etc/systemd/system" -name "$u" -type l -delete
  done
  rm -f "$root/etc/systemd/system/dbus-org.fedoraproject.FirewallD1.service"
  mkdir -p "$root/etc/systemd/system-preset"
  printf 'disable %s\n' "${off[@]}" >"$root/etc/systemd/system-preset/00-vncplay-fleet.preset"
  # A unit a test left hanging must not hold `down` for Debian's default 90 s.
  mkdir -p "$root/etc/systemd/system.conf.d"
  printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"$root/etc/systemd/system.conf.d/vncplay-fleet.conf"
  # The per-user manager (started by pam_systemd for ssh and VNC sessions) waits up to 2 min on stop by default.
  mkdir -p "$root/etc/systemd/system/user@.service.d" "$root/etc/systemd/user.conf.d"
  printf '[Service]\nTimeoutStopSec=5s\n' >"$root/etc/systemd/system/user@.service.d/vncplay-fleet.conf"
  printf '[Manager]\nDefaultTimeoutStopSec=5s\n' >"$root/etc/systemd/user.conf.d/vncplay-fleet.conf"
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$root/etc/systemd/journald.conf.d/vncplay-fleet.conf"
}

# systemd-nspawn's options for host i. nspawn keeps CAP_NET_ADMIN only with its own --private-network, not
# with --network-namespace-path, and without it nft/iptables/ip/keepalived/firewalld fail inside the host.
nspawn_args() {
  local i=$1 dir
  dir=$(host_dir "$i")
  printf '%s\n' --boot --register=no --keep-unit --private-users=no \
    "--network-namespace-path=/run/netns/$(host_netns "$i")" -D "$dir/root" -M "$(host_machine "$i")" \
    --capability=CAP_NET_ADMIN --console=read-only --link-journal=no --resolv-conf=off --timezone=off
}

# Starts the container in the background (own session, so Ctrl-C or the caller exiting does not stop it).
boot_host() {
  local i=$1 dir pid
  local -a args
  dir=$(host_dir "$i")
  mapfile -t args < <(nspawn_args "$i")
  [[ -s $dir/console.log ]] && mv -f "$dir/console.log" "$dir/console.prev.log"
  : >"$dir/console.log"
  # Only stdin/stdout/stderr go with it: a host outlives its caller, and a lock or pipe the caller holds (as
  # `flock FILE fleet.sh …` passes its lock as fd 3) would otherwise stay held for as long as the host runs.
  (exec_without_inherited_fds setsid systemd-nspawn "${args[@]}") </dev/null >>"$dir/console.log" 2>&1 &
  pid=$!
  # Until it execs systemd-nspawn, $pid is a subshell closing the fds it inherited (and then setsid): under load
  # that takes a while, and wait_for_sshd would take a host still on its way for one whose nspawn exited (a CI run
  # on a fresh machine failed a reset with "exited during boot" and an empty console).
  while ! pid_is_nspawn "$pid" && pid_is_running "$pid"; do sleep 0.05; done
  echo "$pid" >"$dir/nspawn.pid"
  printf '%s\n' "${args[@]}" >"$dir/nspawn.args"
}

# Processes a test started with nsenter (hostExec, `fleet.sh exec`) live in the container's PID namespace but
# have a parent outside it; systemd's final kill does not get rid of them and poweroff then hangs for 20 s.
kill_entered_processes() {
  local nspawn_pid=$1 init ns glob p ppid
  init=$(container_init_pid "$nspawn_pid") || return 0
  ns=$(readlink "/proc/$init/ns/pid") || return 0
  # ns looks like "pid:[4026532301]"; -lname takes a glob, so the brackets are escaped.
  glob=${ns//[/\\[}
  glob=${glob//]/\\]}
  for p in $(find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/pid' -lname "$glob" 2>/dev/null); do
    p=${p%/ns/pid}
    p=${p#/proc/}
    [[ $p == "$init" ]] && continue
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
    [[ -n $ppid && $ppid != 0 && $(readlink "/proc/$ppid/ns/pid" 2>/dev/null) != "$ns" ]] || continue
    kill -KILL "$p" 2>/dev/null || true
  done
}

# Stops the container by its recorded pid: SIGTERM makes nspawn ask systemd for a clean poweroff.
stop_host() {
  local i=$1 dir pid n
  dir=$(host_dir "$i")
  pid=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
  if pid_is_nspawn "$pid"; then
    local t0
    t0=$(now_ms)
    kill_entered_processes "$pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((n = 0; n < 200; n++)); do
      pid_is_nspawn "$pid" || break
      sleep 0.1
    done
    if pid_is_nspawn "$pid"; then
      log "$(host_name "$i"): nspawn $pid still running 20 s after SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    # A slow poweroff is nearly always a unit a test left behind; say which host, the console shows the unit.
    if (( $(now_ms) - t0 > 5000 )); then
      log "$(host_name "$i"): poweroff took $(( ($(now_ms) - t0) / 1000 )) s (its console: $dir/console.log, console.prev.log after a reset)"
    fi
  fi
  rm -f "$dir/nspawn.pid"
}

umount_host_root() {
  local dir
  dir=$(host_dir "$1")
  if mountpoint -q "$dir/root" 2>/dev/null; then
    umount "$dir/root" 2>/dev/null || umount -l "$dir/root"
  fi
}

# A container whose nspawn died by SIGKILL keeps running, orphaned: find it by its root directory.
kill_leftover_container() {
  local root=$1 p
  for p in $(find /proc -mindepth 2 -maxdepth 2 -name root -lname "$root" 2>/dev/null); do
    p=${p#/proc/}; p=${p%/root}
    kill -KILL "$p" 2>/dev/null || true
  done
}

# Everything about host i except its ssh host keys (so a rebuilt host keeps its identity).
clean_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  stop_host "$i"
  kill_leftover_container "$dir/root"
  umount_host_root "$i"
  teardown_host_network "$i"
  rm -rf --one-file-system "$dir/upper" "$dir/work" "$dir/root"
}

remove_host() {
  local propagate
  propagate=/run/systemd/nspawn/propagate/$(host_machine "$1")
  clean_host "$1"
  rm -rf --one-file-system "$(host_dir "$1")"
  # nspawn leaves its mount-propagation directory behind ("we can't allow that" in the console log).
  if [[ -d $propagate ]] && ! mountpoint -q "$propagate"; then rm -rf --one-file-system "$propagate"; fi
}

# Creates and boots host i; does not wait for sshd.
create_host() {
  local i=$1 rootfs=$2
  mkdir -p "$(host_dir "$i")"
  ensure_host_keys "$i"
  setup_host_network "$i"
  mount_host_root "$i" "$rootfs"
  personalize_host_root "$i"
  boot_host "$i"
}

host_is_healthy() {
  local i=$1 dir pid
  dir=$(host_dir "$i")
  pid=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
  pid_is_nspawn "$pid" && mountpoint -q "$dir/root" && [[ -e /run/netns/$(host_netns "$i") ]] &&
    ssh_banner_ok "$(host_addr "$i")"
}

# Waits until host i's sshd sends its banner; fails with the console tail after BOOT_TIMEOUT.
wait_for_sshd() {
  local i=$1 deadline pid dir
  dir=$(host_dir "$i")
  deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
  while ! ssh_banner_ok "$(host_addr "$i")"; do
    pid=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
    if ! pid_is_nspawn "$pid"; then
      tail -n 20 "$dir/console.log" >&2
      log "$(host_name "$i"): systemd-nspawn exited during boot (console: $dir/console.log)"
      return 1
    fi
    if (( $(date +%s) > deadline )); then
      tail -n 20 "$dir/console.log" >&2
      log "$(host_name "$i"): sshd did not answer within ${BOOT_TIMEOUT}s (console: $dir/console.log)"
      return 1
    fi
    sleep 0.2
  done
}
