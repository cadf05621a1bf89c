import { ModuleError } from '../errors.js';
import { splitlines } from './py-text.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, DiffEntry, Step } from './types.js';

/**
 * ansible.builtin.apt_repository: one `deb`/`deb-src` line in apt's one-line sources files. The decision is Ansible's
 * own (its SourcesList: parse every line of sources.list and sources.list.d/*.list, enable or append, or drop the
 * enabled copies; the file name from the line's host), read from ONE remote command that prints every file.
 */
const options = {
  repo: { type: 'str', required: true, pattern: '\\S', patternText: 'a sources.list line such as `deb http://deb.example.org/debian bookworm main`', description: 'A source string for the repository (a `deb` or `deb-src` line).' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the source line is in the sources list.' },
  mode: { type: 'mode', description: 'The mode of a sources file the task creates (an existing file keeps its mode); 0644 without it.' },
  update_cache: { type: 'bool', default: true, aliases: ['update-cache'], description: 'Run the equivalent of `apt-get update` when a change was made.' },
  update_cache_retries: { type: 'int', default: 5, min: 1, description: 'How many times the cache update is tried.' },
  update_cache_retry_max_delay: { type: 'int', default: 12, min: 0, description: 'The longest wait, in seconds, between two tries (exponential backoff: 1, 2, 4 … s).' },
  filename: { type: 'str', description: 'Name of the sources file in sources.list.d without `.list` (a value with a `/` is a path); derived from the line otherwise.' },
  codename: { type: 'str', description: "Release codename for a `ppa:` repository; the host's (/etc/os-release) without it." },
  install_python_apt: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility: vncplay needs no python-apt on the host.' },
  validate_certs: { type: 'bool', default: true, description: "Verify Launchpad's certificate when a `ppa:` repository's signing key is looked up." },
} as const;

export type AptRepositoryArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: "Add or remove an APT repository line in the host's sources lists, then update the package cache.",
  options,
});

const VALID_SOURCE_TYPES = ['deb', 'deb-src'];

/** One line of a sources file as Ansible's SourcesList._parse keeps it. */
interface SourceLine {
  /** The line's number when the file was read (Ansible's `n`, which its pop/modify index by). */
  n: number;
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

/** What Ansible's InvalidSource names: the line without its `#` marker and comment, unstripped. */
function invalidPart(raw: string): string {
  let line = raw.trim();
  if (line.startsWith('#')) line = line.slice(1);
  const hash = line.indexOf('#');
  return hash > 0 ? line.slice(0, hash) : line;
}

export interface AptSourcesFacts {
  /** The host's release codename (VERSION_CODENAME of /etc/os-release), for `ppa:` lines. */
  codename?: string;
  /** Dir::Etc::sourcelist (the main file, loaded first when it is a regular file). */
  mainFile: string;
  /** Dir::Etc::sourceparts (the folder of `*.list` files). */
  partsDir: string;
  /** Every sources file, path → text, in the order apt-config and the glob gave them. */
  files: Array<[string, string]>;
}

/** Ansible's SourcesList._parse: a leading `#` disables, a later `#` starts the comment, a valid line starts with deb/deb-src. */
export function parseSourceLine(raw: string, n = 0): SourceLine {
  let line = raw.trim();
  let enabled = true;
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  let comment = '';
  const hash = line.indexOf('#');
  if (hash > 0) {
    comment = line.slice(hash + 1).trim();
    line = line.slice(0, hash);
  }
  let source = line.trim();
  let valid = false;
  if (source) {
    const chunks = source.split(/\s+/);
    if (VALID_SOURCE_TYPES.includes(chunks[0]!)) {
      valid = true;
      source = chunks.join(' ');
    }
  }
  return { n, valid, enabled, source, comment };
}

/** A file's lines as Ansible writes them back (SourcesList.dump). */
function dumpLines(lines: readonly SourceLine[]): string {
  return lines.map((l) => `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`).join('');
}

/** The source a repo argument stands for, or undefined for an invalid or disabled line (Ansible's InvalidSource). */
export function repoSource(repo: string): string | undefined {
  const parsed = parseSourceLine(repo);
  return parsed.valid && parsed.enabled ? parsed.source : undefined;
}

export interface Ppa {
  owner: string;
  name: string;
}

/** Ansible's _expand_ppa: `ppa:OWNER[/NAME]` (NAME defaults to ppa) as a Launchpad deb line for the codename. */
export function expandPpa(repo: string, codename: string): Ppa & { source: string } {
  const ppa = repo.split(':')[1] ?? '';
  const [owner = '', name = 'ppa'] = ppa.split('/');
  return { owner, name, source: `deb http://ppa.launchpad.net/${owner}/${name}/ubuntu ${codename} main` };
}

const isPpa = (repo: string): boolean => repo.startsWith('ppa:');

/** The source line and the file it goes to for these arguments (a ppa: line needs the codename). */
function sourceAndFile(args: AptRepositoryArgs, facts: AptSourcesFacts): { source: string; file: string; ppa?: Ppa } | undefined {
  if (isPpa(args.repo)) {
    const codename = args.codename ?? facts.codename;
    if (codename === undefined) throw new ModuleError('E_APT_REPOSITORY_CODENAME', `the host's release codename is unknown, so ${args.repo} cannot be expanded`, { hint: 'set codename: (e.g. jammy)' });
    const { source, owner, name } = expandPpa(args.repo, codename);
    return { source, file: suggestedFilename(`${args.repo}_${codename}`, args.filename), ppa: { owner, name } };
  }
  const source = repoSource(args.repo);
  return source === undefined ? undefined : { source, file: suggestedFilename(source, args.filename) };
}

/** Ansible's _suggest_filename: the first word after the type, without options, scheme and credentials, as `a_b_c.list`. */
export function suggestedFilename(source: string, filename: string | undefined): string {
  if (filename !== undefined) return `${filename}.list`;
  const line = source.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((p) => p !== '' && !VALID_SOURCE_TYPES.includes(p));
  const first = (parts[0] ?? '').split('@').at(-1)!;
  return `${first.replace(/[^a-zA-Z0-9]/g, ' ').split(/\s+/).filter(Boolean).join('_')}.list`;
}

/** Ansible's _expand_path: a bare name lives in sources.list.d. */
function expandPath(file: string, partsDir: string): string {
  return file.includes('/') ? file : `${partsDir.replace(/\/+$/, '')}/${file}`;
}

export interface SourcesPlan {
  before: Map<string, string>;
  after: Map<string, string>;
  /** Files the task creates (their mode is set). */
  created: string[];
}

/**
 * Ansible's add_source/remove_source over the parsed files, and both dumps (a file whose lines are all gone is
 * deleted, so it is absent from `after`).
 */
export function planSources(args: AptRepositoryArgs, facts: AptSourcesFacts, source: string, suggested: string): SourcesPlan {
  const files = new Map<string, SourceLine[]>(facts.files.map(([path, text]) => [path, splitlines(text).map((l, n) => parseSourceLine(l, n))]));
  const dump = (): Map<string, string> => new Map([...files].filter(([, lines]) => lines.length > 0).map(([path, lines]) => [path, dumpLines(lines)]));
  const before = dump();
  const created: string[] = [];
  // A ppa: already enabled somewhere is left as it is (Ansible's repos_urls test).
  const ppaPresent = isPpa(args.repo) && [...files.values()].some((lines) => lines.some((l) => l.valid && l.enabled && l.source === source));
  if (args.state === 'present' && !ppaPresent) {
    let found = false;
    for (const lines of files.values()) {
      for (const line of lines) {
        if (!line.valid || line.source !== source) continue;
        // Ansible's modify(): the entry at the line's original number is the one enabled.
        const target = lines[line.n];
        if (target) lines[line.n] = { ...target, enabled: true };
        found = true;
      }
    }
    if (!found) {
      const file = expandPath(suggested, facts.partsDir);
      const lines = files.get(file) ?? [];
      files.set(file, lines);
      lines.push({ n: lines.length, valid: true, enabled: true, source, comment: '' });
      created.push(file);
    }
  } else if (args.state === 'absent') {
    for (const lines of files.values()) {
      // Python pops while iterating the same list: the entry after a popped one is skipped, and pop(n) uses the
      // line's original number, as Ansible's _remove_valid_source does.
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.valid && line.enabled && line.source === source) lines.splice(line.n, 1);
      }
    }
  }
  const after = dump();
  return { before, after, created: created.filter((f) => !before.has(f)) };
}

/** Exponential backoff with Ansible's cap, then the update; a failed update puts every touched file back. */
const UPDATE_CACHE = `retries=$1 maxdelay=$2; shift 2
try=0
while :; do
  # python-apt's Cache.update() fails on any index apt could not fetch, which apt-get only warns about.
  if err=$(apt-get update -q 2>&1 >/dev/null) && ! printf '%s' "$err" | grep -Eq '^(E:|W: Failed to fetch|W: Some index files failed)'; then exit 0; fi
  try=$((try + 1))
  [ "$try" -lt "$retries" ] || break
  delay=$((1 << (try - 1))); [ "$delay" -le "$maxdelay" ] || delay=$maxdelay
  sleep "$delay"
done
while [ $# -gt 1 ]; do
  if [ "$2" = - ]; then rm -f -- "$1"; else printf '%s' "$2" | base64 -d > "$1"; fi
  shift 2
done
printf 'Failed to update apt cache: %s\\n' "\${err:-unknown reason}" >&2
exit 1`;

/**
 * A ppa:'s signing key, as Ansible's UbuntuSourcesList.add_source gets it: the fingerprint from Launchpad's API, kept
 * when apt-key (or, without it, a keyring file gpg lists) already has it, else received from keyserver.ubuntu.com.
 * $1 owner, $2 name, $3 the source line (for gpg's key file name), $4 "1" to verify Launchpad's certificate.
 */
const PPA_KEY = `owner=$1 name=$2 line=$3 verify=$4
url="https://launchpad.net/api/1.0/~$owner/+archive/$name"
if command -v curl >/dev/null; then json=$(curl -fsSL $([ "$verify" = 1 ] || echo -k) -H 'Accept: application/json' "$url")
elif command -v wget >/dev/null; then json=$(wget -qO- $([ "$verify" = 1 ] || echo --no-check-certificate) --header 'Accept: application/json' "$url")
else echo "failed to fetch PPA information, error was: neither curl nor wget is installed" >&2; exit 1; fi || { echo "failed to fetch PPA information, error was: $url could not be read" >&2; exit 1; }
fp=$(printf '%s' "$json" | sed -n 's/.*"signing_key_fingerprint": *"\\([0-9A-Fa-f]*\\)".*/\\1/p')
[ -n "$fp" ] || { echo "failed to fetch PPA information, error was: no signing_key_fingerprint" >&2; exit 1; }
if command -v apt-key >/dev/null; then
  [ -z "$(apt-key export "$fp" 2>&1 >/dev/null)" ] && exit 0
  exec apt-key adv --recv-keys --no-tty --keyserver hkp://keyserver.ubuntu.com:80 "$fp"
fi
command -v gpg >/dev/null || { echo 'Either apt-key or gpg binary is required, but neither could be found' >&2; exit 1; }
for f in /etc/apt/trusted.gpg /etc/apt/keyrings/* /etc/apt/trusted.gpg.d/* /usr/share/keyrings/*; do
  [ -f "$f" ] && gpg --list-packets "$f" 2>/dev/null | grep -q "$fp" && exit 0
done
for dir in /etc/apt/keyrings /etc/apt/trusted.gpg.d /usr/share/keyrings; do [ -d "$dir" ] && break; done
key=$(gpg --no-tty --keyserver hkp://keyserver.ubuntu.com:80 --export "$fp" | base64 -w0)
[ -n "$key" ] || { echo 'Unable to get required signing key' >&2; exit 1; }
printf '%s' "$key" | base64 -d > "$dir/$(basename "$line" | tr ' ' -)-$owner-$name.gpg"`;

export function planAptRepository(args: AptRepositoryArgs, facts: AptSourcesFacts): Change[] {
  const target = sourceAndFile(args, facts);
  if (target === undefined) return [];
  const { source, file, ppa } = target;
  const { before, after, created } = planSources(args, facts, source, file);
  const paths = [...new Set([...before.keys(), ...after.keys()])];
  const touched = paths.filter((p) => before.get(p) !== after.get(p));
  if (touched.length === 0) return [];
  const steps: Step[] = [];
  if (ppa && args.state === 'present') steps.push({ kind: 'exec', argv: ['sh', '-c', PPA_KEY, 'apt-repository-key', ppa.owner, ppa.name, source, args.validate_certs ? '1' : '0'] });
  const restore: string[] = [];
  const diffs: DiffEntry[] = [];
  for (const path of touched) {
    const text = after.get(path);
    const original = facts.files.find(([p]) => p === path)?.[1];
    if (text === undefined) steps.push({ kind: 'exec', argv: ['rm', '-f', '--', path] });
    else steps.push({ kind: 'write', path, content: text, ...(created.includes(path) ? { mode: args.mode ?? '0644' } : {}) });
    restore.push(path, original === undefined ? '-' : Buffer.from(original).toString('base64'));
    diffs.push({ path, before: before.get(path) ?? '', after: text ?? '', beforeHeader: before.has(path) ? path : '/dev/null', afterHeader: after.has(path) ? path : '/dev/null' });
  }
  if (args.update_cache) {
    steps.push({ kind: 'exec', argv: ['sh', '-c', UPDATE_CACHE, 'apt-repository', String(args.update_cache_retries), String(args.update_cache_retry_max_delay), ...restore], undoesOnFailure: true });
  }
  const summary = `${args.state === 'present' ? 'add' : 'remove'} ${source} (${touched.join(', ')})`;
  // One change per file for --diff; the steps (writes, then the cache update) ride on the last one.
  return diffs.map((diff, i) => ({ summary, diff, steps: i === diffs.length - 1 ? steps : [] }));
}

/** apt-config's two paths, then `BASE64 PATH` for each sources file (the main file first, then the *.list glob). */
const READ = `eval "$(apt-config shell MAIN Dir::Etc::sourcelist/f PARTS Dir::Etc::sourceparts/d)" || exit 3
[ -n "$MAIN" ] && [ -n "$PARTS" ] || exit 3
printf '%s\\n%s\\n' "$MAIN" "$PARTS"
(. /etc/os-release 2>/dev/null; echo "\${VERSION_CODENAME:-}")
for f in "$MAIN" "$PARTS"*.list; do
  [ -f "$f" ] || continue
  printf '%s %s\\n' "$(base64 -w0 < "$f")" "$f"
done`;

export function parseSourcesRead(stdout: string): AptSourcesFacts {
  const [mainFile = '', partsDir = '', codename = '', ...rest] = stdout.split('\n');
  const files: Array<[string, string]> = [];
  for (const line of rest) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    files.push([line.slice(space + 1), Buffer.from(line.slice(0, space), 'base64').toString('utf8')]);
  }
  return { mainFile, partsDir, files, ...(codename ? { codename } : {}) };
}

export const aptRepositoryModule = plannedModule(spec, {
  kind: 'planned',
  name: 'apt_repository',
  where: 'host',
  async gather(args, ctx): Promise<AptSourcesFacts> {
    if (!isPpa(args.repo) && repoSource(args.repo) === undefined) {
      throw new ModuleError('E_APT_REPOSITORY_INVALID', `Invalid repository string: ${invalidPart(args.repo)}`, { hint: 'repo is one enabled sources.list line: `deb [options] URI SUITE [COMPONENT…]`' });
    }
    const res = await ctx.exec(['sh', '-c', READ]);
    if (res.rc === 3 || (res.rc !== 0 && /apt-config/.test(res.stderr))) throw new ModuleError('E_APT_REPOSITORY_UNSUPPORTED', 'Module apt_repository is not supported on target.', { hint: 'apt_repository needs apt (apt-config) on the host' });
    if (res.rc !== 0) throw new ModuleError('E_APT_REPOSITORY_READ', `reading the apt sources on ${ctx.hostName} failed: ${res.stderr.trim()}`);
    return parseSourcesRead(res.stdout);
  },
  plan: planAptRepository,
  report(args, facts) {
    const target = sourceAndFile(args, facts);
    const { before, after } = target ? planSources(args, facts, target.source, target.file) : { before: new Map<string, string>(), after: new Map<string, string>() };
    const changed = [...new Set([...before.keys(), ...after.keys()])].some((p) => before.get(p) !== after.get(p));
    return {
      repo: args.repo,
      state: args.state,
      sources_added: changed ? [...after.keys()].filter((p) => !before.has(p)) : [],
      sources_removed: changed ? [...before.keys()].filter((p) => !after.has(p)) : [],
    };
  },
  noop: (args) => `${args.repo} is ${args.state} in the sources lists`,
});
