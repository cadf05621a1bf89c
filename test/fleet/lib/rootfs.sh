# Builds (once per machine) and locates the cached Debian root filesystem the fleet hosts share.
# shellcheck shell=bash

# The package list without comments or blanks, in file order.
rootfs_packages() { grep -v '^\s*\(#\|$\)' "$FLEET_SRC_DIR/packages.txt"; }

rootfs_hash() {
  { rootfs_packages; echo "$FLEET_SUITE $FLEET_MIRROR format=$ROOTFS_FORMAT"; } | sha256sum | cut -c1-16
}

rootfs_path() { printf '%s/rootfs-%s' "$FLEET_CACHE_DIR" "$(rootfs_hash)"; }

# Prints the rootfs path, building it first if needed. The build goes to a temp dir that is
# renamed only when complete, so an interrupted build is never mistaken for a finished one.
ensure_rootfs() {
  local final tmp start
  final=$(rootfs_path)
  if [[ -f $final/.vncplay-rootfs-complete ]]; then printf '%s' "$final"; return; fi
  mkdir -p "$FLEET_CACHE_DIR"
  # Only one build at a time; a second `up` waits for the first build instead of racing it.
  exec 8>"$FLEET_CACHE_DIR/.build.lock"
  flock 8
  if [[ -f $final/.vncplay-rootfs-complete ]]; then exec 8>&-; printf '%s' "$final"; return; fi
  clean_stale_rootfs_builds
  tmp=$final.tmp.$$
  start=$(now_ms)
  log "building rootfs $(basename "$final") with debootstrap (first time only; log: $tmp.log)"
  mkdir -p "$FLEET_CACHE_DIR/debs"
  if ! debootstrap --variant=minbase --cache-dir="$FLEET_CACHE_DIR/debs" --include="$(rootfs_packages | paste -sd, -)" \
      "$FLEET_SUITE" "$tmp" "$FLEET_MIRROR" >"$tmp.log" 2>&1; then
    umount_below "$tmp"
    tail -n 30 "$tmp.log" >&2
    die "debootstrap failed; see $tmp.log"
  fi
  customize_rootfs "$tmp"
  touch "$tmp/.vncplay-rootfs-complete"
  mv "$tmp" "$final"
  mv "$tmp.log" "$final.log"
  log "rootfs built in $(( ($(now_ms) - start) / 1000 )) s, size $(du -sh "$final" | cut -f1)"
  exec 8>&-
  printf '%s' "$final"
}

# A killed debootstrap can leave proc/sys mounted inside its temp dir: unmount before deleting.
umount_below() {
  local dir=$1 m
  for m in $(awk -v d="$dir" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

clean_stale_rootfs_builds() {
  local d
  for d in "$FLEET_CACHE_DIR"/rootfs-*.tmp.*; do
    [[ -e $d ]] || continue
    log "removing interrupted rootfs build $d"
    umount_below "$d"
    rm -rf --one-file-system "$d"
  done
}

# Machine-independent tweaks that every host gets; per-host identity is added in the overlay.
customize_rootfs() {
  local root=$1
  # Each host gets its own keys and machine-id in its upper layer.
  rm -f "$root"/etc/ssh/ssh_host_*
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  chroot "$root" apt-get clean >/dev/null
  rm -rf "$root"/var/lib/apt/lists/*_Packages "$root"/var/cache/apt/*.bin
}

# Old rootfs builds (from an earlier packages.txt) that no host's overlay still uses: 500+ MB each.
prune_unused_rootfs() {
  local keep=$1 d used
  used=$(cat "$FLEET_STATE_DIR"/h*/rootfs "$FLEET_STATE_DIR"/s[2-9]/h*/rootfs 2>/dev/null || true)
  for d in "$FLEET_CACHE_DIR"/rootfs-*; do
    [[ -d $d && $d != *.tmp.* && $d != "$keep" ]] || continue
    grep -qxF "$d" <<<"$used" && continue
    log "removing unused rootfs $(basename "$d")"
    rm -rf --one-file-system "$d" "$d.log"
  done
}
