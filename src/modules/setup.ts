import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

const spec = defineSpec({
  description:
    "Gather the host's facts (hostname, distribution, kernel, addresses, memory, service manager) in one command; the play does this first unless gather_facts is false.",
  options: {
    gather_subset: {
      type: 'list',
      elements: 'str',
      description: 'Accepted for compatibility: the one cheap command gathers the same facts for every subset.',
    },
    filter: {
      type: 'list',
      elements: 'str',
      default: [],
      description: 'Only keep facts whose name matches one of these shell-style patterns (ansible_distribution*).',
    },
    gather_timeout: { type: 'int', min: 1, default: 10, description: 'Seconds the command may take.' },
  },
});

/** Ansible's PKG_MGRS (facts/system/pkg_mgr.py): the binary whose presence names the host's package manager. */
export const PKG_MGR_BINARIES: readonly { path: string; name: string }[] = [
  { path: '/usr/bin/rpm-ostree', name: 'atomic_container' },
  { path: '/usr/bin/yum', name: 'yum' },
  { path: '/usr/bin/dnf', name: 'dnf' },
  { path: '/usr/bin/dnf5', name: 'dnf5' },
  { path: '/usr/bin/apt-get', name: 'apt' },
  { path: '/usr/bin/zypper', name: 'zypper' },
  { path: '/usr/sbin/urpmi', name: 'urpmi' },
  { path: '/usr/bin/pacman', name: 'pacman' },
  { path: '/bin/opkg', name: 'opkg' },
  { path: '/usr/pkg/bin/pkgin', name: 'pkgin' },
  { path: '/opt/local/bin/port', name: 'macports' },
  { path: '/usr/local/bin/brew', name: 'homebrew' },
  { path: '/sbin/apk', name: 'apk' },
  { path: '/usr/sbin/pkg', name: 'pkgng' },
  { path: '/usr/sbin/swlist', name: 'swdepot' },
  { path: '/usr/bin/emerge', name: 'portage' },
  { path: '/usr/sbin/pkgadd', name: 'svr4pkg' },
  { path: '/usr/bin/pkg', name: 'pkg5' },
  { path: '/usr/bin/xbps-install', name: 'xbps' },
  { path: '/usr/local/sbin/pkg', name: 'pkgng' },
  { path: '/usr/bin/swupd', name: 'swupd' },
  { path: '/usr/sbin/sorcery', name: 'sorcery' },
  { path: '/usr/bin/installp', name: 'installp' },
  { path: '/QOpenSys/pkgs/bin/yum', name: 'yum' },
];

/**
 * Ansible's ansible_pkg_mgr: the last listed manager whose binary exists, except that a Debian-family host is always
 * apt and a RedHat-family one is dnf/dnf5/yum by what is installed.
 */
export function pkgMgrFrom(osFamily: string, presentBinaries: readonly string[]): string {
  const present = new Set(presentBinaries);
  if (osFamily === 'Debian') return 'apt';
  if (osFamily === 'RedHat') {
    if (present.has('/usr/bin/dnf5')) return 'dnf5';
    if (present.has('/usr/bin/dnf')) return 'dnf';
    if (present.has('/usr/bin/yum')) return 'yum';
  }
  let found = 'unknown';
  for (const m of PKG_MGR_BINARIES) if (present.has(m.path)) found = m.name;
  return found;
}

/** One read-only POSIX sh script; every value is printed as `key=value` on its own line. */
export const FACTS_SCRIPT = String.raw`
say() { printf '%s=%s\n' "$1" "$2"; }
say hostname "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
say fqdn "$(hostname -f 2>/dev/null || hostname)"
say system "$(uname -s)"
say kernel "$(uname -r)"
say machine "$(uname -m)"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
say os_id "$ID"; say os_like "$ID_LIKE"; say os_version "$VERSION_ID"; say os_codename "$VERSION_CODENAME"
say os_pretty "$PRETTY_NAME"
# As Ansible: processor_vcpus counts the processors /proc/cpuinfo lists, processor_nproc the ones this process may
# run on (nproc follows CPU affinity: a container or taskset can make it smaller).
say vcpus "$(awk '/^processor/ {n++} END {print n + 0}' /proc/cpuinfo 2>/dev/null)"
say nproc "$(nproc 2>/dev/null || echo 1)"
say memtotal_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)"
say user_id "$(id -un)"
say service_mgr "$( [ -d /run/systemd/system ] && echo systemd || echo "$(ps -p 1 -o comm= 2>/dev/null)")"
say python "$(command -v python3 || command -v python || true)"
say pkg_bins "$(for b in ${PKG_MGR_BINARIES.map((m) => m.path).join(' ')}; do [ -e "$b" ] && printf '%s ' "$b"; done)"
route=$(ip -4 route show default 2>/dev/null | head -n 1)
say default_gateway "$(printf '%s' "$route" | awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i+1)}')"
say default_interface "$(printf '%s' "$route" | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i+1)}')"
ip -4 -o addr show scope global 2>/dev/null | awk '{split($4, a, "/"); print "ipv4=" $2 " " a[1] " " a[2]}'
say debian_version "$(cat /etc/debian_version 2>/dev/null)"
# Interfaces from the host's own network namespace (ip -j), not /sys/class/net: in a container /sys may show the
# namespace that mounted it (Ansible reads macaddress/mtu there and gets the machine's, not the container's).
say ip_json "$(ip -j addr show 2>/dev/null | tr -d '\n')"
route6=$(ip -6 route show default 2>/dev/null | head -n 1)
say default6_gateway "$(printf '%s' "$route6" | awk '{for (i = 1; i < NF; i++) if ($i == "via") print $(i+1)}')"
say default6_interface "$(printf '%s' "$route6" | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i+1)}')"
say local4 "$(ip -4 route show table local 2>/dev/null | awk '$1 == "local" {printf "%s ", $2}')"
say local6 "$(ip -6 route show table local 2>/dev/null | awk '$1 == "local" {printf "%s ", $2}')"
if [ -r /sys/fs/selinux/enforce ]; then
  say selinux_enforce "$(cat /sys/fs/selinux/enforce)"
  say selinux_policyvers "$(cat /sys/fs/selinux/policyvers 2>/dev/null)"
  say selinux_config "$(sed -n 's/^SELINUX=//p' /etc/selinux/config 2>/dev/null)"
  say selinux_type "$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null)"
fi
`;

/** One address of `ip -j addr`'s addr_info. */
interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  broadcast?: string;
  scope?: string;
}

/** One interface of `ip -j addr`. */
interface IpLink {
  ifname?: string;
  flags?: string[];
  mtu?: number;
  link_type?: string;
  address?: string;
  addr_info?: IpAddrInfo[];
}

function netmaskOf(prefix: number): string {
  const bits = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

function networkOf(address: string, prefix: number): string {
  const mask = netmaskOf(prefix).split('.').map(Number);
  return address.split('.').map((octet, i) => Number(octet) & mask[i]!).join('.');
}

/** Ansible's ipv4 dict of an interface (address, broadcast, netmask, network, prefix as a string). */
function ipv4Fact(a: IpAddrInfo): Record<string, string> {
  const prefix = a.prefixlen ?? 32;
  return { address: a.local ?? '', broadcast: a.broadcast ?? '', netmask: netmaskOf(prefix), network: networkOf(a.local ?? '0.0.0.0', prefix), prefix: String(prefix) };
}

/** Ansible's per-interface fact (ansible_eth0) from one `ip -j addr` entry. */
export function interfaceFact(link: IpLink): Record<string, unknown> {
  const flags = link.flags ?? [];
  const type = link.link_type === 'loopback' ? 'loopback' : link.link_type === 'ether' ? 'ether' : (link.link_type ?? 'unknown');
  const fact: Record<string, unknown> = { device: link.ifname, active: flags.includes('UP'), mtu: link.mtu, promisc: flags.includes('PROMISC'), type };
  if (type !== 'loopback' && link.address) fact['macaddress'] = link.address;
  const v4 = (link.addr_info ?? []).filter((a) => a.family === 'inet');
  if (v4.length) fact['ipv4'] = ipv4Fact(v4[0]!);
  if (v4.length > 1) fact['ipv4_secondaries'] = v4.slice(1).map(ipv4Fact);
  const v6 = (link.addr_info ?? []).filter((a) => a.family === 'inet6');
  if (v6.length) fact['ipv6'] = v6.map((a) => ({ address: a.local, prefix: String(a.prefixlen ?? 128), scope: a.scope }));
  return fact;
}

/** ansible_interfaces, one fact per interface (`-`/`:` become `_` in the name, as Ansible does), all_ipv6_addresses. */
function interfaceFacts(json: string): { names: string[]; perInterface: Record<string, Record<string, unknown>>; ipv6: string[] } | undefined {
  let links: IpLink[];
  try {
    links = JSON.parse(json) as IpLink[];
  } catch {
    return undefined;
  }
  if (!Array.isArray(links)) return undefined;
  const perInterface: Record<string, Record<string, unknown>> = {};
  const ipv6: string[] = [];
  for (const link of links) {
    if (!link.ifname) continue;
    perInterface[link.ifname] = interfaceFact(link);
    for (const a of link.addr_info ?? []) if (a.family === 'inet6' && a.scope !== 'host' && a.local) ipv6.push(a.local);
  }
  return { names: Object.keys(perInterface), perInterface, ipv6 };
}

/** Ansible's distribution names for os-release IDs it capitalises differently. */
const DISTRIBUTION_NAMES: Record<string, string> = { debian: 'Debian', ubuntu: 'Ubuntu', rhel: 'RedHat', centos: 'CentOS', fedora: 'Fedora', rocky: 'Rocky', almalinux: 'AlmaLinux', alpine: 'Alpine', arch: 'Archlinux', opensuse: 'openSUSE', sles: 'SLES' };
const OS_FAMILIES: Record<string, string> = { debian: 'Debian', ubuntu: 'Debian', rhel: 'RedHat', centos: 'RedHat', fedora: 'RedHat', rocky: 'RedHat', almalinux: 'RedHat', alpine: 'Alpine', arch: 'Archlinux', sles: 'Suse', opensuse: 'Suse' };

/** The facts (without the ansible_ prefix, as in `ansible_facts`) from the script's output. */
export function parseFacts(stdout: string): Record<string, unknown> {
  const kv = new Map<string, string>();
  const ipv4: { interface: string; address: string; prefix: string }[] = [];
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'ipv4') {
      const [iface, address, prefix] = value.split(' ');
      if (iface && address) ipv4.push({ interface: iface, address, prefix: prefix ?? '' });
    } else kv.set(key, value);
  }
  const get = (k: string): string => kv.get(k) ?? '';
  const osId = get('os_id');
  const like = get('os_like').split(' ')[0] ?? '';
  const version = get('os_version');
  const defaultIface = get('default_interface');
  // As Ansible: no default route, no default_ipv4 (a host cut off from its gateway says so).
  const defaultAddr = defaultIface ? ipv4.find((a) => a.interface === defaultIface) : undefined;
  const memKb = Number(get('memtotal_kb')) || 0;
  const facts: Record<string, unknown> = {
    hostname: get('hostname').split('.')[0],
    nodename: get('hostname'),
    fqdn: get('fqdn'),
    system: get('system'),
    kernel: get('kernel'),
    machine: get('machine'),
    architecture: get('machine'),
    distribution: DISTRIBUTION_NAMES[osId] ?? (osId ? osId.charAt(0).toUpperCase() + osId.slice(1) : 'NA'),
    distribution_version: version || 'NA',
    distribution_major_version: version ? version.split('.')[0] : 'NA',
    distribution_release: get('os_codename') || 'NA',
    os_family: OS_FAMILIES[osId] ?? OS_FAMILIES[like] ?? (osId || 'NA'),
    processor_vcpus: Number(get('vcpus')) || Number(get('nproc')) || 1,
    processor_nproc: Number(get('nproc')) || 1,
    memtotal_mb: Math.floor(memKb / 1024),
    user_id: get('user_id'),
    service_mgr: get('service_mgr'),
    pkg_mgr: pkgMgrFrom(OS_FAMILIES[osId] ?? OS_FAMILIES[like] ?? '', get('pkg_bins').split(' ').filter(Boolean)),
    all_ipv4_addresses: ipv4.map((a) => a.address),
    default_ipv4: defaultAddr
      ? { address: defaultAddr.address, interface: defaultAddr.interface, prefix: defaultAddr.prefix, gateway: get('default_gateway') }
      : {},
  };
  if (get('python')) facts['python'] = { executable: get('python') };
  const debianVersion = get('debian_version');
  if ((facts['os_family'] === 'Debian') && osId === 'debian') {
    // As Ansible: Debian's minor version comes from /etc/debian_version (12.15 → 15).
    facts['distribution_minor_version'] = /^\d+\.(\d+)/.exec(debianVersion)?.[1] ?? 'NA';
  }
  const ifaces = interfaceFacts(get('ip_json'));
  if (ifaces) {
    facts['interfaces'] = ifaces.names;
    for (const [name, fact] of Object.entries(ifaces.perInterface)) facts[name.replace(/[-:]/g, '_')] = fact;
    facts['all_ipv6_addresses'] = ifaces.ipv6;
    const dflt = ifaces.perInterface[defaultIface];
    if (defaultAddr && dflt) {
      const v4 = dflt['ipv4'] as Record<string, string> | undefined;
      facts['default_ipv4'] = {
        ...v4,
        address: defaultAddr.address,
        alias: defaultIface,
        gateway: get('default_gateway'),
        interface: defaultIface,
        ...(dflt['macaddress'] !== undefined ? { macaddress: dflt['macaddress'] } : {}),
        mtu: dflt['mtu'],
        type: dflt['type'],
      };
    }
    const iface6 = get('default6_interface');
    const v6 = iface6 ? (ifaces.perInterface[iface6]?.['ipv6'] as { address: string; prefix: string; scope: string }[] | undefined)?.find((a) => a.scope === 'global') : undefined;
    facts['default_ipv6'] = v6 ? { ...v6, gateway: get('default6_gateway'), interface: iface6, macaddress: ifaces.perInterface[iface6]?.['macaddress'], mtu: ifaces.perInterface[iface6]?.['mtu'], type: ifaces.perInterface[iface6]?.['type'] } : {};
  }
  const words = (k: string): string[] => get(k).split(' ').filter(Boolean);
  facts['locally_reachable_ips'] = { ipv4: [...new Set(words('local4'))], ipv6: [...new Set(words('local6'))] };
  facts['selinux'] = selinuxFact(get);
  return facts;
}

/** Ansible's ansible_selinux: {status: disabled}, or status/mode/config_mode/type/policyvers when enabled. */
function selinuxFact(get: (k: string) => string): Record<string, unknown> {
  const enforce = get('selinux_enforce');
  if (enforce === '') return { status: 'disabled' };
  const fact: Record<string, unknown> = {
    status: 'enabled',
    mode: enforce === '1' ? 'enforcing' : 'permissive',
    config_mode: get('selinux_config') || 'unknown',
    type: get('selinux_type') || 'unknown',
  };
  if (get('selinux_policyvers')) fact['policyvers'] = Number(get('selinux_policyvers'));
  return fact;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
}

export const setupModule = actionModule(spec, {
  kind: 'action',
  name: 'setup',
  aliases: ['gather_facts'],
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const res = await ctx.exec(['sh', '-c', FACTS_SCRIPT], { timeoutMs: args.gather_timeout * 1000 });
    if (res.rc !== 0) return { failed: true, msg: `gathering facts failed (rc ${res.rc}): ${res.stderr.trim()}` };
    const facts = parseFacts(res.stdout);
    const filters = args.filter.map(globToRegExp);
    const prefixed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(facts)) {
      if (filters.length && !filters.some((f) => f.test(`ansible_${k}`))) continue;
      prefixed[`ansible_${k}`] = v;
    }
    const kept = Object.fromEntries(Object.entries(prefixed).map(([k, v]) => [k.slice('ansible_'.length), v]));
    return { changed: false, facts: { ...prefixed, ansible_facts: kept }, data: { ansible_facts: kept } };
  },
});
