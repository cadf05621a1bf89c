import path from 'node:path';
import { ModuleError } from '../errors.js';
import { fnmatchRegExp } from '../playbook/fnmatch.js';
import { formatMode, type StatFacts } from './file-common.js';
import { PythonRegexError, pythonRegex } from './python-regex.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext } from './types.js';

/**
 * ansible.builtin.find. The host lists each folder with GNU find (lstat fields of every entry, and whether it is a
 * folder once links are followed, as os.walk sorts entries); the controller then walks that listing the way
 * Ansible's os.walk loop does (files before folders in each folder, hidden folders still entered, `depth`
 * cutting below, links to folders entered only with `follow`) and applies the filters, so `examined`, the order
 * of `files` and every per-file field are Ansible's. `contains` and checksums read only the files still matching.
 */
const options = {
  paths: { type: 'list', elements: 'str', required: true, aliases: ['name', 'path'], description: 'Folders to search in.' },
  patterns: { type: 'list', elements: 'str', default: [], aliases: ['pattern'], description: 'Shell globs (or Python regexes with use_regex) the base name must match; any one.' },
  excludes: { type: 'list', elements: 'str', aliases: ['exclude'], description: 'Globs (or regexes) of base names to leave out.' },
  contains: { type: 'str', description: 'A Python regex a line of the file must match (from its start).' },
  read_whole_file: { type: 'bool', default: false, description: 'Search `contains` in the whole file instead of line by line (`^` and `$` then also match at line ends: vncplay reads Python patterns as MULTILINE).' },
  file_type: { type: 'str', choices: ['any', 'directory', 'file', 'link'], default: 'file', description: 'Type of entry to select.' },
  age: { type: 'str', pattern: '^-?\\d+[smhdwSMHDW]?$', patternText: 'a number of seconds, or with a unit s m h d w (`-2d`: younger than)', description: 'Select entries at least this old (negative: at most this old).' },
  age_stamp: { type: 'str', choices: ['atime', 'ctime', 'mtime'], default: 'mtime', description: 'Which time `age` compares.' },
  size: { type: 'str', pattern: '^-?\\d+[bkmgtBKMGT]?$', patternText: 'a size in bytes, or with a unit b k m g t (`-1m`: at most)', description: 'Select files at least this large (negative: at most).' },
  recurse: { type: 'bool', default: false, description: 'Search folders below too.' },
  hidden: { type: 'bool', default: false, description: 'Include entries whose name starts with a dot.' },
  follow: { type: 'bool', default: false, description: 'Enter links to folders.' },
  get_checksum: { type: 'bool', default: false, description: "Add each regular file's sha1 `checksum`." },
  use_regex: { type: 'bool', default: false, description: 'Patterns are Python regexes (matched from the start of the name), not globs.' },
  depth: { type: 'int', min: 0, description: 'With recurse: how many levels down to look (0: no limit).' },
} as const;

type FindArgs = ArgsOf<typeof options>;

function regexProblem(param: string, src: string): string | undefined {
  try {
    pythonRegex(src);
    return undefined;
  } catch (e) {
    if (e instanceof PythonRegexError || e instanceof SyntaxError) return `${param}: ${e.message}`;
    throw e;
  }
}

const spec = defineSpec({
  description: 'Find files, folders or links by name, age, size and content; returns `files` (with stat fields), `matched` and `examined`. Never changes anything.',
  options,
  check(args) {
    const regexes: Array<[param: 'contains' | 'patterns' | 'excludes', src: string]> = [];
    if (args.contains !== undefined) regexes.push(['contains', args.contains]);
    if (args.use_regex) for (const p of args.patterns) regexes.push(['patterns', p]);
    if (args.use_regex) for (const p of args.excludes ?? []) regexes.push(['excludes', p]);
    for (const [param, src] of regexes) {
      const problem = regexProblem(param, src);
      if (problem !== undefined) return { param, message: problem };
    }
    return undefined;
  },
});

/** One entry as `find -printf` reports it: lstat's fields (find's own type letters), plus the type once links are followed. */
export interface Entry extends Pick<StatFacts, 'mode' | 'uid' | 'gid' | 'owner' | 'group' | 'size' | 'atime' | 'mtime' | 'ctime' | 'nlink' | 'inode' | 'dev'> {
  rel: string;
  type: string;
  followedType: string;
}

/** A listed folder: its entries in readdir order, or why it could not be listed. */
export interface Listing {
  isDir: boolean;
  entries: Entry[];
  error?: string;
}

const FORMAT = '%y %Y %m %U %G %s %A@ %T@ %C@ %n %i %D %u %g\\0%P\\0';

/** One call lists several folders: `R` + the root, then either `N` (not a folder) or its records and `E` + rc. */
const LIST = [
  'md=$1; fmt=$2; shift 2',
  '{ date +%s.%N | tr -d "\\n"; printf "\\0"',
  '  for p do',
  '    printf "R\\0"',
  '    if [ ! -d "$p" ]; then printf "N\\0"; continue; fi',
  '    if [ "$md" = 0 ]; then find -H "$p" -mindepth 1 -printf "$fmt"; else find -H "$p" -mindepth 1 -maxdepth "$md" -printf "$fmt"; fi',
  '    printf "E%s\\0" "$?"',
  '  done; } | base64 -w0',
].join('\n');

/** Python's stat float: seconds + nanoseconds * 1e-9, computed as CPython does. */
function pyTime(text: string): number {
  const [s = '0', frac = ''] = text.split('.');
  return Number(s) + Number(frac.padEnd(9, '0').slice(0, 9)) * 1e-9;
}

function parseEntry(meta: string, rel: string): Entry {
  const f = meta.split(' ');
  const num = (i: number): number => Number(f[i]);
  const uid = num(3);
  const gid = num(4);
  // find prints the number when the id has no name; Ansible's pw_name/gr_name are empty then.
  const owner = f[12] ?? '';
  const group = f.slice(13).join(' ');
  return {
    rel, type: f[0]!, followedType: f[1]!, mode: parseInt(f[2]!, 8), uid, gid, size: num(5),
    atime: pyTime(f[6]!), mtime: pyTime(f[7]!), ctime: pyTime(f[8]!), nlink: num(9), inode: num(10), dev: num(11),
    owner: owner === String(uid) ? '' : owner, group: group === String(gid) ? '' : group,
  };
}

export function parseListings(stdout: string, stderr: string): { now: number; listings: Listing[] } {
  const fields = Buffer.from(stdout.trim(), 'base64').toString('utf8').split('\0');
  const now = Number(fields[0]);
  const listings: Listing[] = [];
  let i = 1;
  while (i < fields.length && fields[i] === 'R') {
    i++;
    if (fields[i] === 'N') {
      listings.push({ isDir: false, entries: [] });
      i++;
      continue;
    }
    const entries: Entry[] = [];
    while (i < fields.length && !/^E\d+$/.test(fields[i]!)) {
      entries.push(parseEntry(fields[i]!, fields[i + 1] ?? ''));
      i += 2;
    }
    const rc = fields[i]?.slice(1);
    i++;
    const listing: Listing = { isDir: true, entries };
    if (rc !== '0') listing.error = stderr.trim().split('\n').at(-1)?.replace(/^find: /, '') ?? `find exited ${rc}`;
    listings.push(listing);
  }
  return { now, listings };
}

/** Python's re.match: the regex anchored at the start only. */
function matchAtStart(src: string): RegExp {
  const re = pythonRegex(src);
  return new RegExp(re.source, `${re.flags.replace('g', '')}y`);
}

function nameFilter(args: FindArgs): (name: string) => boolean {
  const compile = args.use_regex ? matchAtStart : fnmatchRegExp;
  const fallback = args.use_regex ? ['.*'] : ['*'];
  const patterns = (args.patterns.length > 0 ? args.patterns : fallback).map(compile);
  const excludes = (args.excludes ?? []).map(compile);
  const hit = (re: RegExp, s: string): boolean => {
    re.lastIndex = 0;
    return re.test(s);
  };
  return (name) => patterns.some((p) => hit(p, name)) && !excludes.some((e) => hit(e, name));
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, b: 1, k: 1024, g: 1024 ** 3, t: 1024 ** 4 };

/** `-2d` → -172800; `10m` is minutes for age, mebibytes for size. */
function amount(text: string | undefined, kind: 'age' | 'size'): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(-?\d+)([a-z]?)$/.exec(text.toLowerCase())!;
  const unit = m[2] === 'm' && kind === 'size' ? 1024 ** 2 : m[2] ? UNITS[m[2]]! : 1;
  return Number(m[1]) * unit;
}

function statInfo(e: Entry): Record<string, unknown> {
  const m = e.mode;
  const t = e.type;
  return {
    mode: formatMode(m & 0o7777), isdir: t === 'd', ischr: t === 'c', isblk: t === 'b', isreg: t === 'f', isfifo: t === 'p',
    islnk: t === 'l', issock: t === 's', uid: e.uid, gid: e.gid, size: e.size, inode: e.inode, dev: e.dev, nlink: e.nlink,
    atime: e.atime, mtime: e.mtime, ctime: e.ctime, gr_name: e.group, pw_name: e.owner,
    wusr: (m & 0o200) !== 0, rusr: (m & 0o400) !== 0, xusr: (m & 0o100) !== 0, wgrp: (m & 0o020) !== 0, rgrp: (m & 0o040) !== 0,
    xgrp: (m & 0o010) !== 0, woth: (m & 0o002) !== 0, roth: (m & 0o004) !== 0, xoth: (m & 0o001) !== 0,
    isuid: (m & 0o4000) !== 0, isgid: (m & 0o2000) !== 0,
  };
}

/** A candidate entry: its path as Ansible prints it and its lstat fields. */
export interface Found {
  path: string;
  entry: Entry;
}

export interface WalkResult {
  found: Found[];
  examined: number;
  /** Links to folders `follow` must list before the walk can finish (path as the host knows it). */
  unlisted: string[];
}

/**
 * Ansible's loop over os.walk(npath, followlinks=follow) on the listings read so far. `listed` maps a folder (as
 * the host path given to find) to its listing; entries are relative to it.
 */
export function walk(args: FindArgs, root: string, listed: ReadonlyMap<string, Listing>, now: number): WalkResult {
  const pass = nameFilter(args);
  const age = amount(args.age, 'age');
  const size = amount(args.size, 'size');
  const ageOk = (e: Entry): boolean => {
    if (age === undefined) return true;
    const since = now - e[args.age_stamp];
    return age >= 0 ? since >= Math.abs(age) : since <= Math.abs(age);
  };
  const sizeOk = (e: Entry): boolean => size === undefined || (size >= 0 ? e.size >= Math.abs(size) : e.size <= Math.abs(size));
  const wpath = `${root.replace(/\/+$/, '')}/`;
  const slashes = (s: string): number => s.split('/').length - 1;
  const out: WalkResult = { found: [], examined: 0, unlisted: [] };

  // A folder is walked from the listing of the nearest listed ancestor (a followed link has its own listing).
  const visit = (dir: string, listing: Listing, prefix: string): void => {
    const children = listing.entries.filter((e) => e.rel.startsWith(prefix) && !e.rel.slice(prefix.length).includes('/'));
    const files = children.filter((e) => e.followedType !== 'd');
    const dirs = children.filter((e) => e.followedType === 'd');
    out.examined += children.length;
    let pruned = false;
    for (const e of [...files, ...dirs]) {
      const name = e.rel.slice(prefix.length);
      const fsname = path.posix.normalize(path.posix.join(dir, name));
      if (args.depth && slashes(fsname) - slashes(wpath) + 1 > args.depth) {
        pruned = true;
        continue;
      }
      if (name.startsWith('.') && !args.hidden) continue;
      const t = e.type;
      let take = false;
      if (args.file_type === 'any') take = pass(name) && ageOk(e) && (t !== 'f' || sizeOk(e));
      else if (args.file_type === 'directory') take = t === 'd' && pass(name) && ageOk(e);
      else if (args.file_type === 'file') take = t === 'f' && pass(name) && ageOk(e) && sizeOk(e);
      else take = t === 'l' && pass(name) && ageOk(e);
      if (take) out.found.push({ path: fsname, entry: e });
    }
    if (!args.recurse || pruned) return;
    for (const d of dirs) {
      const name = d.rel.slice(prefix.length);
      const sub = path.posix.join(dir, name);
      if (d.type !== 'l') visit(sub, listing, `${d.rel}/`);
      else if (args.follow) {
        const own = listed.get(sub);
        if (own) visit(sub, own, '');
        else out.unlisted.push(sub);
      }
    }
  };
  const top = listed.get(root);
  if (top) visit(root, top, '');
  return out;
}

/** Expands a leading `~` as os.path.expanduser does for the connection's user. */
function expandHome(p: string, home: string): string {
  return p === '~' || p.startsWith('~/') ? `${home}${p.slice(1)}` : p;
}

async function list(ctx: ModuleContext, args: FindArgs, roots: string[]): Promise<{ now: number; listings: Listing[] }> {
  const maxDepth = !args.recurse ? 1 : args.depth ? args.depth + 1 : 0;
  const res = await ctx.exec(['sh', '-c', LIST, 'sh', String(maxDepth), FORMAT, ...roots]);
  if (res.rc !== 0) throw new ModuleError('E_FIND_LIST', `could not list ${roots.join(', ')}: ${res.stderr.trim()}`);
  return parseListings(res.stdout, res.stderr);
}

/** Reads the candidates' content (contains) or sha1 (get_checksum), one record per file, in one call. */
const READ_FILES = 'what=$1; shift; for f do if [ "$what" = sum ]; then sha1sum -- "$f" 2>/dev/null | cut -c1-40 || echo; else base64 -w0 -- "$f" 2>/dev/null; echo; fi; done';

async function readFiles(ctx: ModuleContext, what: 'sum' | 'content', files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const res = await ctx.exec(['sh', '-c', READ_FILES, 'sh', what, ...files]);
  return res.stdout.split('\n').slice(0, files.length);
}

function containsFilter(args: FindArgs): ((text: string) => boolean) | undefined {
  if (args.contains === undefined) return undefined;
  if (args.read_whole_file) {
    const re = pythonRegex(args.contains);
    return (text) => re.test(text);
  }
  const re = matchAtStart(args.contains);
  return (text) =>
    text.split(/(?<=\n)/).some((line) => {
      re.lastIndex = 0;
      return re.test(line);
    });
}

export const findFilesModule = actionModule(spec, {
  kind: 'action',
  name: 'find',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const home = args.paths.some((p) => p.startsWith('~')) ? (await ctx.exec(['sh', '-c', 'printf %s "$HOME"'])).stdout : '';
    const roots = args.paths.map((p) => expandHome(p, home));
    const first = await list(ctx, args, roots);
    const skipped: Record<string, string> = {};
    const found: Found[] = [];
    let examined = 0;
    for (const [i, root] of roots.entries()) {
      const listing = first.listings[i]!;
      if (!listing.isDir) {
        skipped[root] = `'${root}' is not a directory`;
        continue;
      }
      if (listing.error !== undefined) skipped[root] = listing.error;
      const listed = new Map<string, Listing>([[root, listing]]);
      let result = walk(args, root, listed, first.now);
      // Links to folders (follow: true) are listed round by round; a loop of links stops where Ansible's would fail.
      for (let round = 0; result.unlisted.length > 0 && round < 40; round++) {
        const more = await list(ctx, args, result.unlisted);
        result.unlisted.forEach((p, j) => listed.set(p, more.listings[j]!));
        result = walk(args, root, listed, first.now);
      }
      found.push(...result.found);
      examined += result.examined;
    }
    let kept = found;
    // Ansible applies contains to file_type=file only.
    const contains = containsFilter(args);
    if (contains && args.file_type === 'file') {
      const candidates = kept.filter((f) => f.entry.type === 'f');
      const texts = await readFiles(ctx, 'content', candidates.map((f) => f.path));
      const hit = new Set(candidates.filter((_, j) => contains(Buffer.from(texts[j] ?? '', 'base64').toString('utf8'))));
      kept = kept.filter((f) => hit.has(f));
    }
    const files = kept.map((f) => ({ path: f.path, ...statInfo(f.entry) }) as Record<string, unknown>);
    if (args.get_checksum) {
      const regular = kept.flatMap((f, j) => (f.entry.type === 'f' ? [j] : []));
      const sums = await readFiles(ctx, 'sum', regular.map((j) => kept[j]!.path));
      regular.forEach((j, k) => (files[j]!['checksum'] = sums[k]));
    }
    const problems = Object.keys(skipped).length > 0;
    for (const [p, why] of Object.entries(skipped)) ctx.log(0, `[WARNING]: Skipped '${p}' path due to this access issue: ${why}`);
    return {
      changed: false,
      msg: problems ? 'Not all paths examined, check warnings for details' : 'All paths examined',
      data: { files, matched: files.length, examined, skipped_paths: skipped },
    };
  },
});
