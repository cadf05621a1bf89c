// The external programs tests start, and the one way a test asks for one. A program that is missing fails the
// test that needs it with the package to install, instead of skipping it: `npm test` runs scripts/setup.sh first,
// so on a machine set up as the README says, every program here is present, and a missing one is a bug in
// setup.sh that must show on the developer's machine, not on the next fresh one.
// test/parity/tools-installed.test.ts checks that every program named here comes from a package setup.sh installs
// (or the base image has), and that no test starts a program this table does not name.
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Program → the Debian package that provides it (what setup.sh must install, or the base image must have). */
export const TEST_PROGRAMS = {
  // Ansible parity tests: Debian's `ansible` brings ansible-core and the collections (ansible.posix's json callback).
  // (the programs are ansible-core's; tools-installed.test.ts also checks the collections are there).
  'ansible-playbook': 'ansible-core',
  'ansible-inventory': 'ansible-core',
  'ansible-vault': 'ansible-core',
  'ansible-config': 'ansible-core',
  // ad-hoc `ansible -m` keeps a module's AnsiballZ payload (ANSIBLE_KEEP_REMOTE_FILES) for the payload parity test.
  ansible: 'ansible-core',
  sudo: 'sudo',
  useradd: 'passwd',
  userdel: 'passwd',
  chpasswd: 'passwd',
  runuser: 'util-linux',
  tmux: 'tmux',
  // The shipped alert rules are unit-tested with Prometheus's own promtool.
  promtool: 'prometheus',
  script: 'bsdutils',
  'ssh-keygen': 'openssh-client',
  'ssh-agent': 'openssh-client',
  'ssh-add': 'openssh-client',
  sshd: 'openssh-server',
  openssl: 'openssl',
  'systemd-analyze': 'systemd',
  'systemd-nspawn': 'systemd-container',
  debootstrap: 'debootstrap',
  nsenter: 'util-linux',
  taskset: 'util-linux',
  flock: 'util-linux',
  ip: 'iproute2',
  nft: 'nftables',
  iptables: 'iptables',
  // community.general.make's parity test runs a Makefile on the controller with GNU make.
  make: 'make',
  time: 'time',
  python3: 'python3',
  bash: 'bash',
  sh: 'dash',
  node: 'nodejs',
  // npm's parity test packs and installs tiny local packages (the machine's nodejs brings npm).
  npm: 'nodejs',
  env: 'coreutils',
  'dpkg-query': 'dpkg',
  'dpkg-deb': 'dpkg',
  // The package tests' repository: indexes (apt-ftparchive) and python3-apt repacked from the controller for Ansible.
  'apt-ftparchive': 'apt-utils',
  'dpkg-repack': 'dpkg-repack',
  // The dnf/yum/rpm_key tests' RPM repository: packages built with rpmbuild, signed with rpmsign and a key gpg made.
  rpmbuild: 'rpm',
  rpmsign: 'rpm',
  createrepo_c: 'createrepo-c',
  gpg: 'gpg',
  od: 'coreutils',
  stat: 'coreutils',
  touch: 'coreutils',
  mkfifo: 'coreutils',
  chmod: 'coreutils',
  mkdir: 'coreutils',
  true: 'coreutils',
  sleep: 'coreutils',
  timedatectl: 'systemd',
  // stat's parity test sets file flags for lsattr to read.
  chattr: 'e2fsprogs',
  // The compatibility corpus (bench/corpus*.ts): sources unpacked from git snapshots, role packages fetched for a host.
  git: 'git',
  'apt-get': 'apt',
  // get_url and uri run curl on the host: the local play runs it here, the fleet tests repack it (and its libraries).
  curl: 'curl',
} as const satisfies Record<string, string>;

export type TestProgram = keyof typeof TEST_PROGRAMS;

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a program on PATH (or the usual sbin/bin folders), or undefined. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(isAbsolute), ...SEARCH_PATH];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The path of a program a test needs; throws, naming the Debian package, when it is not installed. */
export function requireProgram(name: TestProgram): string {
  const found = findProgram(name);
  if (found) return found;
  throw new Error(
    `${name} is not installed: it comes from the Debian package \`${TEST_PROGRAMS[name]}\`, which scripts/setup.sh ` +
      'must install (run `bash scripts/setup.sh` as root, as `npm test` does)',
  );
}
