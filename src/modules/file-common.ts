import { createHash, randomBytes } from 'node:crypto';
import { sessionScript } from '../connection/line-session.js';
import { ModuleError } from '../errors.js';
import { OCTAL_MODE } from './spec/convert.js';
import type { ParamSpec } from './spec/types.js';
import type { DiffEntry, ModuleContext, Step } from './types.js';

/**
 * What file, copy, template, lineinfile and stat share: mode parsing (octal strings and Ansible's symbolic
 * modes), ownership comparison, and the ONE read-only remote command that reads every fact a task needs.
 */

// ───────────────────────────── modes ─────────────────────────────

const PERM_BITS = 0o7777;
const S_IRWXU = 0o700;
const S_IRWXG = 0o070;
const S_IRWXO = 0o007;
const EXEC_BITS = 0o111;

/** The permission bits a mode argument asks for, given the path's current bits (symbolic modes are relative). */
export function resolveMode(mode: string, current: number, isDir: boolean, umask: number): number {
  if (OCTAL_MODE.test(mode)) return parseInt(mode.replace(/^0o/, ''), 8) & PERM_BITS;
  return applySymbolicMode(current, mode, isDir, umask);
}

/** `0644`-style four-digit rendering, as Ansible reports modes. */
export function formatMode(bits: number): string {
  return (bits & PERM_BITS).toString(8).padStart(4, '0');
}

/**
 * Ansible's symbolic mode semantics (module_utils/basic.py _symbolic_mode_to_octal): comma-separated clauses
 * `[ugoa]*([-+=][rwxXstugo]*)+`; an empty who means `a` but masked by the umask, as chmod does.
 */
export function applySymbolicMode(current: number, spec: string, isDir: boolean, umask: number): number {
  let mode = current & PERM_BITS;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw new ModuleError('E_FILE_MODE', `bad symbolic permission for mode: ${clause}`, { hint: symbolicHint });
    const who = m[1] ?? '';
    const useUmask = who === '';
    const users = who === '' || who.includes('a') ? 'ugo' : who;
    for (const op of (m[2] ?? '').match(/[-+=][rwxXstugo]*/g) ?? []) {
      const operator = op[0] as '-' | '+' | '=';
      const perms = op.slice(1);
      for (const user of users) {
        const bits = symbolicPermBits(mode, user as 'u' | 'g' | 'o', perms, isDir, useUmask ? umask : 0);
        mode = applyOperator(mode, user as 'u' | 'g' | 'o', operator, bits);
      }
    }
  }
  return mode;
}

const symbolicHint = "symbolic modes look like 'u=rw,g=r,o=' or 'a+x'; octal modes like '0644' (quoted)";

function symbolicPermBits(prev: number, user: 'u' | 'g' | 'o', perms: string, isDir: boolean, umask: number): number {
  const rev = ~umask & PERM_BITS;
  const x = isDir || (prev & EXEC_BITS) !== 0;
  const shift = { u: 6, g: 3, o: 0 }[user];
  const copyFrom = (src: 'u' | 'g' | 'o'): number => {
    const bits = (prev >> { u: 6, g: 3, o: 0 }[src]) & 0o7;
    return bits << shift;
  };
  let out = 0;
  for (const p of perms) {
    switch (p) {
      case 'r':
        out |= (0o4 << shift) & rev;
        break;
      case 'w':
        out |= (0o2 << shift) & rev;
        break;
      case 'x':
        out |= (0o1 << shift) & rev;
        break;
      case 'X':
        if (x) out |= 0o1 << shift;
        break;
      case 's':
        if (user === 'u') out |= 0o4000;
        if (user === 'g') out |= 0o2000;
        break;
      case 't':
        if (user === 'o') out |= 0o1000;
        break;
      case 'u':
      case 'g':
      case 'o':
        out |= copyFrom(p);
        break;
    }
  }
  return out;
}

function applyOperator(mode: number, user: 'u' | 'g' | 'o', op: '-' | '+' | '=', bits: number): number {
  if (op === '+') return mode | bits;
  if (op === '-') return mode & ~bits;
  const mask = { u: S_IRWXU | 0o4000, g: S_IRWXG | 0o2000, o: S_IRWXO | 0o1000 }[user];
  return (mode & ~mask & PERM_BITS) | bits;
}

// ───────────────────────────── remote facts ─────────────────────────────

export type FileType = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

/** What one stat() (or lstat) says about a path. */
export interface StatFacts {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  atime: number;
  mtime: number;
  ctime: number;
  nlink: number;
  inode: number;
  dev: number;
  blocks: number;
  blockSize: number;
  /** Major/minor of a device file. */
  rdevMajor: number;
  rdevMinor: number;
}

export interface PathFacts {
  path: string;
  exists: boolean;
  /** lstat: the path itself (a link is a link). */
  lstat?: StatFacts;
  /** stat: what a link points to (absent for a dangling link). */
  stat?: StatFacts;
  linkTarget?: string;
  /** realpath of the path (links resolved). */
  realPath?: string;
  checksum?: string;
  /** Raw bytes when asked and the file is a regular file not larger than the limit. */
  content?: Buffer;
  /** The file was larger than the content limit (diff skipped). */
  contentTooLarge?: boolean;
  readable?: boolean;
  writeable?: boolean;
  executable?: boolean;
  mime?: string;
  charset?: string;
  /** `lsattr -vd`'s first two words (generation number, flags) when asked and lsattr succeeded. */
  fileAttributes?: { version: string; flags: string };
  /** `recurse`: every entry below a directory (lstat of each, paths relative). */
  tree?: Array<{ rel: string; facts: StatFacts }>;
}

/** An unchanged path in a noop reason: `directory /srv/vnc (mode 0755, owner vnc, group vnc)`. */
export function unchangedPathText(p: PathFacts): string {
  const st = p.lstat;
  if (!p.exists || !st) return `${p.path} is absent`;
  if (st.type === 'link') return `link ${p.path} points to ${p.linkTarget ?? '?'}`;
  return `${st.type} ${p.path} (mode ${formatMode(st.mode)}, owner ${st.owner}, group ${st.group})`;
}

export interface HostFileFacts {
  umask: number;
  /** Remote shell pid and epoch seconds, for Ansible-style backup names (`dest.PID.YYYY-mm-dd@HH:MM:SS~`). */
  pid: number;
  now: number;
  /**
   * 96 random bits (hex) drawn on the controller when the facts were read, for the names of temporary files the
   * plan creates on the host (validate): nobody can guess one and plant a link there first. Drawn with the facts so
   * that plan() stays pure.
   */
  tempToken: string;
  paths: PathFacts[];
  /** Whether each owner/group name asked for exists on the host (so --check catches a typo, as Ansible does). */
  users?: Record<string, boolean>;
  groups?: Record<string, boolean>;
}

export type ChecksumAlgorithm = 'sha1' | 'md5' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export const checksumAlgorithms: readonly ChecksumAlgorithm[] = ['sha1', 'md5', 'sha224', 'sha256', 'sha384', 'sha512'];

export interface ProbeOptions {
  /** Read content of regular files up to this many bytes (0 = never, Infinity = always). */
  contentLimit?: number;
  checksum?: ChecksumAlgorithm | false;
  /** Walk directories below each path (for recurse). */
  tree?: boolean;
  /** Read the host's clock (one `date` more): only backups need it, for their Ansible-style names. */
  clock?: boolean;
  /** Owner and group names to look up (getent) on the host. */
  users?: ReadonlyArray<string | undefined>;
  groups?: ReadonlyArray<string | undefined>;
  /**
   * Paths from this index on are only checked for existence (no stat: `exists` is all that is set), for parents
   * whose existence is all a plan needs. A `~` path, or a probe that fell back to one stat per path, still gets
   * everything.
   */
  existenceOnlyFrom?: number;
  /** access flags (readable/writeable/executable) and mime type, for stat. */
  access?: boolean;
  mime?: boolean;
  /** lsattr's generation number and flags (stat's get_attributes), as Ansible's get_file_attributes reads them. */
  attributes?: boolean;
  /**
   * For links, read only the target (readlink): no stat of what it points to, no real path, no content. For plans
   * that act on the link itself (file state=link): two processes fewer per existing link.
   */
  linkTargetOnly?: boolean;
}

/** Ansible's diff size limit (max_diff_size): larger files show "diff skipped". */
export const MAX_DIFF_SIZE = 104448;

/**
 * The probe run on the host. Paths arrive as positional arguments and are only ever expanded inside double
 * quotes after `--`, so a path like `$(touch /tmp/pwned)` or `a; b` is a literal name. Output is line based;
 * anything that could contain a newline (link targets, content) is base64.
 */
/** `${D}{…}` writes a shell parameter expansion inside the String.raw template. */
const D = '$';
const PROBE_SCRIPT = sessionScript(
  'probe',
  String.raw`
local limit="$1" algo="$2" tree="$3" access="$4" mime="$5" clock="$6" nu="$7" ng="$8" light="$9" links="${D}{10}" attrs="${D}{11}" now=0 flags= stats= f= p= q= u= h= st= size= want= got= c= a= n=0 i=0 LC_ALL=C nl='
'
local fmt='%f %u %g %s %.9X %.9Y %.9Z %h %i %d %b %o %t %T %U %G'
shift 11
[ "$clock" = 1 ] && now=$(date +%s)
printf 'G %s %s ' "${D}{BASHPID:-$$}" "$now"; umask
while [ "$nu" -gt 0 ]; do getent passwd -- "$1" >/dev/null && printf 'U 1 ' || printf 'U 0 '; printf '%s' "$1" | base64 -w0; printf '\n'; shift; nu=$((nu - 1)); done
while [ "$ng" -gt 0 ]; do getent group -- "$1" >/dev/null && printf 'N 1 ' || printf 'N 0 '; printf '%s' "$1" | base64 -w0; printf '\n'; shift; ng=$((ng - 1)); done
# One flag per path: 1 exists, 0 does not, ~ expanded later and stat'ed alone, e exists and only that was asked
# (the last $light paths: parents whose existence is all a plan needs). Every path flagged 1 gets its line from
# ONE stat; if a path vanishes before it, stat fails and every path is stat'ed alone.
n=$#
for q in "$@"; do
  i=$((i + 1))
  case $q in
    '~'*) flags="$flags~" ;;
    *) if ! { [ -L "$q" ] || [ -e "$q" ]; }; then flags="${D}{flags}0"
       elif [ $((n - i)) -lt "$light" ]; then flags="${D}{flags}e"
       else flags="${D}{flags}1"; fi ;;
  esac
done
case $flags in
  *1*) stats=$(f=$flags; for q in "$@"; do [ "${D}{f%"${D}{f#?}"}" = 1 ] && set -- "$@" "$q"; f=${D}{f#?}; shift; done
               exec stat -c "$fmt" -- "$@" 2>/dev/null) || { stats=; flags=; } ;;
esac
for p in "$@"; do
  printf 'P\n'
  f=${D}{flags%"${D}{flags#?}"}; flags=${D}{flags#?}
  case $p in
    '~'|'~/'*) p="$HOME${D}{p#\~}"; printf 'X '; printf '%s' "$p" | base64 -w0; printf '\n' ;;
    '~'*) u=${D}{p%%/*}; u=${D}{u#\~}; h=$(getent passwd -- "$u" | cut -d: -f6)
      if [ -n "$h" ]; then p="$h${D}{p#\~"$u"}"; printf 'X '; printf '%s' "$p" | base64 -w0; printf '\n'; fi ;;
  esac
  case $f in
    0) continue ;;
    e) printf 'E\n'; continue ;;
    1) st=${D}{stats%%"$nl"*}; stats=${D}{stats#"$st"}; stats=${D}{stats#"$nl"} ;;
    *) [ -L "$p" ] || [ -e "$p" ] || continue; st=$(stat -c "$fmt" -- "$p") || return 3 ;;
  esac
  printf 'S %s\n' "$st"
  if [ -L "$p" ]; then
    size=${D}{st#* * * }; size=${D}{size%% *}
    if [ "$links" = full ] && [ -e "$p" ]; then st=$(stat -L -c "$fmt" -- "$p"); printf 'T %s\n' "$st"; fi
    # bash prints the target with %q (no base64 process); a link's size is its target's length, which tells
    # whether $(...) dropped trailing newlines of the target (then base64 does it). The real path keeps a sentinel.
    c=; [ -z "${D}{BASH_VERSION-}" ] || c=$(readlink -n -- "$p")
    if [ -n "$c" ] && [ "${D}{#c}" -eq "$size" ]; then printf 'l %q\n' "$c"; else printf 'L '; readlink -n -- "$p" | base64 -w0; printf '\n'; fi
    if [ "$links" != full ]; then :
    elif [ -n "${D}{BASH_VERSION-}" ]; then c=$(readlink -n -f -- "$p"; printf /); printf 'r %q\n' "${D}{c%/}"
    else printf 'R '; readlink -n -f -- "$p" | base64 -w0; printf '\n'; fi
    c=
  fi
  # A link whose target was not stat'ed has no size to read its content by.
  if [ -f "$p" ] && [ -r "$p" ] && { [ "$links" = full ] || [ ! -L "$p" ]; }; then
    size=${D}{st#* * * }; size=${D}{size%% *}
    want=0; if [ "$limit" -lt 0 ] || [ "$size" -le "$limit" ]; then want=1; fi
    # bash reads a small file itself (no process); printf %q keeps every byte but NUL, which read drops: then
    # the length differs and base64/sha1sum do it. Q is content asked for, K content only to hash here.
    got=0
    if [ -n "${D}{BASH_VERSION-}" ] && [ "$size" -le 65536 ] && { [ "$want" = 1 ] || [ "$algo" != none ]; }; then
      c=
      [ "$size" -eq 0 ] || IFS= read -r -d '' -N "$size" c < "$p" || :
      if [ "${D}{#c}" -eq "$size" ]; then
        got=1; if [ "$want" = 1 ]; then printf 'Q %q\n' "$c"; else printf 'K %q\n' "$c"; fi
      fi
      c=
    fi
    if [ "$got" = 1 ]; then
      if [ "$want" = 0 ] && [ "$limit" -gt 0 ]; then printf 'B\n'; fi
    elif [ "$want" = 1 ]; then printf 'C '; base64 -w0 < "$p"; printf '\n'
    else
      if [ "$algo" != none ]; then h=$("$algo"sum < "$p"); printf 'H %s\n' "${D}{h%% *}"; fi
      if [ "$limit" -gt 0 ]; then printf 'B\n'; fi
    fi
  fi
  if [ "$access" = 1 ]; then
    a=''; [ -r "$p" ] && a=r; [ -w "$p" ] && a="$a"w; [ -x "$p" ] && a="$a"x; printf 'A %s\n' "$a"
  fi
  # file(1) names what is not a non-empty regular file by its type alone (inode/...): no need to start it then.
  # (A dangling link still gets file(1): what it says there is what the parser turns into 'unknown', as Ansible.)
  if [ "$mime" = 1 ] && command -v file >/dev/null 2>&1; then
    if [ -L "$p" ]; then if [ -e "$p" ]; then c=symlink; else c=; fi; elif [ -d "$p" ]; then c=directory; elif [ -p "$p" ]; then c=fifo
    elif [ -S "$p" ]; then c=socket; elif [ -c "$p" ]; then c=chardevice; elif [ -b "$p" ]; then c=blockdevice
    elif [ -f "$p" ] && [ ! -s "$p" ]; then c=x-empty; else c=; fi
    if [ -n "$c" ]; then printf 'M inode/%s; charset=binary\n' "$c"; c=; else printf 'M '; file -b --mime -- "$p"; fi
  fi
  # Only lsattr's first line can be ours: the name after its two words may hold a newline.
  if [ "$attrs" = 1 ] && command -v lsattr >/dev/null 2>&1 && c=$(lsattr -vd -- "$p" 2>/dev/null); then
    printf 'F %s\n' "${D}{c%%"$nl"*}"
  fi
  c=
  if [ "$tree" = 1 ] && [ -d "$p" ] && [ ! -L "$p" ]; then
    printf 'W '; find "$p" -mindepth 1 -printf '%m %U %G %u %g %y %P\0' | base64 -w0; printf '\n'
  fi
done
`,
  // In the session's own shell, except when a backup name needs this call's own pid (clock = 1).
  { inShell: (args) => args[5] !== '1' },
);

/**
 * Build the argv of the one read-only command that reads every fact about `paths`. Exported so tests can run
 * it against a local shell too.
 */
export function probeArgv(paths: readonly string[], opts: ProbeOptions = {}): string[] {
  const limit = opts.contentLimit === undefined || opts.contentLimit === 0 ? 0 : opts.contentLimit === Infinity ? -1 : opts.contentLimit;
  const algo = opts.checksum === false ? 'none' : (opts.checksum ?? 'sha1');
  const users = namesToCheck(opts.users);
  const groups = namesToCheck(opts.groups);
  return [
    'sh', '-c', PROBE_SCRIPT, 'vncplay-probe',
    String(limit), algo, opts.tree ? '1' : '0', opts.access ? '1' : '0', opts.mime ? '1' : '0', opts.clock ? '1' : '0',
    String(users.length), String(groups.length),
    String(opts.existenceOnlyFrom === undefined ? 0 : Math.max(0, paths.length - opts.existenceOnlyFrom)),
    opts.linkTargetOnly ? 'target' : 'full',
    opts.attributes ? '1' : '0',
    ...users, ...groups,
    ...paths,
  ];
}

/** Numeric ids need no lookup (chown takes any number), names do. */
function namesToCheck(names: ReadonlyArray<string | undefined> | undefined): string[] {
  return [...new Set((names ?? []).filter((n): n is string => n !== undefined && !/^\d+$/.test(n)))];
}

/** Run the probe with the task's become settings and parse its output; a failing probe is a task failure. */
export async function probePaths(ctx: ModuleContext, paths: readonly string[], opts: ProbeOptions = {}): Promise<HostFileFacts> {
  for (const p of paths) checkPathArg(p);
  const res = await ctx.exec(probeArgv(paths, opts));
  if (res.rc !== 0) {
    throw new ModuleError('E_FILE_PROBE', `could not read the state of ${paths.join(', ')}: ${(res.stderr || res.stdout).trim()}`, {
      hint: 'the path is read with stat/sha1sum/base64 as the task user (become applies)',
    });
  }
  return parseProbeOutput(res.stdout, paths, opts.checksum === false ? undefined : (opts.checksum ?? 'sha1'));
}

/** Paths must be absolute (as Ansible requires for remote paths) and free of NUL bytes. */
export function checkPathArg(p: string): void {
  if (p.includes('\0')) throw new ModuleError('E_FILE_PATH', 'path contains a NUL byte', { hint: 'paths cannot contain NUL' });
  if (!p.startsWith('/') && !p.startsWith('~')) {
    throw new ModuleError('E_FILE_PATH', `path '${p}' is not absolute`, { hint: 'give remote paths from the root, e.g. /etc/…' });
  }
}

/**
 * `checksum`: the algorithm the probe was asked for. The probe hashes only files whose content it does not send
 * (one exec fewer per file); for the others the checksum is taken here, from the very bytes that were read.
 */
export function parseProbeOutput(stdout: string, paths: readonly string[], checksum?: ChecksumAlgorithm): HostFileFacts {
  const out: HostFileFacts = { umask: 0o022, pid: 0, now: 0, tempToken: randomBytes(12).toString('hex'), paths: [] };
  let cur: PathFacts | undefined;
  const hashOnly = new Map<PathFacts, Buffer>();
  for (const line of stdout.split('\n')) {
    const tag = line.slice(0, 1);
    const rest = line.slice(2);
    if (tag === 'G') {
      const [pid, now, umask] = rest.split(' ');
      out.umask = parseInt(umask ?? '22', 8);
      out.pid = Number(pid);
      out.now = Number(now) || Math.floor(Date.now() / 1000);
    } else if (tag === 'U' || tag === 'N') {
      const [found, b64] = rest.split(' ');
      const table = tag === 'U' ? (out.users ??= {}) : (out.groups ??= {});
      table[Buffer.from(b64 ?? '', 'base64').toString('utf8')] = found === '1';
    } else if (tag === 'P') {
      const path = paths[out.paths.length];
      if (path === undefined) throw probeError('more path records than paths');
      cur = { path, exists: false };
      out.paths.push(cur);
    } else if (cur) {
      readPathLine(cur, tag, rest, hashOnly);
    }
  }
  if (out.paths.length !== paths.length) throw probeError(`expected ${paths.length} path records, got ${out.paths.length}`);
  // The probe only stats a link's target separately; for anything else stat and lstat are the same.
  for (const p of out.paths) {
    if (p.lstat && p.lstat.type !== 'link') p.stat = p.lstat;
    const bytes = p.content ?? hashOnly.get(p);
    if (checksum !== undefined && p.checksum === undefined && bytes !== undefined) {
      p.checksum = createHash(checksum).update(bytes).digest('hex');
    }
  }
  return out;
}

function readPathLine(cur: PathFacts, tag: string, rest: string, hashOnly: Map<PathFacts, Buffer>): void {
  switch (tag) {
    case 'X':
      // `~` / `~user` expanded on the host (the task user's home, become applied), as Ansible does.
      cur.path = Buffer.from(rest, 'base64').toString('utf8');
      break;
    case 'S':
      cur.exists = true;
      cur.lstat = parseStatLine(rest);
      break;
    case 'E':
      cur.exists = true;
      break;
    case 'T':
      cur.stat = parseStatLine(rest);
      break;
    case 'L':
      cur.linkTarget = Buffer.from(rest, 'base64').toString('utf8');
      break;
    case 'R':
      cur.realPath = Buffer.from(rest, 'base64').toString('utf8');
      break;
    case 'l':
      cur.linkTarget = decodeShellWord(rest).toString('utf8');
      break;
    case 'r':
      cur.realPath = decodeShellWord(rest).toString('utf8');
      break;
    case 'H':
      cur.checksum = rest.trim();
      break;
    case 'C':
      cur.content = Buffer.from(rest, 'base64');
      break;
    case 'Q':
      cur.content = decodeShellWord(rest);
      break;
    case 'K':
      hashOnly.set(cur, decodeShellWord(rest));
      break;
    case 'B':
      cur.contentTooLarge = true;
      break;
    case 'A':
      cur.readable = rest.includes('r');
      cur.writeable = rest.includes('w');
      cur.executable = rest.includes('x');
      break;
    case 'M': {
      const m = /^([^;]+)(?:;\s*charset=(\S+))?/.exec(rest.trim());
      if (m?.[1]) cur.mime = m[1];
      if (m?.[2]) cur.charset = m[2];
      break;
    }
    case 'F': {
      const [version, flags] = rest.trim().split(/\s+/);
      if (version !== undefined && flags !== undefined) cur.fileAttributes = { version, flags: flags.replaceAll('-', '') };
      break;
    }
    case 'W':
      cur.tree = parseTree(Buffer.from(rest, 'base64').toString('utf8'));
      break;
  }
}

const SHELL_ESCAPES: Record<string, number> = { a: 7, b: 8, e: 27, E: 27, f: 12, n: 10, r: 13, t: 9, v: 11 };

/**
 * The bytes of one word as bash's `printf %q` writes it under LC_ALL=C: bare characters, `\X`, `'…'` and
 * `$'…'` (with \n, \ooo, \xHH … escapes) in any sequence. Exported for the tests.
 */
export function decodeShellWord(word: string): Buffer {
  const out: number[] = [];
  const src = Buffer.from(word, 'latin1');
  let i = 0;
  const at = (k: number): string => String.fromCharCode(src[k] ?? 0);
  while (i < src.length) {
    const c = at(i);
    if (c === '$' && at(i + 1) === "'") {
      i += 2;
      while (i < src.length && at(i) !== "'") {
        if (at(i) !== '\\') {
          out.push(src[i++]!);
          continue;
        }
        const e = at(i + 1);
        i += 2;
        if (e in SHELL_ESCAPES) out.push(SHELL_ESCAPES[e]!);
        else if (/[0-7]/.test(e)) {
          let n = e;
          while (n.length < 3 && /[0-7]/.test(at(i))) n += at(i++);
          out.push(parseInt(n, 8) & 0xff);
        } else if (e === 'x' && /[0-9a-fA-F]/.test(at(i))) {
          let n = at(i++);
          if (/[0-9a-fA-F]/.test(at(i))) n += at(i++);
          out.push(parseInt(n, 16));
        } else if (e === 'c') out.push(src[i++]! & 0x1f);
        else out.push(e.charCodeAt(0));
      }
      i++;
    } else if (c === "'") {
      i++;
      while (i < src.length && at(i) !== "'") out.push(src[i++]!);
      i++;
    } else if (c === '\\') {
      out.push(src[i + 1]!);
      i += 2;
    } else out.push(src[i++]!);
  }
  return Buffer.from(out);
}

const findTypes: Record<string, FileType> = { f: 'file', d: 'directory', l: 'link', p: 'fifo', s: 'socket', c: 'char', b: 'block' };

/** `find -printf '%m %U %G %u %g %y %P\0'` records: enough of each entry for recurse (type, mode, owner). */
export function parseTree(text: string): Array<{ rel: string; facts: StatFacts }> {
  const out: Array<{ rel: string; facts: StatFacts }> = [];
  for (const rec of text.split('\0')) {
    const m = /^([0-7]+) (\d+) (\d+) (\S+) (\S+) (\w) ([\s\S]*)$/.exec(rec);
    if (!m) continue;
    out.push({
      rel: m[7]!,
      facts: {
        type: findTypes[m[6]!] ?? 'unknown', mode: parseInt(m[1]!, 8), uid: Number(m[2]), gid: Number(m[3]), owner: m[4]!, group: m[5]!,
        size: 0, atime: 0, mtime: 0, ctime: 0, nlink: 1, inode: 0, dev: 0, blocks: 0, blockSize: 0, rdevMajor: 0, rdevMinor: 0,
      },
    });
  }
  return out;
}

function probeError(msg: string): ModuleError {
  return new ModuleError('E_FILE_PROBE', `unexpected output from the file probe: ${msg}`);
}

/** One `stat -c '%f %u %g %s %.9X %.9Y %.9Z %h %i %d %b %o %t %T %U %G'` line (%o: st_blksize, as Ansible's block_size). */
export function parseStatLine(line: string): StatFacts {
  const f = line.trim().split(' ');
  if (f.length < 16) throw probeError(`short stat line '${line}'`);
  const raw = parseInt(f[0]!, 16);
  return {
    type: fileTypeOf(raw),
    mode: raw & PERM_BITS,
    uid: Number(f[1]),
    gid: Number(f[2]),
    size: Number(f[3]),
    atime: Number(f[4]),
    mtime: Number(f[5]),
    ctime: Number(f[6]),
    nlink: Number(f[7]),
    inode: Number(f[8]),
    dev: Number(f[9]),
    blocks: Number(f[10]),
    blockSize: Number(f[11]),
    rdevMajor: parseInt(f[12]!, 16),
    rdevMinor: parseInt(f[13]!, 16),
    owner: f[14]!,
    group: f.slice(15).join(' '),
  };
}

function fileTypeOf(raw: number): FileType {
  switch (raw & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'link';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    default:
      return 'unknown';
  }
}

// ───────────────────────────── ownership, attributes ─────────────────────────────

/**
 * Ansible's add_file_common_args that vncplay accepts and does not act on: writes are always atomic, and the
 * SELinux context and chattr attributes of a file are left as they are (roles written for SELinux hosts set
 * `setype`; on the Debian hosts vncplay targets SELinux is off, where Ansible ignores these too).
 */
export const ignoredFileOptions = {
  unsafe_writes: { type: 'bool', ignored: true, description: 'Accepted for compatibility; writes are always atomic.' },
  attributes: { type: 'str', aliases: ['attr'], ignored: true, description: 'Accepted for compatibility; chattr attributes are not set.' },
  seuser: { type: 'str', ignored: true, description: 'Accepted for compatibility; SELinux contexts are not set.' },
  serole: { type: 'str', ignored: true, description: 'Accepted for compatibility; SELinux contexts are not set.' },
  setype: { type: 'str', ignored: true, description: 'Accepted for compatibility; SELinux contexts are not set.' },
  selevel: { type: 'str', ignored: true, description: 'Accepted for compatibility; SELinux contexts are not set.' },
} as const satisfies Record<string, ParamSpec>;

/** Does the owner argument (name or numeric id) already hold? */
export function ownerMatches(want: string | undefined, name: string, id: number): boolean {
  if (want === undefined) return true;
  return /^\d+$/.test(want) ? Number(want) === id : want === name;
}

export interface AttrArgs {
  mode?: string;
  owner?: string;
  group?: string;
}

/** Attribute state for --diff, as Ansible shows it (`path`, `mode`, `owner`, `group`, `state`). */
export interface AttrState {
  path: string;
  state?: string;
  mode?: string;
  owner?: string;
  group?: string;
}

/**
 * The exec steps that bring an existing path's mode/owner/group to what args ask, plus the before/after for
 * --diff. `follow` false acts on a link itself (chown -h; Linux has no lchmod, so mode is left).
 */
export function attributeChange(
  path: string,
  args: AttrArgs,
  st: StatFacts,
  umask: number,
  follow = true,
): { steps: Step[]; before: AttrState; after: AttrState; what: string[] } {
  const steps: Step[] = [];
  const before: AttrState = { path };
  const after: AttrState = { path };
  const what: string[] = [];
  if (args.owner !== undefined || args.group !== undefined) {
    const ownerOk = ownerMatches(args.owner, st.owner, st.uid);
    const groupOk = ownerMatches(args.group, st.group, st.gid);
    if (!ownerOk) {
      before.owner = st.owner;
      after.owner = args.owner!;
      what.push('owner');
    }
    if (!groupOk) {
      before.group = st.group;
      after.group = args.group!;
      what.push('group');
    }
    if (!ownerOk || !groupOk) {
      const spec = `${ownerOk ? '' : args.owner!}${groupOk ? '' : `:${args.group!}`}`;
      steps.push({ kind: 'exec', argv: ['chown', ...(follow ? [] : ['-h']), '--', spec, path] });
    }
  }
  if (args.mode !== undefined && (follow || st.type !== 'link')) {
    const want = resolveMode(args.mode, st.mode, st.type === 'directory', umask);
    if (want !== st.mode) {
      before.mode = formatMode(st.mode);
      after.mode = formatMode(want);
      what.push('mode');
      steps.push({ kind: 'exec', argv: ['chmod', '--', formatMode(want), path] });
    }
  }
  return { steps, before, after, what };
}

/**
 * A DiffEntry of attribute dictionaries. As in Ansible, lineinfile labels it `PATH (file attributes)`; file, copy
 * and template print bare `--- before` / `+++ after` (the dictionaries carry the path).
 */
export function attrDiff(path: string, before: AttrState, after: AttrState, labelled = false): DiffEntry {
  if (!labelled) return { before: { ...before }, after: { ...after } };
  return {
    path,
    before: { ...before },
    after: { ...after },
    beforeHeader: `${path} (file attributes)`,
    afterHeader: `${path} (file attributes)`,
  };
}

/**
 * For a symlink that a task follows without having asked to (lineinfile always edits a link's target, as Ansible's
 * does; file's `follow` defaults to true): it is followed only when root owns it, or whoever owns what it points to.
 * Anyone else's link would let them choose which file a root task edits or chowns (issue 13 H1: a link planted in a
 * shared folder, pointing at a root-only file). Ansible follows such links; an explicit `follow: true` still does.
 */
export function refuseForeignLink(p: PathFacts, ask: string): void {
  if (p.lstat?.type !== 'link' || p.lstat.uid === 0 || (p.stat !== undefined && p.stat.uid === p.lstat.uid)) return;
  const target = p.realPath ?? p.linkTarget ?? '?';
  const targetOwner = p.stat ? `owned by ${p.stat.owner}` : 'which does not exist';
  throw new ModuleError(
    'E_FILE_FOREIGN_LINK',
    `${p.path} is a symlink owned by ${p.lstat.owner}, pointing to ${target} (${targetOwner}): following it would let ${p.lstat.owner} choose the file this task changes`,
    { hint: `give the file's own path (${target}); ${ask}` },
  );
}

/** Ansible's messages for an owner or group the host does not know (found by the probe, so --check fails too). */
export function checkPrincipals(args: { owner?: string | undefined; group?: string | undefined }, facts: HostFileFacts): void {
  if (args.owner !== undefined && facts.users?.[args.owner] === false) {
    throw new ModuleError('E_FILE_OWNER', `chown failed: failed to look up user ${args.owner}`, { hint: 'create the user first, or give a numeric uid' });
  }
  if (args.group !== undefined && facts.groups?.[args.group] === false) {
    throw new ModuleError('E_FILE_GROUP', `chgrp failed: failed to look up group ${args.group}`, { hint: 'create the group first, or give a numeric gid' });
  }
}

// ───────────────────────────── content, backups, validate ─────────────────────────────

export function sha1(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Text for a diff, or why there is none (binary, too large), as Ansible's dst_binary / dst_larger. */
export function diffText(content: Uint8Array | undefined, tooLarge = false): string {
  if (tooLarge) return `diff skipped: file size is greater than ${MAX_DIFF_SIZE}\n`;
  if (!content) return '';
  if (content.length > MAX_DIFF_SIZE) return `diff skipped: file size is greater than ${MAX_DIFF_SIZE}\n`;
  if (content.includes(0)) return 'diff skipped: file appears to be binary\n';
  return Buffer.from(content).toString('utf8');
}

/** Ansible's backup name: `dest.PID.YYYY-mm-dd@HH:MM:SS~` (time on the host, UTC here). */
export function backupName(dest: string, pid: number, epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}@${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return `${dest}.${pid}.${stamp}~`;
}

const BACKUP_ARGV = ['cp', '-p', '--remove-destination', '--'] as const;

/**
 * `cp -p` keeps mode, owner and times of the file being replaced, like Ansible's backup_local. The backup's name
 * can be guessed (pid and time); --remove-destination makes cp unlink whatever is there and create the backup
 * with O_EXCL, so a symlink planted at that name is replaced, never written through.
 */
export function backupStep(dest: string, backup: string): Step {
  return { kind: 'exec', argv: [...BACKUP_ARGV, dest, backup] };
}

/** The backup file a step of backupStep() makes (for the registered result), else undefined. */
export function backupPathOf(step: Step): string | undefined {
  if (step.kind !== 'exec' || !BACKUP_ARGV.every((word, i) => step.argv[i] === word)) return undefined;
  return step.argv[BACKUP_ARGV.length + 1];
}

/**
 * Split a `validate` command the way Ansible does (shlex, no shell) and put `tmp` where `%s` is.
 * Refuses a command without `%s`, as Ansible does.
 */
export function validateArgv(validate: string, tmp: string): string[] {
  if (!validate.includes('%s')) {
    throw new ModuleError('E_FILE_VALIDATE', `validate must contain %s: ${validate}`, {
      hint: "write it like 'sshd -t -f %s' or 'visudo -cf %s'",
    });
  }
  return shlexSplit(validate).map((w) => w.replaceAll('%s', tmp));
}

/** POSIX-mode shlex.split: quotes, backslash escapes, whitespace; no expansion of anything. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ModuleError('E_FILE_VALIDATE', `no closing quotation in '${s}'`);
      cur += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1]!)) i++;
        cur += s[i];
        i++;
      }
      if (i >= s.length) throw new ModuleError('E_FILE_VALIDATE', `no closing quotation in '${s}'`);
      inWord = true;
      i++;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * The step that checks new content with the user's validator before the atomic write replaces the file:
 * content goes (via stdin) to a private temp file in the destination's folder, the validator runs on it,
 * the temp file is removed either way. A failing validator stops the task's remaining steps, so the old
 * file stays. The temp file is created as the main write creates its own: a random name (`token`, from the
 * gathered facts: HostFileFacts.tempToken, so plan() stays pure; never derived from the content, whose hash would
 * show up in logs) and a creation under noclobber (an existing file, or a link to one, is refused; a missing name is
 * opened O_EXCL), filled through that same open.
 */
export function validateStep(dest: string, content: Uint8Array, validate: string, token: string): Step {
  if (!/^[0-9a-f]{16,}$/.test(token)) throw new Error(`validateStep: '${token}' is not a random temporary-name token`);
  const slash = dest.lastIndexOf('/');
  const dir = slash <= 0 ? '/' : dest.slice(0, slash);
  const base = dest.slice(slash + 1);
  const tmp = `${dir === '/' ? '' : dir}/.${base}.${token}.vncplay-validate`;
  // `made` tells a failed creation (the name exists: what is there is not ours to remove) from a failed fill.
  const script =
    't=$1; shift; made=0; u=$(umask); umask 077; set -C; ' +
    '{ made=1; cat; } > "$t" || { [ "$made" = 0 ] || rm -f -- "$t"; echo "vncplay: cannot write the temporary file $t" >&2; exit 125; }; ' +
    'set +C; umask "$u"; "$@" >&2; rc=$?; rm -f -- "$t"; [ $rc -eq 0 ] || echo "failed to validate: rc:$rc" >&2; exit $rc';
  return { kind: 'exec', argv: ['sh', '-c', script, 'vncplay-validate', tmp, ...validateArgv(validate, tmp)], stdin: content };
}

/** Parent folder of an absolute path ('/' for top-level names). */
export function parentDir(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  const i = trimmed.lastIndexOf('/');
  return i <= 0 ? '/' : trimmed.slice(0, i);
}

export function baseName(p: string): string {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
