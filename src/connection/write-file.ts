import { createHash, randomBytes } from 'node:crypto';
import { ConnectionError, ModuleError } from '../errors.js';
import { sessionScript } from './line-session.js';
import type { Connection, ExecOptions } from './types.js';

/**
 * Whole-file writes and reads on a host, each in ONE exec over the open connection.
 *
 * The scripts are constants; paths, modes and owners travel as positional arguments ("$1"…), never pasted into
 * the script, and content travels on stdin. So no value can change what the shell runs.
 */

export interface WriteFileOptions {
  /** chmod syntax: '0644', '644', 'u=rw,go=r'. Default: the existing file's mode, or 0666 & ~umask for a new file. */
  mode?: string;
  /** Default: the existing file's owner/group (when we may set them), else the writing user's. */
  owner?: string;
  group?: string;
  become?: boolean;
  becomeUser?: string;
  signal?: AbortSignal;
}

/**
 * Create a temp file beside the target (exclusively: noclobber and a random name; born with its final
 * permissions when umask can express them), fill it, fsync it, set owner/mode, then rename over the target.
 * On a channel the content is stdin, streamed by `dd conv=fsync`, whose byte count is the size check (a cut
 * connection gives a short stdin); in a line session it is the last argument (the whole command arrived, or none
 * of it ran), written by printf (a builtin) and fsynced by dd: two processes (dd, mv) for a plain file either way.
 * A full disk or a failing chown removes the temp file and leaves the old file whole: the target only ever holds
 * the old or the new content, also after a power cut (the data is on disk before the rename). The folder is not
 * fsynced after the rename: that would only make the rename itself durable (after a crash the old file may come
 * back, never a half one) and cost a second disk flush per write (5-7 ms measured on the fleet's disk).
 * A symlink at `path` is never followed: the rename replaces the link itself with the new regular file (mode and
 * owner of a new file, nothing taken from whatever the link points to), as Ansible's copy does with its default
 * `follow: no`. A module that is asked to follow a link passes the link's target as `path` itself. Following here
 * would let anyone who can plant a link beside a file that a root task writes redirect that write anywhere.
 * It runs in the line session's own shell (no subshell), so it keeps to `local`, `return` and restores umask.
 */
export const WRITE_FILE_SCRIPT = sessionScript(
  'write',
  `
local dest="$1" mode="$2" owner="$3" group="$4" size="$5" token="$6" dir= tmp= m= d2= report= got= err= late=1 rc=0 old=0 made=0 nl='
'
case $dest in */*) dir=\${dest%/*}; dir=\${dir:-/} ;; *) dir=. ;; esac
[ -d "$dir" ] || { printf 'vncplay: destination directory %s does not exist\\n' "$dir" >&2; return 1; }
[ ! -d "$dest" ] || { printf 'vncplay: %s is a directory\\n' "$dest" >&2; return 1; }
case $token in ''|*[!0-9a-f]*) printf 'vncplay: bad temporary name\\n' >&2; return 1 ;; esac
tmp="$dir/.\${dest##*/}.vncplay-$token"
# Only a regular file (not a link) lends its mode and owner to the new one.
[ -L "$dest" ] || [ ! -e "$dest" ] || old=1
case $mode in
  [26][0246][0246]|0[26][0246][0246])
    m=\${mode#0}; d2=\${m#?}; d2=\${d2%?}
    umask "$((7 - \${m%??}))$((7 - d2))$((7 - \${m#??}))"; late=0 ;;
  '') if [ "$old" = 1 ]; then umask 077; else late=0; fi ;;
  *) umask 077 ;;
esac
# Created and (in a session) filled through ONE open under noclobber: an existing file (or a link to one) is
# refused, a missing name is opened O_EXCL; with the random name nobody can have put anything there.
# \`made\` tells a name that was taken (not ours to remove) from a failed fill. dd never creates the file (nocreat): a
# dd still running after a signal removed the temp file cannot bring it back.
set -C
if [ $# -ge 7 ]; then { made=1; VP_WRITE_TMP=$tmp; printf '%s' "$7"; } > "$tmp" || rc=1
else { made=1; } > "$tmp" || rc=1; fi
set +C
[ -z "\${VP_UMASK-}" ] || umask "$VP_UMASK"
[ "$made" = 1 ] || { printf 'vncplay: cannot create a temporary file in %s\\n' "$dir" >&2; return 1; }
if [ $# -ge 7 ]; then
  [ "$rc" = 0 ] && report=$(LC_ALL=C dd if=/dev/null of="$tmp" conv=notrunc,nocreat,fsync 2>&1) || rc=1
else
  vp_write_tmp=$tmp
  trap 'rm -f -- "$vp_write_tmp"' EXIT
  trap 'exit 1' HUP INT TERM PIPE
  report=$(LC_ALL=C dd of="$tmp" bs=65536 conv=nocreat,fsync 2>&1) || rc=1
  got=\${report##*records out}; got=\${got#?}; got=\${got%% *}
  case $got in ''|*[!0-9]*) got=$(wc -c < "$tmp") ;; esac
  if [ "$rc" = 0 ] && [ "$got" -ne "$size" ]; then
    rm -f -- "$tmp"; printf 'vncplay: received %s of %s bytes; %s left unchanged\\n' "$got" "$size" "$dest" >&2; return 1
  fi
fi
if [ "$rc" != 0 ]; then
  err=\${report##*dd: }; rm -f -- "$tmp"; VP_WRITE_TMP=
  printf 'vncplay: writing %s failed (disk full?): %s\\n' "$tmp" "\${err%%"$nl"*}" >&2; return 1
fi
if [ "$old" = 1 ]; then
  { [ -O "$dest" ] && [ -G "$dest" ]; } || chown -h --reference="$dest" -- "$tmp" 2>/dev/null || :
  [ -n "$mode" ] || chmod --reference="$dest" -- "$tmp" || err="cannot copy the mode of $dest"
fi
if [ -z "$err" ] && [ -n "$owner" ]; then chown -h -- "$owner" "$tmp" || err="cannot set owner $owner"; fi
if [ -z "$err" ] && [ -n "$group" ]; then chgrp -h -- "$group" "$tmp" || err="cannot set group $group"; fi
if [ -z "$err" ] && [ -n "$mode" ] && [ "$late" = 1 ]; then chmod -- "$mode" "$tmp" || err="cannot set mode $mode"; fi
# -T: a link to a folder that appeared at dest meanwhile is replaced, not entered.
[ -n "$err" ] || mv -fT -- "$tmp" "$dest" || err="cannot rename $tmp over $dest"
VP_WRITE_TMP=
[ -z "$err" ] || { rm -f -- "$tmp"; printf 'vncplay: %s\\n' "$err" >&2; return 1; }
[ $# -ge 7 ] || trap - EXIT
`,
  { inShell: () => true, stdinAsArgument: true },
);

function execOpts(opts: { become?: boolean; becomeUser?: string; signal?: AbortSignal }): ExecOptions {
  const e: ExecOptions = {};
  if (opts.become !== undefined) e.become = opts.become;
  if (opts.becomeUser !== undefined) e.becomeUser = opts.becomeUser;
  if (opts.signal) e.signal = opts.signal;
  return e;
}

export async function writeFileAtomic(
  conn: Connection,
  path: string,
  content: string | Uint8Array,
  opts: WriteFileOptions = {},
): Promise<void> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  // The temp file's name carries 96 random bits from here (no mktemp process): nobody can create it first.
  const token = randomBytes(12).toString('hex');
  const argv = ['sh', '-c', WRITE_FILE_SCRIPT, 'vncplay-write', path, opts.mode ?? '', opts.owner ?? '', opts.group ?? '', String(bytes.length), token];
  const res = await conn.exec(argv, { ...execOpts(opts), stdin: bytes });
  if (res.rc !== 0) {
    throw new ModuleError('E_WRITE_FILE', `writing ${path} on ${conn.hostName} failed: ${(res.stderr || res.stdout).trim() || `exit ${res.rc}`}`, {
      hint: 'the previous content of the file is unchanged',
    });
  }
}

export interface ReadFileOptions {
  become?: boolean;
  becomeUser?: string;
  signal?: AbortSignal;
  /** Content is returned only up to this size (sha1 always). Default 8 MiB. */
  maxBytes?: number;
}

export interface RemoteFile {
  exists: boolean;
  /** What the path is, following symlinks (a dangling link reports exists: false, isLink: true). */
  type?: 'file' | 'directory' | 'other';
  isLink?: boolean;
  /** Regular files within maxBytes only. */
  content?: Buffer;
  /** Hex SHA-1 of the content (regular files only), as Ansible's stat.checksum. */
  sha1?: string;
  /** Four-digit octal, as Ansible shows it: '0644'. */
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
}

/**
 * stat + sha1 + base64 content in one exec. Output lines: state, then `mode owner group size type`, then sha1,
 * then the base64 content (or `-` when over the cap).
 */
export const READ_FILE_SCRIPT = sessionScript('read', `
p=$1 cap=$2
link=0; [ -L "$p" ] && link=1
if [ ! -e "$p" ]; then echo "absent $link"; exit 0; fi
echo "present $link"
st=$(stat -L -c '%a %U %G %s %F' -- "$p") || exit 3
echo "$st"
if [ -f "$p" ]; then
  sum=$(sha1sum < "$p") || exit 3
  echo "\${sum%% *}"
  size=$(stat -L -c %s -- "$p")
  if [ "$size" -le "$cap" ]; then base64 -w 0 < "$p" || exit 3; echo; else echo -; fi
fi
`);

export async function readFileRemote(conn: Connection, path: string, opts: ReadFileOptions = {}): Promise<RemoteFile> {
  const cap = opts.maxBytes ?? 8 * 1024 * 1024;
  const res = await conn.exec(['sh', '-c', READ_FILE_SCRIPT, 'vncplay-read', path, String(cap)], execOpts(opts));
  if (res.rc !== 0) {
    throw new ModuleError('E_READ_FILE', `reading ${path} on ${conn.hostName} failed: ${res.stderr.trim() || `exit ${res.rc}`}`, {
      hint: 'is become needed to read it?',
    });
  }
  return parseReadFileOutput(res.stdout, path, conn.hostName);
}

/** Exported for unit tests: the output format is the contract between the script and this parser. */
export function parseReadFileOutput(stdout: string, path: string, hostName: string): RemoteFile {
  const lines = stdout.split('\n');
  const [state, isLinkFlag] = (lines[0] ?? '').split(' ');
  const isLink = isLinkFlag === '1';
  if (state === 'absent') return { exists: false, ...(isLink ? { isLink } : {}) };
  if (state !== 'present') throw new ConnectionError('E_PROTOCOL', `unexpected answer reading ${path} on ${hostName}: ${stdout.slice(0, 200)}`);
  const m = /^(\d+) (\S+) (\S+) (\d+) (.+)$/.exec(lines[1] ?? '');
  if (!m) throw new ConnectionError('E_PROTOCOL', `unexpected stat output for ${path} on ${hostName}: ${lines[1] ?? ''}`);
  const [, mode, owner, group, size, kind] = m as unknown as [string, string, string, string, string, string];
  const type = kind.startsWith('regular') ? 'file' : kind === 'directory' ? 'directory' : 'other';
  const file: RemoteFile = { exists: true, type, mode: mode.padStart(4, '0'), owner, group, size: Number(size) };
  if (isLink) file.isLink = true;
  if (type === 'file') {
    file.sha1 = lines[2] ?? '';
    const b64 = lines[3] ?? '-';
    if (b64 !== '-') {
      file.content = Buffer.from(b64, 'base64');
      // The sha1 came from the host; a mismatch means the content was cut or mangled on the way.
      if (createHash('sha1').update(file.content).digest('hex') !== file.sha1) {
        throw new ConnectionError('E_PROTOCOL', `content of ${path} on ${hostName} changed while reading it, or arrived damaged`, {
          hint: 'retry the task',
        });
      }
    }
  }
  return file;
}
