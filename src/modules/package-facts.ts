import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleContext } from './types.js';

/**
 * package_facts: Ansible's ansible.builtin.package_facts for apt (ONE dpkg-query call; Ansible reads python-apt's
 * cache) and rpm (ONE `rpm -qa`; Ansible reads python3-rpm): ansible_facts.packages = { name: [{ name, version, …,
 * source }] }. `auto` asks the managers whose Python library Ansible would import first (apt, then rpm), then those
 * whose program exists: vncplay needs no Python on the host, Ansible fails where the library is missing.
 */
const MANAGERS = ['apt', 'rpm'] as const;
type Manager = (typeof MANAGERS)[number];

const spec = defineSpec({
  description: 'Read the installed packages into ansible_facts.packages (name → list of {name, version, arch, …, source}); apt/dpkg and rpm hosts.',
  options: {
    manager: { type: 'list', elements: 'str', default: ['auto'], description: 'Package managers to ask, in order: auto, apt (dpkg) or rpm.' },
    strategy: { type: 'str', choices: ['first', 'all'], default: 'first', description: 'Stop at the first manager that works, or ask all.' },
  },
  check(args) {
    const unsupported = args.manager.filter((m) => m !== 'auto' && !(MANAGERS as readonly string[]).includes(m.toLowerCase()));
    if (unsupported.length) {
      return { param: 'manager', message: `Unsupported package managers requested: ${unsupported.join(', ')}`, hint: "vncplay's package_facts reads apt/dpkg and rpm (manager: auto, apt or rpm)" };
    }
    return undefined;
  },
});

/** dpkg-query's format: one package a line (a parameter, so the command text has no `${…}`). */
const FORMAT = '${db:Status-Abbrev}\t${binary:Package}\t${Package}\t${Version}\t${Architecture}\t${Section}\n';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  category: string;
  source: 'apt';
}

/**
 * dpkg-query lines → Ansible's dict. Installed = dpkg knows a current version (not "not-installed" and not "config
 * files" only), what python-apt's is_installed says. A foreign-architecture package keys as name:arch, as apt's cache does.
 */
export function parseInstalled(stdout: string, nativeArch: string): Record<string, InstalledPackage[]> {
  const out: Record<string, InstalledPackage[]> = {};
  for (const line of stdout.split('\n')) {
    const [abbrev, , name, version, arch, section] = line.split('\t');
    if (!abbrev || !name || version === undefined) continue;
    const state = abbrev[1];
    if (state === 'n' || state === 'c') continue;
    const key = arch && arch !== 'all' && arch !== nativeArch ? `${name}:${arch}` : name;
    (out[key] ??= []).push({ name: key, version, arch: arch ?? '', category: section ?? '', source: 'apt' });
  }
  return out;
}

export interface RpmPackage {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string | null;
  source: 'rpm';
}

/** rpm's query format: python3-rpm's fields, `(none)` where a tag is unset (None in Ansible). */
const RPM_FORMAT = '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{EPOCH}\\t%{ARCH}\\n';

export function parseRpmInstalled(stdout: string): Record<string, RpmPackage[]> {
  const out: Record<string, RpmPackage[]> = {};
  for (const line of stdout.split('\n')) {
    const [name, version = '', release = '', epoch = '(none)', arch = '(none)'] = line.split('\t');
    if (!name) continue;
    (out[name] ??= []).push({ name, version, release, epoch: epoch === '(none)' ? null : Number(epoch), arch: arch === '(none)' ? null : arch, source: 'rpm' });
  }
  return out;
}

/** For each manager: `NAME lib` when python3 imports its library (Ansible's LibMgr test), `NAME bin` when its program exists. */
const DETECT = `for m in apt:dpkg-query rpm:rpm; do
  name=\${m%%:*} program=\${m#*:}
  if command -v python3 >/dev/null 2>&1 && python3 -c "import $name" 2>/dev/null; then echo "$name lib"
  elif command -v "$program" >/dev/null 2>&1; then echo "$name bin"; fi
done`;

/** The managers `auto` stands for on this host: those with Ansible's library first, then those with only the program. */
export function autoManagers(detected: string): Manager[] {
  const found = detected.split('\n').map((l) => l.split(' ')).filter((w): w is [Manager, string] => (MANAGERS as readonly string[]).includes(w[0]!));
  return [...found.filter(([, how]) => how === 'lib'), ...found.filter(([, how]) => how === 'bin')].map(([m]) => m);
}

/** The requested managers in order, `auto` expanded in place, each once (Ansible's dedupe). */
export function requestedManagers(requested: readonly string[], auto: readonly Manager[]): Manager[] {
  const out: Manager[] = [];
  for (const r of requested.map((m) => m.toLowerCase())) for (const m of r === 'auto' ? auto : [r as Manager]) if (!out.includes(m)) out.push(m);
  return out;
}

async function readPackages(manager: Manager, ctx: ModuleContext): Promise<Record<string, unknown[]> | undefined> {
  if (manager === 'rpm') {
    const res = await ctx.exec(['rpm', '-qa', '--qf', RPM_FORMAT]);
    return res.rc === 0 ? parseRpmInstalled(res.stdout) : undefined;
  }
  const res = await ctx.exec(['sh', '-c', 'dpkg --print-architecture && dpkg-query -W -f="$1"', 'sh', FORMAT]);
  if (res.rc !== 0) return undefined;
  const [arch = '', ...rest] = res.stdout.split('\n');
  return parseInstalled(rest.join('\n'), arch.trim());
}

export const packageFactsModule = actionModule(spec, {
  kind: 'action',
  name: 'package_facts',
  where: 'host',
  inCheckMode: 'run',
  factNames: ['packages'],
  async run(args, ctx) {
    const auto = args.manager.some((m) => m.toLowerCase() === 'auto') ? autoManagers((await ctx.exec(['sh', '-c', DETECT])).stdout) : [];
    const managers = requestedManagers(args.manager, auto);
    const packages: Record<string, unknown[]> = {};
    let found = 0;
    for (const manager of managers) {
      if (found > 0 && args.strategy === 'first') break;
      const read = await readPackages(manager, ctx);
      if (read === undefined) continue;
      found++;
      Object.assign(packages, read);
    }
    if (found === 0) {
      return {
        failed: true,
        msg: `Could not detect a supported package manager from the following list: [${managers.map((m) => `'${m}'`).join(', ')}], or the required Python library is not installed. Check warnings for details.`,
      };
    }
    // As Ansible injects module facts: ansible_facts.packages and the variable `packages`.
    return { changed: false, facts: { packages, ansible_facts: { packages } }, data: { ansible_facts: { packages } } };
  },
});
