import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * package_facts: Ansible's ansible.builtin.package_facts for dpkg/apt hosts, from ONE dpkg-query call (Ansible reads
 * python-apt's cache): ansible_facts.packages = { name: [{ name, version, arch, category, source: 'apt' }] }.
 */
const spec = defineSpec({
  description: 'Read the installed packages into ansible_facts.packages (name → list of {name, version, arch, category, source}); apt/dpkg hosts.',
  options: {
    manager: { type: 'list', elements: 'str', default: ['auto'], description: 'Package managers to ask: auto or apt (vncplay reads dpkg for both).' },
    strategy: { type: 'str', choices: ['first', 'all'], default: 'first', description: 'Stop at the first manager that works, or ask all.' },
  },
  check(args) {
    const unsupported = args.manager.filter((m) => m !== 'auto' && m !== 'apt');
    if (unsupported.length) {
      return { param: 'manager', message: `Unsupported package managers requested: ${unsupported.join(', ')}`, hint: "vncplay's package_facts reads apt/dpkg (manager: auto or apt)" };
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

export const packageFactsModule = actionModule(spec, {
  kind: 'action',
  name: 'package_facts',
  where: 'host',
  inCheckMode: 'run',
  factNames: ['packages'],
  async run(_args, ctx) {
    const res = await ctx.exec(['sh', '-c', 'dpkg --print-architecture && dpkg-query -W -f="$1"', 'sh', FORMAT]);
    if (res.rc !== 0) {
      return {
        failed: true,
        msg: `Could not detect a supported package manager from the following list: ['apt'], or the required Python library is not installed. Check warnings for details. (${res.stderr.trim()})`,
      };
    }
    const [arch = '', ...rest] = res.stdout.split('\n');
    const packages = parseInstalled(rest.join('\n'), arch.trim());
    // As Ansible injects module facts: ansible_facts.packages and the variable `packages`.
    return { changed: false, facts: { packages, ansible_facts: { packages } }, data: { ansible_facts: { packages } } };
  },
});
