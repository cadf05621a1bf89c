#!/bin/sh
# Builds a container image with TigerVNC's Xvnc offline, on a host that has TigerVNC and a docker CLI (no registry
# is reachable from the fleet): a rootfs of Xtigervnc, xkbcomp, sh, the libraries they load (ldd) and the XKB data,
# imported with `docker import`. Xvnc's core fonts are its built-ins, so no font package is needed.
#
#   sh xvnc-image.sh IMAGE            (the docker CLI; DOCKER_HOST picks another engine)
#
# The image has no CMD: the container's command runs Xtigervnc (docker_container's `command`).
set -eu
image=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

copy() {
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
}

for program in /usr/bin/Xtigervnc /usr/bin/xkbcomp /bin/sh; do
  copy "$program"
  # `libx.so => /path (addr)` and the loader's own `/lib64/ld-linux-x86-64.so.2 (addr)`
  copy $(ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done
mkdir -p "$root/usr/share/X11" "$root/tmp" "$root/etc"
cp -a /usr/share/X11/xkb "$root/usr/share/X11/"
chmod 1777 "$root/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
tar -C "$root" -c . | docker import - "$image" >/dev/null
