#!/usr/bin/env bash
# Installs what vncplay's build and tests need on a Debian 12 machine, idempotently:
# Debian packages (as root), node_modules (npm ci, only when they do not match package-lock.json)
# and dist/ with the CLI bundle (npm run build, only when src/ changed since the last build).
# Silent and well under 2 s when everything is already in place, because `npm test` runs it first.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_DIR"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# The fleet (systemd-nspawn, debootstrap, netns), the light fleet's sshd binary, the ssh client,
# firewall tools the modules drive, Ansible for the parity tests and the comparison benchmark (Debian's `ansible`:
# ansible-core plus the collections the tests use, e.g. ansible.posix's json callback; ansible-mitogen for the
# benchmark's Mitogen row), sudo for the local connection's become, tmux for the live view's terminal tests,
# prometheus for promtool, which tests the shipped alert rules (its server is not started: policy-rc.d below),
# passwd (useradd for the local become tests' throwaway user), and for the apt tests' local Debian repository:
# apt-utils (apt-ftparchive), dpkg-repack and python3-apt (repacked for the hosts, which Ansible's apt needs).
# e2fsprogs: chattr, which stat's parity test uses to set the flags lsattr reads.
# Every program a test or the benchmark starts comes from one of these or from the base image:
# test/parity/tools-installed.test.ts checks it.
APT_PACKAGES=(
  systemd-container debootstrap openssh-client openssh-server iproute2 nftables iptables
  util-linux procps git ansible ansible-core ansible-mitogen sudo python3 ca-certificates tmux prometheus passwd
  apt-utils dpkg-repack python3-apt curl unzip xz-utils make e2fsprogs
  rpm createrepo-c gpg
  python3-selinux python3-semanage
)

missing_apt_packages() {
  local pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || printf '%s\n' "$pkg"
  done
}

# openssh-server is wanted for its sshd binary only: this machine must not start an sshd of its own.
forbid_local_sshd() {
  mkdir -p /etc/ssh
  [[ -e /etc/ssh/sshd_not_to_be_run ]] || touch /etc/ssh/sshd_not_to_be_run
}

install_apt_packages() {
  local -a missing
  mapfile -t missing < <(missing_apt_packages)
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); run as root: sudo bash scripts/setup.sh"
  say "installing ${missing[*]}"
  forbid_local_sshd
  # policy-rc.d 101 = "do not start services" for the duration of the install.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local -a apt_install=(apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}")
  if ! "${apt_install[@]}" >/tmp/vncplay-setup-apt.log 2>&1; then
    apt-get update -qq >>/tmp/vncplay-setup-apt.log 2>&1 || true
    "${apt_install[@]}" >>/tmp/vncplay-setup-apt.log 2>&1 || {
      ((made_policy)) && rm -f "$policy"
      tail -n 20 /tmp/vncplay-setup-apt.log >&2
      die "apt-get install failed (log: /tmp/vncplay-setup-apt.log)"
    }
  fi
  ((made_policy)) && rm -f "$policy"
  return 0
}

# Debian packages the fleet tests install INTO a host from a local repository (test/fleet/deb-repo.ts), because the
# hosts cannot reach a mirror: the docker_container tests' engine (docker.io and what it needs beyond the host image),
# python3-requests with its dependencies, which community.docker's modules need on the host for the parity run, and
# cron (Ansible's cron module needs the crontab program, which the host image lacks), and pip with what it needs
# (the pip fleet parity test).
# Downloaded once into HOST_DEBS_DIR; the tests fail naming this function when a .deb is missing.
HOST_DEBS=(docker.io containerd runc tini python3-requests python3-certifi python3-chardet python3-charset-normalizer
  python3-idna python3-six python3-urllib3 cron cron-daemon-common sensible-utils
  python3-pip python3-setuptools python3-wheel python3-distutils python3-lib2to3)
HOST_DEBS_DIR=/var/cache/vncplay-fleet/host-debs

fetch_host_debs() {
  local pkg missing=()
  for pkg in "${HOST_DEBS[@]}"; do
    compgen -G "$HOST_DEBS_DIR/${pkg}_*.deb" >/dev/null || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "missing host packages (${missing[*]}) in $HOST_DEBS_DIR; run as root: sudo bash scripts/setup.sh"
  say "downloading ${missing[*]} for the fleet hosts"
  mkdir -p "$HOST_DEBS_DIR"
  (cd "$HOST_DEBS_DIR" && apt-get download -qq "${missing[@]}" >/tmp/vncplay-setup-apt.log 2>&1) ||
    die "apt-get download failed (log: /tmp/vncplay-setup-apt.log)"
}

check_kernel_features() {
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || say "warning: no overlayfs; the test fleet will not start"
}

check_node() {
  local major
  command -v node >/dev/null || die "node is not installed; vncplay needs Node.js 20 or newer (e.g. from deb.nodesource.com)"
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 20)) || die "node $(node -v) is too old; vncplay needs Node.js 20 or newer"
}

# True when node_modules holds exactly what package-lock.json pins (npm's own hidden lockfile says what
# is installed). Platform-specific optional packages may be absent.
node_modules_match_lock() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node --input-type=module -e '
    import { readFileSync, existsSync } from "node:fs";
    const want = JSON.parse(readFileSync("package-lock.json", "utf8")).packages ?? {};
    const have = JSON.parse(readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
    for (const [path, meta] of Object.entries(want)) {
      if (path === "" || meta.link) continue;
      const got = have[path];
      if (!got) { if (meta.optional) continue; process.exit(1); }
      if (got.version !== meta.version || !existsSync(path)) process.exit(1);
    }
    for (const path of Object.keys(have)) if (!(path in want)) process.exit(1);
  '
}

install_node_modules() {
  node_modules_match_lock && return 0
  say "node_modules out of date: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
}

# Rebuild dist/ (tsc output, then the CLI bundle bin/vncplay.js runs) when any source or build setting is newer
# than the last successful build, or when tsc alone wrote dist/ after the bundle (or without one).
build_if_stale() {
  local stamp=dist/.vncplay-build-stamp
  if [[ -f $stamp && -f dist/bundle/main.js && ! dist/cli/main.js -nt dist/bundle/main.js ]] &&
    [[ -z $(find src tsconfig.json tsconfig.build.json package-lock.json scripts/bundle.mjs -newer "$stamp" -print -quit 2>/dev/null) ]]; then
    return 0
  fi
  say "building dist/"
  npm run --silent build >&2
  touch "$stamp"
}

main() {
  install_apt_packages
  fetch_host_debs
  check_kernel_features
  check_node
  install_node_modules
  build_if_stale
}

main "$@"
