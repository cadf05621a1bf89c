import { fnmatch } from '../playbook/fnmatch.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * dnf: Ansible's ansible.builtin.dnf (2.14), driven by the dnf command line instead of its Python API.
 *
 * One `rpm -qa` reads what is installed; a pure planner (`planDnf`) turns the state and the names into the dnf calls
 * Ansible's module would make (install the missing names, upgrade the installed ones for `latest`, remove the
 * installed ones for `absent`); each call prints dnf's transaction table, which `parseTransaction` reads into
 * Ansible's `results` ("Installed: vp-dep-1.0-1.noarch", "Removed: …"). Check mode runs the same calls with
 * --assumeno, as the module resolves the transaction without running it. The registered result has Ansible's
 * fields: msg, results, rc (and failures when names are unknown).
 */

export const dnfSpec = defineSpec({
  description:
    'Install, upgrade or remove RPM packages with dnf (all named packages in one transaction per operation), from the repositories dnf is configured with.',
  options: {
    name: {
      type: 'list',
      elements: 'str',
      aliases: ['pkg'],
      default: [],
      description: 'Package specs: `name`, `name-1.0`, `name-1.0-1.noarch`, `name.arch`, an .rpm file or URL, `@group`; `*` with state latest upgrades everything.',
    },
    state: {
      type: 'str',
      choices: ['absent', 'installed', 'latest', 'present', 'removed'],
      description: 'present/installed installs missing packages, latest also upgrades installed ones, absent/removed removes them; not given: installed (absent when only autoremove is set).',
    },
    list: { type: 'str', description: 'Not supported by vncplay (Ansible lists packages or repos); use the `dnf list` command.' },
    enablerepo: { type: 'list', elements: 'str', default: [], description: 'Repository ids (or globs) to enable for this task (--enablerepo).' },
    disablerepo: { type: 'list', elements: 'str', default: [], description: 'Repository ids (or globs) to disable for this task (--disablerepo), applied before enablerepo.' },
    conf_file: { type: 'str', description: 'The dnf configuration file to use (--config).' },
    disable_gpg_check: { type: 'bool', default: false, description: 'Do not check package signatures (--nogpgcheck).' },
    installroot: { type: 'str', default: '/', description: 'Install into this root (--installroot); its rpm database is the one read.' },
    releasever: { type: 'str', description: 'The $releasever dnf substitutes in repository URLs (--releasever).' },
    update_cache: { type: 'bool', default: false, aliases: ['expire-cache'], description: "Refresh the repositories' metadata first (--refresh); alone: only refresh." },
    update_only: { type: 'bool', default: false, description: 'With latest: upgrade installed packages only, install nothing new.' },
    install_weak_deps: { type: 'bool', default: true, description: 'Install weak dependencies (Recommends) too.' },
    exclude: { type: 'list', elements: 'str', default: [], description: 'Packages (or globs) dnf must not install or upgrade (--exclude).' },
    autoremove: { type: 'bool', default: false, description: 'Remove packages installed as dependencies that nothing needs any more (dnf autoremove); alone, implies state absent.' },
    download_only: { type: 'bool', default: false, description: 'Download the packages into the cache (or download_dir) and install nothing.' },
    download_dir: { type: 'str', description: 'Where download_only puts the packages (--downloaddir).' },
    allow_downgrade: { type: 'bool', default: false, description: 'Allow installing a lower version than the installed one (name-VERSION).' },
    allowerasing: { type: 'bool', default: false, description: 'Allow removing installed packages to resolve conflicts (--allowerasing).' },
    nobest: { type: 'bool', default: false, description: 'Do not insist on the best candidate (--nobest).' },
    skip_broken: { type: 'bool', default: false, description: 'Skip packages whose dependencies cannot be met (--skip-broken).' },
    security: { type: 'bool', default: false, description: 'With latest: only security updates (--security).' },
    bugfix: { type: 'bool', default: false, description: 'With latest: only bug fix updates (--bugfix).' },
    cacheonly: { type: 'bool', default: false, description: "Use only the metadata cache, never the network (-C)." },
    disable_excludes: { type: 'str', description: "Disable the excludes of 'all', 'main' or a repository id (--disableexcludes)." },
    disable_plugin: { type: 'list', elements: 'str', default: [], description: 'Plugins to disable (--disableplugin).' },
    enable_plugin: { type: 'list', elements: 'str', default: [], description: 'Plugins to enable (--enableplugin).' },
    sslverify: { type: 'bool', default: true, description: "Verify the repositories' TLS certificates." },
    validate_certs: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility: Ansible does not use it for dnf either (sslverify does).' },
    lock_timeout: { type: 'int', default: 30, min: 0, ignored: true, description: 'Accepted for compatibility: the dnf command waits for its own lock.' },
    install_repoquery: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility (yum only).' },
  },
  required_one_of: [['name', 'list', 'update_cache']],
  mutually_exclusive: [['name', 'list']],
  check(args) {
    if (args.list !== undefined) {
      return { param: 'list', message: "vncplay's dnf does not implement list", hint: 'run `dnf list …` with the command module and register its output' };
    }
    if (args.name.includes('*') && args.state !== 'latest' && args.state !== 'absent' && args.state !== 'removed') {
      return { param: 'name', message: "'*' only upgrades everything with state: latest", hint: 'set state: latest' };
    }
    return undefined;
  },
});

export type DnfArgs = ArgsOf<typeof dnfSpec.options>;

/** One package in the rpm database. */
export interface InstalledRpm {
  name: string;
  arch: string;
  /** '' or '0' when the package has no epoch. */
  epoch: string;
  version: string;
  release: string;
}

/** rpm's query format for `InstalledRpm`, tab-separated. */
export const RPM_QUERY_FORMAT = '%{NAME}\t%{ARCH}\t%|EPOCH?{%{EPOCH}}:{0}|\t%{VERSION}\t%{RELEASE}\n';

export function parseInstalled(stdout: string): InstalledRpm[] {
  const rows: InstalledRpm[] = [];
  for (const line of stdout.split('\n')) {
    const [name, arch, epoch, version, release] = line.split('\t');
    // gpg-pubkey entries are rpm's imported keys, not packages.
    if (name && arch && version !== undefined && release !== undefined && name !== 'gpg-pubkey') rows.push({ name, arch, epoch: epoch ?? '0', version, release });
  }
  return rows;
}

/** How dnf prints a package (`str(pkg)`): name-[epoch:]version-release.arch. */
export function nevra(p: InstalledRpm): string {
  const epoch = p.epoch && p.epoch !== '0' ? `${p.epoch}:` : '';
  return `${p.name}-${epoch}${p.version}-${p.release}.${p.arch}`;
}

/** The forms dnf's Subject reads a spec in (name, name.arch, name-version, name-version-release, with epoch and arch). */
function specForms(p: InstalledRpm): string[] {
  const evr = (e: boolean): string => `${e ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
  const forms = [p.name, `${p.name}.${p.arch}`, `${p.name}-${p.version}`, `${p.name}-${evr(false)}`, `${p.name}-${evr(false)}.${p.arch}`];
  forms.push(`${p.name}-${evr(true)}`, `${p.name}-${evr(true)}.${p.arch}`);
  return forms;
}

/** A spec dnf resolves itself (a file, a URL, a group, a module, a provide such as /usr/bin/x), not by name. */
export function isPassThroughSpec(spec: string): boolean {
  return spec.endsWith('.rpm') || spec.includes('://') || spec.startsWith('@') || spec.startsWith('/') || /[<>=()]/.test(spec);
}

/** The installed packages a name spec (globs allowed) names. */
export function installedMatching(spec: string, installed: readonly InstalledRpm[]): InstalledRpm[] {
  const glob = /[*?[]/.test(spec);
  return installed.filter((p) => specForms(p).some((form) => (glob ? fnmatch(form, spec) : form === spec)));
}

/** The architectures Ansible's _split_package_arch knows (a `.suffix` that is one of them is the spec's arch). */
const RPM_ARCHES = new Set(['aarch64', 'alphaev56', 'alphaev5', 'alphaev67', 'alphaev6', 'alpha', 'alphapca56', 'amd64', 'armv3l', 'armv4b', 'armv4l', 'armv5tejl', 'armv5tel', 'armv5tl', 'armv6hl', 'armv6l', 'armv7hl', 'armv7hnl', 'armv7l', 'athlon', 'geode', 'i386', 'i486', 'i586', 'i686', 'ia32e', 'ia64', 'm68k', 'mips64el', 'mips64', 'mips64r6el', 'mips64r6', 'mipsel', 'mips', 'mipsr6el', 'mipsr6', 'noarch', 'pentium3', 'pentium4', 'ppc32dy4', 'ppc64iseries', 'ppc64le', 'ppc64', 'ppc64p7', 'ppc64pseries', 'ppc8260', 'ppc8560', 'ppciseries', 'ppc', 'ppcpseries', 'riscv64', 's390', 's390x', 'sh3', 'sh4a', 'sh4', 'sh', 'sparc64', 'sparc64v', 'sparc', 'sparcv8', 'sparcv9', 'sparcv9v', 'x86_64', 'src']);

/** Ansible's _packagename_dict: a spec with at least name-version-release (and optionally epoch, arch), else undefined. */
export function parseVersionedSpec(spec: string): { name: string; epoch: string; version: string; release: string } | undefined {
  let text = spec.endsWith('.rpm') ? spec.slice(0, -4) : spec;
  const dot = text.lastIndexOf('.');
  if (dot > 0 && RPM_ARCHES.has(text.slice(dot + 1))) text = text.slice(0, dot);
  const m = /^(\S+)-(?:(\d*):)?(.*)-(~?\w+[\w.+]*)$/.exec(text);
  if (!m || !m[3] || !/^\d/.test(m[3].split('.')[0]!)) return undefined;
  return { name: m[1]!, epoch: m[2] || '0', version: m[3], release: m[4]! };
}

/** rpm's rpmvercmp: alternating runs of digits and letters, ~ sorts first, ^ after the end. */
export function rpmVersionCompare(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
  for (;;) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++, j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++, j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /[0-9]/.test(a[i]!);
    const run = numeric ? /^[0-9]+/ : /^[A-Za-z]+/;
    const x = run.exec(a.slice(i))?.[0] ?? '';
    const y = run.exec(b.slice(j))?.[0] ?? '';
    if (y === '') return numeric ? 1 : -1;
    i += x.length;
    j += y.length;
    if (numeric) {
      const xs = x.replace(/^0+/, '');
      const ys = y.replace(/^0+/, '');
      if (xs.length !== ys.length) return xs.length > ys.length ? 1 : -1;
      if (xs !== ys) return xs > ys ? 1 : -1;
    } else if (x !== y) return x > y ? 1 : -1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Compares [epoch:]version-release triples as rpm does. */
export function compareEvr(a: { epoch: string; version: string; release: string }, b: { epoch: string; version: string; release: string }): number {
  const epochs = Number(a.epoch || 0) - Number(b.epoch || 0);
  if (epochs !== 0) return Math.sign(epochs);
  return rpmVersionCompare(a.version, b.version) || rpmVersionCompare(a.release, b.release);
}

/** Ansible's _is_newer_version_installed: the spec names a version and a higher one of that name is installed. */
export function newerVersionInstalled(spec: string, installed: readonly InstalledRpm[]): boolean {
  const wanted = parseVersionedSpec(spec);
  if (!wanted) return false;
  return installed.some((p) => p.name === wanted.name && compareEvr(p, wanted) > 0);
}

/** One dnf command line's operation: `install SPECS`, `upgrade SPECS` (none: everything), `remove SPECS`, `autoremove`. */
export interface DnfCall {
  command: 'install' | 'upgrade' | 'remove' | 'autoremove';
  specs: string[];
}

export interface DnfPlan {
  calls: DnfCall[];
  /** Ansible's results lines that come from the plan, not from a transaction (update_only's skipped names). */
  notes: string[];
}

/** The effective state: Ansible's default is installed, or absent when only autoremove is asked for. */
export function effectiveState(args: Pick<DnfArgs, 'state' | 'name' | 'autoremove'>): 'present' | 'latest' | 'absent' {
  const state = args.state ?? (args.name.length === 0 && args.autoremove ? 'absent' : 'installed');
  if (state === 'installed' || state === 'present') return 'present';
  if (state === 'removed' || state === 'absent') return 'absent';
  return 'latest';
}

/** Which dnf calls Ansible's ensure() amounts to, from the installed packages. Pure. */
export function planDnf(args: Pick<DnfArgs, 'state' | 'name' | 'autoremove' | 'update_only' | 'allow_downgrade'>, installed: readonly InstalledRpm[]): DnfPlan {
  const state = effectiveState(args);
  const specs = args.name.map((n) => n.trim()).filter(Boolean);
  const calls: DnfCall[] = [];
  const notes: string[] = [];
  const isInstalled = (spec: string): boolean => installedMatching(spec, installed).length > 0;
  if (state === 'absent') {
    // Names not installed are no error (Ansible's benign "No match for argument" on removal).
    const remove = specs.filter((s) => isPassThroughSpec(s) || isInstalled(s));
    if (remove.length) calls.push({ command: 'remove', specs: remove });
    if (args.autoremove) calls.push({ command: 'autoremove', specs: [] });
    return { calls, notes };
  }
  if (state === 'latest' && specs.includes('*')) return { calls: [{ command: 'upgrade', specs: [] }], notes };
  const install: string[] = [];
  const upgrade: string[] = [];
  for (const spec of specs) {
    if (isPassThroughSpec(spec)) install.push(spec);
    // A lower version than the installed one: Ansible leaves it unless allow_downgrade (dnf install then downgrades).
    else if (newerVersionInstalled(spec, installed)) {
      if (args.allow_downgrade) install.push(spec);
    } else if (!isInstalled(spec)) {
      if (state === 'latest' && args.update_only) notes.push(`Packages providing ${spec} not installed due to update_only specified`);
      else install.push(spec);
    } else if (state === 'latest') upgrade.push(spec);
  }
  if (install.length) calls.push({ command: 'install', specs: install });
  if (upgrade.length) calls.push({ command: 'upgrade', specs: upgrade });
  if (args.autoremove) calls.push({ command: 'autoremove', specs: [] });
  return { calls, notes };
}

/** A row of dnf's transaction table, by the side of the transaction it is on. */
export interface TransactionRow {
  action: 'install' | 'upgrade' | 'downgrade' | 'remove';
  name: string;
  arch: string;
  /** [epoch:]version-release as dnf prints it. */
  evr: string;
}

/** dnf's table headings, by what they do. */
const SECTION_ACTIONS: Record<string, TransactionRow['action']> = {
  'Installing': 'install',
  'Installing dependencies': 'install',
  'Installing weak dependencies': 'install',
  'Reinstalling': 'install',
  'Upgrading': 'upgrade',
  'Downgrading': 'downgrade',
  'Removing': 'remove',
  'Removing dependent packages': 'remove',
  'Removing unused dependencies': 'remove',
};

const SIZE_NUMBER = /^\d+(\.\d+)?$/;
const SIZE_UNIT = /^[kMGTPE]$/;

/**
 * Reads dnf's transaction table (printed before `-y` runs it and before `--assumeno` aborts). A row is
 * `name arch [epoch:]version-release repo size`; a long name goes on a line of its own and the rest follows on the next,
 * so a section's rows are read as one stream of words; `replacing name.arch evr` (obsoletes) removes a package.
 */
export function parseTransaction(stdout: string): TransactionRow[] {
  const rows: TransactionRow[] = [];
  let action: TransactionRow['action'] | undefined;
  let words: string[] = [];
  const flush = (): void => {
    let i = 0;
    while (action && i < words.length) {
      if (words[i] === 'replacing' && i + 2 < words.length) {
        const [name = '', arch = ''] = splitNameArch(words[i + 1]!);
        rows.push({ action: 'remove', name, arch, evr: words[i + 2]! });
        i += 3;
        continue;
      }
      if (i + 3 >= words.length) break;
      rows.push({ action, name: words[i]!, arch: words[i + 1]!, evr: words[i + 2]! });
      i += 4;
      if (SIZE_NUMBER.test(words[i] ?? '')) i++;
      if (SIZE_UNIT.test(words[i] ?? '')) i++;
    }
    words = [];
  };
  for (const line of stdout.split('\n')) {
    const heading = /^([A-Z][A-Za-z ]+):$/.exec(line);
    if (heading) {
      flush();
      action = SECTION_ACTIONS[heading[1]!];
      continue;
    }
    if (line.trim() === '' || /^=+$/.test(line) || line.startsWith('Transaction Summary')) {
      flush();
      if (line.startsWith('Transaction Summary')) action = undefined;
      continue;
    }
    if (action && line.startsWith(' ')) words.push(...line.trim().split(/\s+/));
  }
  flush();
  return rows;
}

function splitNameArch(text: string): [string, string] {
  const dot = text.lastIndexOf('.');
  return dot > 0 ? [text.slice(0, dot), text.slice(dot + 1)] : [text, ''];
}

/**
 * Ansible's results lines for a transaction: the packages installed (upgraded and downgraded ones in their new
 * version) and removed (upgraded and downgraded ones in their old version, which the table does not show: it comes
 * from the rpm database read before).
 */
export function transactionResults(rows: readonly TransactionRow[], installed: readonly InstalledRpm[], downloadOnly: boolean): string[] {
  const added: string[] = [];
  const removed: string[] = [];
  for (const row of rows) {
    const text = `${row.name}-${row.evr}.${row.arch}`;
    if (row.action === 'remove') {
      removed.push(`Removed: ${text}`);
      continue;
    }
    added.push(`${downloadOnly ? 'Downloaded' : 'Installed'}: ${text}`);
    if (row.action !== 'install' && !downloadOnly) {
      for (const old of installed.filter((p) => p.name === row.name && p.arch === row.arch)) removed.push(`Removed: ${nevra(old)}`);
    }
  }
  return [...added, ...removed];
}

/** dnf's options for the task's parameters (the same on every call of the task). */
export function dnfOptions(args: DnfArgs): string[] {
  const opts: string[] = [];
  if (args.conf_file !== undefined) opts.push(`--config=${args.conf_file}`);
  if (args.installroot !== '/') opts.push(`--installroot=${args.installroot}`);
  if (args.releasever !== undefined) opts.push(`--releasever=${args.releasever}`);
  // Ansible disables first, then enables: `disablerepo: '*'` with `enablerepo: one` leaves one.
  for (const repo of args.disablerepo) opts.push(`--disablerepo=${repo}`);
  for (const repo of args.enablerepo) opts.push(`--enablerepo=${repo}`);
  for (const pkg of args.exclude) opts.push(`--exclude=${pkg}`);
  if (args.disable_gpg_check) opts.push('--nogpgcheck');
  // Ansible's _configure_base: local .rpm files are checked too, and removal takes unneeded dependencies only with
  // autoremove (whatever dnf.conf's clean_requirements_on_remove says).
  else opts.push('--setopt=localpkg_gpgcheck=True');
  opts.push(`--setopt=clean_requirements_on_remove=${args.autoremove ? 'True' : 'False'}`);
  if (!args.install_weak_deps) opts.push('--setopt=install_weak_deps=False');
  if (!args.sslverify) opts.push('--setopt=sslverify=False');
  if (args.disable_excludes !== undefined) opts.push(`--disableexcludes=${args.disable_excludes}`);
  for (const plugin of args.disable_plugin) opts.push(`--disableplugin=${plugin}`);
  for (const plugin of args.enable_plugin) opts.push(`--enableplugin=${plugin}`);
  if (args.cacheonly) opts.push('--cacheonly');
  if (args.allowerasing) opts.push('--allowerasing');
  if (args.nobest) opts.push('--nobest');
  if (args.skip_broken) opts.push('--skip-broken');
  if (args.security) opts.push('--security');
  if (args.bugfix) opts.push('--bugfix');
  if (args.download_only) opts.push('--downloadonly');
  if (args.download_dir !== undefined) opts.push(`--downloaddir=${args.download_dir}`);
  return opts;
}

/** The environment Ansible's modules run with: a parsable locale. */
const C_LOCALE = ['env', 'LANG=C', 'LC_ALL=C', 'LC_MESSAGES=C'];

/** The argv of one call; `refresh` on the first call only (update_cache), `check` for --assumeno. */
export function dnfArgv(args: DnfArgs, call: DnfCall, opts: { check: boolean; refresh: boolean }): string[] {
  const argv = [...C_LOCALE, 'dnf', opts.check ? '--assumeno' : '-y', ...dnfOptions(args)];
  if (opts.refresh) argv.push('--refresh');
  argv.push(call.command);
  if (call.specs.length) argv.push('--', ...call.specs);
  return argv;
}

/** "No match for argument: X" — an unknown name on install (a failure) or on removal (nothing to do). */
export function unmatchedSpecs(output: string): string[] {
  return [...output.matchAll(/^No match for argument: (.*)$/gm)].map((m) => m[1]!.trim());
}

/** Notes dnf prints that are not the error (an installroot without a release package). */
const DNF_NOTES = /^(Unable to detect release version.*|Last metadata expiration check.*|Operation aborted\.|)$/;

/** dnf's error for the failure message: the `Error:` line with the indented lines after it, else its first other line. */
export function dnfError(output: string): string {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => l.startsWith('Error:'));
  if (at >= 0) {
    const rest = lines.slice(at + 1);
    const end = rest.findIndex((l) => !l.startsWith(' '));
    return [lines[at]!.replace(/^Error: ?/, ''), ...rest.slice(0, end < 0 ? rest.length : end)].join('\n').trim();
  }
  return lines.find((l) => !DNF_NOTES.test(l.trim()))?.trim() ?? '';
}

/** Ansible's message when a package's signature does not check out (dnf names the package and why). */
export function gpgFailure(output: string): string | undefined {
  const m = /^(?:Package (\S+)\.rpm is not signed|Public key for (\S+)\.rpm is not installed|Package (\S+)\.rpm has a bad signature.*)$/m.exec(output);
  if (m) return `Failed to validate GPG signature for ${m[1] ?? m[2] ?? m[3]}: ${m[0]}`;
  if (/GPG check FAILED|You have enabled checking of packages via GPG keys/.test(output)) {
    return 'Failed to validate GPG signature: no public key rpm has imported signs the packages (rpm_key imports one; disable_gpg_check skips the check)';
  }
  return undefined;
}

function rpmQueryArgv(args: DnfArgs): string[] {
  const root = args.installroot !== '/' ? ['--root', args.installroot] : [];
  return [...C_LOCALE, 'rpm', ...root, '-qa', '--qf', RPM_QUERY_FORMAT];
}

function failure(msg: string, extra: Record<string, unknown> = {}): ModuleReturn {
  return { failed: true, msg, data: { results: [], rc: 1, failures: [], ...extra } };
}

export async function runDnf(args: DnfArgs, ctx: ModuleContext): Promise<ModuleReturn> {
  if (args.update_cache && args.name.length === 0) {
    const res = await ctx.exec([...C_LOCALE, 'dnf', '-y', ...dnfOptions(args), '--refresh', 'makecache'], { timeoutMs: 600_000 });
    if (res.rc !== 0) return failure(`Failed to synchronize repodata: ${dnfError(`${res.stderr}\n${res.stdout}`)}`, { changed: false });
    return { changed: false, msg: 'Cache updated', data: { results: [], rc: 0 } };
  }
  const query = await ctx.exec(rpmQueryArgv(args));
  // dnf needs only librpm: without the rpm program vncplay cannot read what is installed.
  if (query.rc === 127) return failure('dnf: the rpm program is not installed on the host (vncplay reads the rpm database with `rpm -qa`)');
  // An rpm database that does not exist yet (a Debian host, a new installroot) holds no packages.
  const installed = query.rc === 0 ? parseInstalled(query.stdout) : [];
  const plan = planDnf(args, installed);
  const results: string[] = [...plan.notes];
  let refresh = args.update_cache;
  for (const call of plan.calls) {
    const res = await ctx.exec(dnfArgv(args, call, { check: ctx.check, refresh }), { timeoutMs: 1_800_000 });
    refresh = false;
    const output = `${res.stdout}\n${res.stderr}`;
    const unmatched = unmatchedSpecs(output);
    if (call.command === 'install' && unmatched.length) {
      return failure('Failed to install some of the specified packages', { failures: unmatched.map((s) => `No package ${s} available.`) });
    }
    const rows = parseTransaction(res.stdout);
    // --assumeno ends every transaction it shows with "Operation aborted." and rc 1.
    const aborted = ctx.check && /^Operation aborted\.$/m.test(output);
    const nothing = /^(Nothing to do\.|No packages marked for removal\.)$/m.test(output);
    if (res.rc !== 0 && !aborted && !(nothing && rows.length === 0)) {
      const gpg = gpgFailure(output);
      if (gpg) return { failed: true, msg: gpg };
      const error = dnfError(`${res.stderr}\n${res.stdout}`);
      const depsolve = /^ Problem/m.test(output);
      return failure(depsolve ? `Depsolve Error occurred: ${error}` : `Unknown Error occurred: ${error}`);
    }
    results.push(...transactionResults(rows, installed, args.download_only));
  }
  const changed = results.some((line) => /^(Installed|Removed|Downloaded): /.test(line));
  if (!changed) return { changed: false, msg: 'Nothing to do', data: { results, rc: 0 } };
  const msg = ctx.check ? 'Check mode: No changes made, but would have if not in check mode' : '';
  return { changed: true, msg, data: { results, rc: 0 } };
}

export const dnfModule = actionModule(dnfSpec, {
  kind: 'action',
  name: 'dnf',
  where: 'host',
  // Check mode is the module's own: the same dnf calls with --assumeno show the transaction and run nothing.
  inCheckMode: 'run',
  run: runDnf,
});
