import { compareDebianVersions } from './debian-version.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';
import { fnmatch } from '../playbook/fnmatch.js';

/**
 * apt: Ansible's ansible.builtin.apt, driven by apt-get/apt-cache/dpkg-query (no python-apt on the host).
 *
 * One remote command reads everything (optional cache update, the cache's age, `apt-cache policy`, dpkg's state and
 * apt-mark's auto list for the named packages); a pure planner (`planApt`) turns that into at most one apt-get
 * call for all the packages; check mode runs the same call with --simulate, as Ansible does. Results carry
 * Ansible's fields: cache_updated, cache_update_time, stdout, stderr.
 */

/** A package spec: a name (optionally :arch), optionally `=VERSION` (fnmatch pattern) or `>=VERSION`; or `*`. */
// Name patterns (vp-*) pass here so that check() can say they are not supported, rather than "not a name".
const PACKAGE_SPEC = '^(\\*|[A-Za-z0-9*?\\[\\]!][A-Za-z0-9+._*?\\[\\]!-]*(:[A-Za-z0-9-]+)?((>?=)[A-Za-z0-9.+~:*?_-]+)?)$';

/** Exported for `package`, which parses the arguments it hands over with it. */
export const aptSpec = defineSpec({
  description:
    'Install, upgrade or remove Debian packages with apt-get (all named packages in one call), update the cache, install .deb files, autoremove, upgrade the system.',
  options: {
    name: {
      type: 'list',
      elements: 'str',
      aliases: ['package', 'pkg'],
      pattern: PACKAGE_SPEC,
      patternText: 'a package name, optionally with =VERSION or >=VERSION (or * with state latest)',
      description: 'Package names, `name=version` (a version pattern such as `1.0*`) or `name>=version`.',
    },
    state: {
      type: 'str',
      choices: ['absent', 'build-dep', 'fixed', 'latest', 'present'],
      removedValues: { installed: 'write `state: present`', removed: 'write `state: absent`' },
      default: 'present',
      description: 'present installs missing packages, latest also upgrades them, absent removes them, fixed also fixes broken dependencies, build-dep installs their build dependencies.',
    },
    update_cache: { type: 'bool', aliases: ['update-cache'], description: 'Run apt-get update first (only when the cache is older than cache_valid_time).' },
    update_cache_retries: { type: 'int', min: 1, default: 5, description: 'How many times to try apt-get update.' },
    update_cache_retry_max_delay: { type: 'int', min: 0, default: 12, description: 'Longest pause in seconds between tries (exponential backoff).' },
    cache_valid_time: { type: 'int', min: 0, default: 0, description: 'Only update the cache when it is older than this many seconds; setting it implies update_cache.' },
    purge: { type: 'bool', default: false, description: 'Remove configuration files too (--purge), also of packages already removed.' },
    deb: { type: 'path', description: 'A .deb file on the host, or an http(s) URL the host downloads it from; its dependencies come from apt.' },
    default_release: { type: 'str', aliases: ['default-release'], description: 'Install from this release (-t).' },
    install_recommends: { type: 'bool', aliases: ['install-recommends'], description: "Install recommended packages too; not given: apt's own default." },
    force: { type: 'bool', default: false, description: 'Pass --force-yes (dangerous: installs unauthenticated or downgraded packages).' },
    upgrade: {
      type: 'str',
      choices: ['dist', 'full', 'no', 'safe', 'yes'],
      default: 'no',
      description: 'Upgrade the installed packages: yes/safe as apt-get upgrade --with-new-pkgs, full/dist as apt-get dist-upgrade.',
    },
    dpkg_options: { type: 'str', default: 'force-confdef,force-confold', description: 'Comma-separated dpkg options (without --).' },
    autoremove: { type: 'bool', default: false, description: 'Remove packages installed as dependencies that nothing needs any more.' },
    autoclean: { type: 'bool', default: false, description: 'Remove .deb files from the cache that can no longer be downloaded.' },
    fail_on_autoremove: { type: 'bool', default: false, description: 'Fail instead of removing packages (--no-remove).' },
    policy_rc_d: { type: 'int', description: 'Exit code of a temporary /usr/sbin/policy-rc.d (101: do not start services) while packages are installed.' },
    only_upgrade: { type: 'bool', default: false, description: 'Only upgrade packages already installed.' },
    force_apt_get: { type: 'bool', default: false, description: 'Accepted for compatibility: vncplay always uses apt-get.' },
    clean: { type: 'bool', default: false, description: 'Run apt-get clean (remove every downloaded .deb).' },
    allow_unauthenticated: { type: 'bool', default: false, aliases: ['allow-unauthenticated'], description: 'Install packages that cannot be authenticated.' },
    allow_downgrade: {
      type: 'bool',
      default: false,
      aliases: ['allow-downgrade', 'allow_downgrades', 'allow-downgrades'],
      description: 'Allow installing a lower version than the installed one (name=VERSION).',
    },
    allow_change_held_packages: { type: 'bool', default: false, description: 'Allow changing held packages.' },
    lock_timeout: { type: 'int', min: 0, default: 60, description: "Seconds to wait for apt's lock held by another process." },
  },
  mutually_exclusive: [['deb', 'name', 'upgrade']],
  required_one_of: [['autoremove', 'deb', 'name', 'update_cache', 'upgrade']],
  check(args) {
    if (args.deb !== undefined && args.state !== 'present') {
      return { param: 'state', message: 'deb only supports state=present', hint: 'remove state, or use name: to manage packages from the repositories' };
    }
    const names = args.name ?? [];
    const wildcard = names.find((n) => n !== '*' && /[*?[\]!]/.test(splitPackage(n).name));
    if (wildcard !== undefined) {
      return { param: 'name', message: `package name patterns (${wildcard}) are not supported by vncplay's apt`, hint: 'name the packages' };
    }
    if (names.includes('*') && names.length > 1 && args.state === 'latest') {
      return { param: 'name', message: 'unable to install additional packages when upgrading all installed packages' };
    }
    return undefined;
  },
});

export type AptArgs = ArgsOf<typeof aptSpec.options>;

export interface PackageSpec {
  name: string;
  op?: '=' | '>=';
  version?: string;
}

/** Ansible's package_split: `name`, `name=1.0*`, `name>=1.0`. */
export function splitPackage(specText: string): PackageSpec {
  const m = /^(.*?)(>?=)(.*)$/.exec(specText);
  if (!m) return { name: specText.trim() };
  return { name: m[1]!.trim(), op: m[2] as '=' | '>=', version: m[3]!.trim() };
}

/** What apt and dpkg say about one package name. */
export interface PackageFacts {
  /** dpkg's state letter (db:Status-Abbrev's second): i installed, c config-files, n not installed, U/H/F/W/t half-done. */
  state: string;
  installed?: string;
  /** apt's candidate, undefined for none. */
  candidate?: string;
  /** Every version apt knows, highest first (the policy's version table). */
  versions: string[];
  auto: boolean;
  /** apt-cache policy knows the name at all (a virtual package has no candidate but is known). */
  known: boolean;
}

export interface AptFacts {
  /** The cache's time (update-success-stamp or /var/lib/apt/lists) before and after the update, seconds. */
  cacheTimeBefore: number;
  cacheTimeAfter: number;
  /** The cache was old enough to update (in check mode: would be updated). */
  updateRan: boolean;
  packages: Record<string, PackageFacts>;
  deb?: { file: string; name: string; version: string; installed?: string; downloaded: boolean };
}

/**
 * The read-only part, one remote command: optional cache update (skipped in check mode, as Ansible does), then the
 * cache age and the package facts. Fixed script; every value arrives as a positional parameter.
 */
export const GATHER_SCRIPT = String.raw`
mode=$1 valid=$2 retries=$3 maxdelay=$4 lock=$5 deb=$6 fmt=$7 debfmt=$8; shift 8
stamp=/var/lib/apt/periodic/update-success-stamp lists=/var/lib/apt/lists
cache_time() { if [ -e "$stamp" ]; then stat -c %Y "$stamp"; elif [ -e "$lists" ]; then stat -c %Y "$lists"; else echo 0; fi; }
before=$(cache_time)
echo "cache_before=$before"
if [ "$mode" != none ] && [ $((before + valid)) -lt "$(date +%s)" ]; then
  echo update=1
  if [ "$mode" = run ]; then
    try=0 delay=1
    until out=$(apt-get update -q -o DPkg::Lock::Timeout="$lock" 2>&1); do
      try=$((try + 1))
      if [ "$try" -ge "$retries" ]; then printf 'Failed to update apt cache: %s\n' "$out" >&2; exit 3; fi
      [ "$delay" -le "$maxdelay" ] || delay=$maxdelay
      sleep "$delay"; delay=$((delay * 2))
    done
  fi
fi
echo "cache_after=$(cache_time)"
if [ -n "$deb" ]; then
  f=$deb
  case $deb in
    *://*) f=$(mktemp --suffix=.deb) && /usr/lib/apt/apt-helper download-file "$deb" "$f" >/dev/null 2>&1 ||
      { rm -f "$f"; echo "Failure downloading $deb" >&2; exit 4; }; echo "deb_downloaded=1";;
  esac
  echo "deb_file=$f"
  fields=$(dpkg-deb -f "$f" Package Version) || exit 5
  printf '%s\n' "$fields" | sed -n 's/^Package: /deb_name=/p; s/^Version: /deb_version=/p'
  name=$(printf '%s\n' "$fields" | sed -n 's/^Package: //p')
  echo "deb_installed=$(dpkg-query -W -f="$debfmt" "$name" 2>/dev/null | awk '$1 ~ /^.i/ {print $2}')"
fi
if [ $# -gt 0 ]; then
  echo ---policy---
  apt-cache policy "$@" 2>/dev/null
  echo ---dpkg---
  dpkg-query -W -f="$fmt" "$@" 2>/dev/null
  echo ---auto---
  apt-mark showauto "$@" 2>/dev/null
fi
exit 0
`;

/** dpkg-query formats (passed as parameters: the script text stays free of `${…}`). */
const DPKG_FORMAT = '${Package}\t${db:Status-Abbrev}\t${Version}\n';
const DEB_STATE_FORMAT = '${db:Status-Abbrev} ${Version}';

/** Parses the gather script's output. */
export function parseGather(stdout: string, names: readonly string[]): AptFacts {
  const [head = '', ...sections] = stdout.split(/^---(policy|dpkg|auto)---$/m);
  const kv = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const bySection = new Map<string, string>();
  for (let i = 0; i + 1 < sections.length; i += 2) bySection.set(sections[i]!, sections[i + 1]!);
  const packages: Record<string, PackageFacts> = {};
  const bare = (n: string): string => n.replace(/:[^:]*$/, '');
  for (const n of names) packages[n] = { state: 'n', versions: [], auto: false, known: false };
  const find = (n: string): PackageFacts | undefined => packages[n] ?? Object.entries(packages).find(([k]) => bare(k) === bare(n))?.[1];
  let current: PackageFacts | undefined;
  for (const line of (bySection.get('policy') ?? '').split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header) {
      current = find(header[1]!);
      if (current) current.known = true;
      continue;
    }
    if (!current) continue;
    const cand = /^\s+Candidate: (.*)$/.exec(line);
    if (cand) current.candidate = cand[1] === '(none)' ? undefined : cand[1];
    const ver = /^\s+(?:\*\*\* )?(\S+) -?\d+$/.exec(line);
    if (ver && !line.includes('Installed:') && !line.includes('Candidate:')) current.versions.push(ver[1]!);
  }
  for (const line of (bySection.get('dpkg') ?? '').split('\n')) {
    const [name, abbrev, version] = line.split('\t');
    const p = name ? find(name) : undefined;
    if (!p || !abbrev) continue;
    p.state = abbrev[1] ?? 'n';
    if (p.state === 'i') p.installed = version;
    else if (p.state === 'c') p.installed = undefined;
  }
  for (const line of (bySection.get('auto') ?? '').split('\n')) {
    const p = line.trim() ? find(line.trim()) : undefined;
    if (p) p.auto = true;
  }
  const facts: AptFacts = {
    cacheTimeBefore: Number(kv.get('cache_before') ?? 0) || 0,
    cacheTimeAfter: Number(kv.get('cache_after') ?? 0) || 0,
    updateRan: kv.get('update') === '1',
    packages,
  };
  const debFile = kv.get('deb_file');
  if (debFile !== undefined) {
    const installed = kv.get('deb_installed');
    facts.deb = {
      file: debFile,
      name: kv.get('deb_name') ?? '',
      version: kv.get('deb_version') ?? '',
      downloaded: kv.get('deb_downloaded') === '1',
      ...(installed ? { installed } : {}),
    };
  }
  return facts;
}

/** Ansible's package_best_match without pins: the highest version matching `=` pattern or `>=`, else the candidate. */
function bestMatch(spec: PackageSpec, p: PackageFacts): string | undefined {
  if (spec.op === '=') return p.versions.find((v) => fnmatch(v, spec.version!));
  if (spec.op === '>=') return p.candidate !== undefined && compareDebianVersions(p.candidate, spec.version!) >= 0 ? p.candidate : undefined;
  return p.candidate;
}

/** Why planPackages found nothing to do, said from the facts: `vp-a is installed (1.0-1); vp-b is absent`. */
export function aptNoopReason(state: AptArgs['state'], specs: readonly string[], facts: AptFacts): string {
  if (specs.length === 0) return 'no package named';
  return specs
    .map((spec) => {
      const name = splitPackage(spec).name;
      const p = facts.packages[name];
      if (!p || p.state !== 'i' || p.installed === undefined) return `${name} is not installed`;
      const newest = state === 'latest' && p.installed === p.candidate ? ', the candidate' : '';
      return `${name} is installed (${p.installed}${newest})`;
    })
    .join('; ');
}

export type AptPlan =
  | { kind: 'none' }
  | { kind: 'fail'; msg: string; withCache: boolean }
  | { kind: 'install'; specs: string[]; names: string[] }
  | { kind: 'remove'; specs: string[] };

/**
 * Which packages one apt-get call must name, from the facts (Ansible's install()/remove() decisions). Pure.
 * `names` are the ones to mark manual afterwards (installed as a dependency, now asked for by name).
 */
export function planPackages(args: Pick<AptArgs, 'state' | 'purge' | 'only_upgrade'>, specs: readonly string[], facts: AptFacts): AptPlan {
  if (args.state === 'absent') {
    const remove = specs.filter((s) => {
      const p = facts.packages[splitPackage(s).name];
      return p !== undefined && (p.state === 'i' || (args.purge && p.state !== 'n'));
    });
    return remove.length ? { kind: 'remove', specs: remove } : { kind: 'none' };
  }
  if (args.state === 'build-dep') return specs.length ? { kind: 'install', specs: [...specs], names: [] } : { kind: 'none' };
  const install: string[] = [];
  const manual: string[] = [];
  for (const text of specs) {
    const spec = splitPackage(text);
    const p = facts.packages[spec.name];
    if (!p || !p.known) return { kind: 'fail', msg: `No package matching '${spec.name}' is available`, withCache: false };
    const isInstalled = p.state === 'i' && p.installed !== undefined;
    if (!isInstalled && args.only_upgrade) continue;
    // A known name without any version is virtual: apt-get picks the provider (Ansible returns "installable").
    const virtual = p.versions.length === 0 && p.candidate === undefined;
    const best = virtual ? undefined : bestMatch(spec, p);
    let versionInstalled = false;
    let installable: string | true | undefined = virtual ? true : best;
    if (isInstalled) {
      const v = p.installed!;
      if (spec.op === '=') versionInstalled = fnmatch(v, spec.version!);
      else if (spec.op === '>=') versionInstalled = compareDebianVersions(v, spec.version!) >= 0;
      else versionInstalled = true;
      installable = best !== undefined && best !== v ? best : undefined;
    }
    if (p.auto && isInstalled) manual.push(spec.name);
    if (!versionInstalled && installable === undefined) return { kind: 'fail', msg: `no available installation candidate for ${text}`, withCache: true };
    const upgrade = args.state === 'latest';
    if (installable !== undefined && (!isInstalled || upgrade || !versionInstalled)) {
      install.push(installable === true ? (spec.version ? `${spec.name}=${spec.version}` : spec.name) : `${spec.name}=${installable}`);
    } else if (versionInstalled && installable !== undefined && spec.op === '=') {
      // Ansible's documented-as-legacy case: installed, a newer version also matches the pattern.
      install.push(`${spec.name}=${spec.version}`);
    }
  }
  if (install.length) return { kind: 'install', specs: install, names: manual };
  return manual.length ? { kind: 'install', specs: [], names: manual } : { kind: 'none' };
}

/** The environment Ansible's apt module runs apt-get with: no prompts, a parsable locale. */
const APT_ENV = ['env', 'DEBIAN_FRONTEND=noninteractive', 'DEBIAN_PRIORITY=critical', 'LANG=C', 'LC_ALL=C', 'LC_MESSAGES=C', 'LC_CTYPE=C'];

function dpkgOptions(args: AptArgs): string[] {
  return args.dpkg_options
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .flatMap((o) => ['-o', `Dpkg::Options::=--${o}`]);
}

/** apt-get's argv for one operation, with the flags Ansible adds for the same parameters. */
export function aptGetArgv(args: AptArgs, operation: string, packages: readonly string[], check: boolean): string[] {
  const argv = [...APT_ENV, 'apt-get', '-y', '-o', `DPkg::Lock::Timeout=${args.lock_timeout}`, ...dpkgOptions(args)];
  if (operation === 'remove') argv.push('-q');
  if (args.force) argv.push('--force-yes');
  if (args.purge && (operation === 'remove' || operation === 'autoremove')) argv.push('--purge');
  if (args.autoremove && (operation === 'install' || operation === 'remove')) argv.push('--auto-remove');
  if (args.fail_on_autoremove && operation !== 'remove') argv.push('--no-remove');
  if (args.only_upgrade && operation === 'install') argv.push('--only-upgrade');
  if (args.state === 'fixed' && operation === 'install') argv.push('--fix-broken');
  if (operation === 'upgrade') argv.push('--with-new-pkgs');
  if (check) argv.push('--simulate');
  argv.push(operation, ...packages);
  if (args.default_release !== undefined && operation !== 'remove') argv.push('-t', args.default_release);
  if (operation === 'install' || operation === 'build-dep' || operation === 'upgrade' || operation === 'dist-upgrade') {
    if (args.install_recommends === false) argv.push('-o', 'APT::Install-Recommends=no');
    else if (args.install_recommends === true) argv.push('-o', 'APT::Install-Recommends=yes');
    if (args.allow_unauthenticated) argv.push('--allow-unauthenticated');
    if (args.allow_downgrade) argv.push('--allow-downgrades');
    if (args.allow_change_held_packages) argv.push('--allow-change-held-packages');
  }
  return argv;
}

/** Runs argv with a temporary /usr/sbin/policy-rc.d (Ansible's policy_rc_d), restoring what was there. */
function withPolicyRcD(argv: string[], code: number | undefined): string[] {
  if (code === undefined) return argv;
  const script = [
    'code=$1; shift; p=/usr/sbin/policy-rc.d b=/usr/sbin/policy-rc.d.vncplay-backup',
    '[ ! -e "$p" ] || mv "$p" "$b"',
    'printf "#!/bin/sh\\nexit %d\\n" "$code" > "$p" && chmod 0755 "$p"',
    '"$@"; rc=$?',
    'rm -f "$p"; [ ! -e "$b" ] || mv "$b" "$p"',
    'exit $rc',
  ];
  return ['sh', '-c', script.join('\n'), 'sh', String(code), ...argv];
}

/** An apt-get run's output as Ansible registers it (the executor adds the _lines lists to every module's result). */
function output(res: { stdout: string; stderr: string }): Record<string, unknown> {
  return { stdout: res.stdout, stderr: res.stderr, stdout_lines: splitLines(res.stdout), stderr_lines: splitLines(res.stderr) };
}

/** Python's str.splitlines() for apt's output (no trailing empty line). */
function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** "0 upgraded, 0 newly installed": apt-get did nothing (Ansible's APT_GET_ZERO). */
const APT_GET_ZERO = '\n0 upgraded, 0 newly installed';

function cacheFields(facts: AptFacts, check: boolean): { cache_updated: boolean; cache_update_time: number } {
  const updated = facts.updateRan && (check || facts.cacheTimeAfter !== facts.cacheTimeBefore);
  return { cache_updated: updated, cache_update_time: facts.updateRan ? facts.cacheTimeAfter : facts.cacheTimeBefore };
}

async function execApt(ctx: ModuleContext, args: AptArgs, argv: string[]): Promise<{ rc: number; stdout: string; stderr: string }> {
  return ctx.exec(withPolicyRcD(argv, args.policy_rc_d));
}

async function gather(args: AptArgs, ctx: ModuleContext, names: readonly string[]): Promise<AptFacts | ModuleReturn> {
  const wantsUpdate = args.update_cache === true || args.cache_valid_time > 0;
  const mode = !wantsUpdate ? 'none' : ctx.check ? 'check' : 'run';
  const deb = args.deb ?? '';
  const argv = [
    'sh', '-c', GATHER_SCRIPT, 'sh', mode, String(args.cache_valid_time), String(args.update_cache_retries),
    String(args.update_cache_retry_max_delay), String(args.lock_timeout), deb, DPKG_FORMAT, DEB_STATE_FORMAT, ...names,
  ];
  const res = await ctx.exec(argv, { timeoutMs: (args.lock_timeout + 600) * 1000 });
  if (res.rc !== 0) {
    const msg = res.stderr.trim() || `apt: reading the package state failed (rc ${res.rc})`;
    return { failed: true, msg, data: { rc: res.rc, stdout: res.stdout, stderr: res.stderr } };
  }
  return parseGather(res.stdout, names);
}

async function installDeb(args: AptArgs, ctx: ModuleContext, deb: NonNullable<AptFacts['deb']>): Promise<ModuleReturn> {
  const cleanup = deb.downloaded ? async (): Promise<void> => void (await ctx.exec(['rm', '-f', '--', deb.file])) : async (): Promise<void> => undefined;
  if (deb.installed !== undefined && compareDebianVersions(deb.installed, deb.version) === 0 && !args.force) {
    await cleanup();
    return { changed: false, data: output({ stdout: '', stderr: '' }) };
  }
  const file = deb.file.startsWith('/') ? deb.file : `./${deb.file}`;
  const res = await execApt(ctx, args, aptGetArgv(args, 'install', [file], ctx.check));
  await cleanup();
  if (res.rc !== 0) return { failed: true, msg: `apt-get install ${args.deb ?? ''} failed: ${res.stderr.trim()}`, data: { ...output(res), rc: res.rc } };
  return { changed: true, data: output(res) };
}

/** upgrade: yes/safe → apt-get upgrade --with-new-pkgs; full/dist → dist-upgrade; changed unless apt did nothing. */
async function upgradeAll(args: AptArgs, ctx: ModuleContext, mode: string): Promise<ModuleReturn> {
  const op = mode === 'full' || mode === 'dist' ? 'dist-upgrade' : 'upgrade';
  const res = await execApt(ctx, args, aptGetArgv(args, op, [], ctx.check));
  if (res.rc !== 0) return { failed: true, msg: `'apt-get ${op}' failed: ${res.stderr.trim()}`, data: { stdout: res.stdout, rc: res.rc } };
  return { changed: !res.stdout.includes(APT_GET_ZERO), msg: res.stdout, data: output(res) };
}

export async function runApt(args: AptArgs, ctx: ModuleContext): Promise<ModuleReturn> {
  if (args.force_apt_get) ctx.log(1, 'force_apt_get: vncplay always uses apt-get');
  const specs = (args.name ?? []).map((n) => n.trim()).filter((n) => n !== '*');
  const names = [...new Set(specs.map((s) => splitPackage(s).name))];
  const gathered = await gather(args, ctx, names);
  if (!('packages' in gathered)) return gathered;
  const facts = gathered;
  const cache = cacheFields(facts, ctx.check);
  if (args.clean) {
    const res = await ctx.exec([...APT_ENV, 'apt-get', 'clean']);
    if (res.rc !== 0) return { failed: true, msg: `apt-get clean failed: ${res.stderr.trim()}`, data: { stdout: res.stdout, rc: res.rc } };
    if (!args.name && args.upgrade === 'no' && !args.deb) return { changed: true, msg: res.stdout, data: output(res) };
  }
  const wantsUpdate = args.update_cache === true || args.cache_valid_time > 0;
  if (wantsUpdate && !args.name && args.upgrade === 'no' && !args.deb) {
    return { changed: cache.cache_updated, data: { ...cache } };
  }
  if (args.upgrade !== 'no') return upgradeAll(args, ctx, args.upgrade);
  if (facts.deb) return installDeb(args, ctx, facts.deb);
  if ((args.name ?? []).includes('*') && args.state === 'latest') return upgradeAll(args, ctx, 'yes');
  if (specs.length === 0 && (args.autoclean || args.autoremove)) {
    const op = args.autoclean ? 'autoclean' : 'autoremove';
    const res = await execApt(ctx, args, aptGetArgv(args, op, [], ctx.check));
    if (res.rc !== 0) return { failed: true, msg: `'apt-get ${op}' failed: ${res.stderr.trim()}`, data: { ...output(res), rc: res.rc } };
    const marker = op === 'autoremove' ? 'The following packages will be REMOVED' : 'Del ';
    return { changed: res.stdout.includes(marker), data: output(res) };
  }
  const plan = planPackages(args, specs, facts);
  const withCache = args.state !== 'absent';
  switch (plan.kind) {
    case 'fail':
      // Ansible fails an unknown name before it adds the cache fields, an uninstallable version after.
      return { failed: true, msg: plan.msg, data: plan.withCache ? { ...cache } : {} };
    case 'none':
      ctx.log(1, aptNoopReason(args.state, specs, facts));
      return { changed: false, data: withCache ? { ...cache } : {} };
    case 'remove': {
      const res = await execApt(ctx, args, aptGetArgv(args, 'remove', plan.specs, ctx.check));
      if (res.rc !== 0) return { failed: true, msg: `'apt-get remove ${plan.specs.join(' ')}' failed: ${res.stderr.trim()}`, data: { ...output(res), rc: res.rc } };
      return { changed: true, data: output(res) };
    }
    case 'install': {
      let data: Record<string, unknown> = {};
      let changed = false;
      if (plan.specs.length) {
        const op = args.state === 'build-dep' ? 'build-dep' : 'install';
        const argv = aptGetArgv(args, op, plan.specs, ctx.check);
        const res = await execApt(ctx, args, argv);
        if (res.rc !== 0) {
          return { failed: true, msg: `'${argv.slice(APT_ENV.length).join(' ')}' failed: ${res.stderr.trim()}`, data: { ...output(res), rc: res.rc, ...cache } };
        }
        changed = op === 'build-dep' ? !res.stdout.includes(APT_GET_ZERO) : true;
        data = output(res);
      }
      if (plan.names.length && !ctx.check) {
        const res = await ctx.exec(['apt-mark', 'manual', ...plan.names]);
        if (res.rc !== 0) return { failed: true, msg: `'apt-mark manual ${plan.names.join(' ')}' failed: ${res.stderr.trim()}`, data: { ...output(res), rc: res.rc } };
      }
      return { changed, data: { ...data, ...cache } };
    }
  }
}

export const aptModule = actionModule(aptSpec, {
  kind: 'action',
  name: 'apt',
  where: 'host',
  // Check mode is the module's own: the same apt-get call with --simulate, as Ansible's apt does.
  inCheckMode: 'run',
  run: runApt,
});
