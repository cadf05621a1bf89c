import { ModuleError } from '../errors.js';
import { attributeChange, checkPrincipals, checksumAlgorithms, formatMode, probePaths, type ChecksumAlgorithm, type StatFacts } from './file-common.js';
import { fetchOnHost, type FetchRequest, type FetchResponse } from './http-fetch.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type Options } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * ansible.builtin.get_url: the host downloads the URL (curl, http-fetch.ts) into a temporary file, and the file
 * replaces dest only when its sha1 differs, as Ansible's module does; mode/owner/group apply afterwards either way.
 */

const nonEmpty = { pattern: '\\S', patternText: 'a non-empty string' } as const;

/** Ansible's url_argument_spec, shared by get_url and uri. */
export const urlOptions = {
  url: { type: 'str', required: true, ...nonEmpty, description: 'HTTP, HTTPS (or FTP/file) URL, fetched by the host.' },
  validate_certs: { type: 'bool', default: true, description: "false accepts any server certificate (curl's --insecure)." },
  ca_path: { type: 'path', description: 'A PEM file of CA certificates to check the server against, instead of the system store.' },
  url_username: { type: 'str', aliases: ['username'], description: 'User name for HTTP authentication.' },
  url_password: { type: 'str', aliases: ['password'], no_log: true, description: 'Password for HTTP authentication.' },
  force_basic_auth: { type: 'bool', default: false, description: 'Send Basic credentials with the first request, not only after a 401 challenge.' },
  headers: { type: 'dict', description: 'Extra request headers, name → value.' },
  timeout: { type: 'int', min: 0, default: 10, description: 'Seconds to wait for the connection or for more data before giving up.' },
  use_proxy: { type: 'bool', default: true, description: "Use the host's proxy variables (curl reads http_proxy/https_proxy itself)." },
  http_agent: { type: 'str', default: 'ansible-httpget', description: 'The User-Agent header.' },
  use_gssapi: { type: 'bool', default: false, ignored: true, description: 'Accepted for compatibility; GSSAPI is not supported.' },
  client_cert: { type: 'path', ignored: true, description: 'Accepted for compatibility; client certificates are not supported.' },
  client_key: { type: 'path', ignored: true, description: 'Accepted for compatibility; client certificates are not supported.' },
  unredirected_headers: { type: 'list', elements: 'str', default: [], ignored: true, description: 'Accepted for compatibility; headers go to every hop.' },
  ciphers: { type: 'list', elements: 'str', ignored: true, description: "Accepted for compatibility; curl's default ciphers apply." },
  use_netrc: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; ~/.netrc is not read.' },
} as const satisfies Options;

const spec = defineSpec({
  description: 'Download a file over HTTP(S) on the host (curl) to dest, replacing it only when the content differs; checksum, mode/owner/group, backup.',
  options: {
    ...urlOptions,
    dest: { type: 'path', required: true, ...nonEmpty, description: 'Absolute path to download to; an existing folder receives the file under the name the server or the URL gives.' },
    checksum: {
      type: 'str',
      default: '',
      description: "`ALGORITHM:HEX` (sha256, sha1, md5 …) the file must have, or `ALGORITHM:URL` of a checksum file (`sha256sum` format); with force false, a matching dest is not downloaded again.",
    },
    force: { type: 'bool', default: false, description: 'Download even when dest exists (false sends If-Modified-Since and keeps a dest whose checksum matches).' },
    backup: { type: 'bool', default: false, description: 'Keep the old dest as DEST.PID.DATE@TIME~ before replacing it; returned as backup_file.' },
    tmp_dest: { type: 'path', description: 'Folder on the host for the temporary download (default: TMPDIR).' },
    decompress: { type: 'bool', default: true, description: 'Ask for a compressed transfer and store it decompressed.' },
    mode: { type: 'mode', description: "Permissions of dest, as a quoted octal string ('0644') or symbolic ('u=rw,go=r')." },
    owner: { type: 'str', ...nonEmpty, description: 'User name or uid that should own dest.' },
    group: { type: 'str', ...nonEmpty, description: 'Group name or gid that should own dest.' },
  },
  removedParams: { sha256sum: 'write `checksum: "sha256:…"` (the sum after the prefix)' },
  check: (args) => (args.dest.startsWith('/') || args.dest.startsWith('~') ? undefined : { param: 'dest', message: `dest '${args.dest}' must be an absolute path`, hint: 'start it with /' }),
});

type Args = ArgsOf<typeof spec.options>;

/** The request fields get_url and uri fill the same way from url_argument_spec. */
export function urlRequest(args: ArgsOf<typeof urlOptions>): Omit<FetchRequest, 'method' | 'followRedirects' | 'decompress'> {
  const agentGiven = Object.keys(args.headers ?? {}).some((k) => k.toLowerCase() === 'user-agent');
  const headers: Record<string, string> = agentGiven ? {} : { 'User-Agent': args.http_agent };
  for (const [k, v] of Object.entries(args.headers ?? {})) headers[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return {
    url: args.url,
    headers,
    timeout: args.timeout,
    validateCerts: args.validate_certs,
    caPath: args.ca_path,
    username: args.url_username,
    password: args.url_password,
    forceBasicAuth: args.force_basic_auth,
  };
}

/** `checksum: ALGO:VALUE` split; VALUE may be a URL of a checksum file. */
export function parseChecksumArg(checksum: string): { algorithm: ChecksumAlgorithm; value: string; isUrl: boolean } {
  const at = checksum.indexOf(':');
  if (at < 0) throw new ModuleError('E_GET_URL_CHECKSUM', 'The checksum parameter has to be in format <algorithm>:<checksum>', { hint: "write it like 'sha256:9f86d08…'" });
  const algorithm = checksum.slice(0, at);
  const value = checksum.slice(at + 1);
  if (!(checksumAlgorithms as readonly string[]).includes(algorithm)) {
    throw new ModuleError('E_GET_URL_CHECKSUM', `unsupported checksum algorithm '${algorithm}'`, { hint: `one of ${checksumAlgorithms.join(', ')}` });
  }
  return { algorithm: algorithm as ChecksumAlgorithm, value, isUrl: /^(https?|ftp|file):/.test(value) };
}

/** The file name of a URL's path (`index.html` for none), as Ansible's url_filename. */
export function urlFilename(url: string): string {
  const pathPart = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  const name = pathPart.slice(pathPart.lastIndexOf('/') + 1);
  return name === '' ? 'index.html' : name;
}

/**
 * The checksum for `filename` in a checksum file: a lone hash, or `HASH  NAME` / `HASH *NAME` lines (leading ./
 * dropped), the first line naming the file winning — Ansible's reading of it.
 */
export function checksumFromFile(text: string, filename: string): string | undefined {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 1 && lines[0]!.trim().split(/\s+/).length === 1) return lines[0]!.trim();
  for (const line of lines) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    let name = line.slice(sp + 1);
    if (name.startsWith(' ') || name.startsWith('*')) name = name.slice(1);
    if (name.replace(/^[./]+/, '') === filename) return line.slice(0, sp);
  }
  return undefined;
}

/** Strips what is not a word character (a zero-width space pasted with the hash) and lowercases; must be hex. */
export function normalizeChecksum(value: string): string {
  const hex = value.replace(/\W+/gu, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new ModuleError('E_GET_URL_CHECKSUM', 'The checksum format is invalid', { hint: 'the part after the algorithm must be a hexadecimal digest' });
  return hex;
}

/** The filename in a Content-Disposition `attachment; filename=…` (its base name only), as Ansible reads it. */
export function dispositionFilename(headers: Record<string, string>): string | undefined {
  const m = /^attachment; ?filename="?([^"]+)/.exec(headers['content-disposition'] ?? '');
  if (!m) return undefined;
  const base = m[1]!.slice(m[1]!.lastIndexOf('/') + 1);
  return base === '' ? undefined : base;
}

/** Ansible's add_path_info fields for a path's lstat: what a result naming a file says about it. */
export function pathInfo(st: StatFacts): Record<string, unknown> {
  const state = st.type === 'link' ? 'link' : st.type === 'directory' ? 'directory' : st.nlink > 1 ? 'hard' : 'file';
  return { uid: st.uid, gid: st.gid, owner: st.owner, group: st.group, mode: formatMode(st.mode), state, size: st.size };
}

/** Ansible's add_path_info: every result naming an existing path (or dest) also says what that file is now. */
export async function withPathInfo(ctx: ModuleContext, ret: ModuleReturn): Promise<ModuleReturn> {
  const dest = ret.data?.['path'] ?? ret.data?.['dest'];
  if (typeof dest !== 'string') return ret;
  const st = (await probePaths(ctx, [dest], { checksum: false })).paths[0]!.lstat;
  return st ? { ...ret, data: { ...ret.data, ...pathInfo(st) } } : ret;
}

/**
 * Puts a downloaded temp file in place as Ansible's atomic_move does (an existing dest keeps its mode and owner, a
 * new one gets 0666 less the umask), unless it has the same content; check mode compares only.
 * $1 downloaded temp file, $2 dest, $3 1 = check mode (compare only), $4 1 = back up the old dest.
 * Prints `S sha1` of the download, `D sha1` of dest (when it exists), `B backup` when one was made, `M` when the
 * download replaced dest, or `E message` for what Ansible refuses (dest not writable, its folder missing).
 */
const INSTALL_SCRIPT = `
tmp=$1 dest=$2
fail() { rm -f "$tmp"; echo "E $1"; exit 0; }
echo "S $(sha1sum < "$tmp" | cut -d' ' -f1)"
if [ -e "$dest" ]; then
  [ -w "$dest" ] || fail "Destination $dest is not writable"
  [ -r "$dest" ] || fail "Destination $dest is not readable"
  echo "D $(sha1sum < "$dest" | cut -d' ' -f1)"
else
  dir=$(dirname -- "$dest")
  [ -e "$dir" ] || fail "Destination $dir does not exist"
  [ -w "$dir" ] || fail "Destination $dir is not writable"
fi
if [ "$3" = 1 ] || { [ -e "$dest" ] && cmp -s -- "$tmp" "$dest"; }; then rm -f "$tmp"; exit 0; fi
if [ -e "$dest" ]; then
  if [ "$4" = 1 ]; then
    b="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
    cp -p --remove-destination -- "$dest" "$b" || fail "could not back up $dest"
    echo "B $b"
  fi
  chmod --reference="$dest" -- "$tmp"
  chown --reference="$dest" -- "$tmp" 2>/dev/null
else
  chmod "$(printf '%o' $((0666 & ~0$(umask))))" -- "$tmp"
fi
mv -f -- "$tmp" "$dest" || fail "failed to copy $tmp to $dest"
echo M
`;

interface Installed {
  checksumSrc: string;
  checksumDest: string | null;
  backup?: string;
  moved: boolean;
}

export async function installDownload(ctx: ModuleContext, tmp: string, dest: string, backup: boolean): Promise<Installed | { error: string }> {
  const res = await ctx.exec(['sh', '-c', INSTALL_SCRIPT, 'vncplay-get-url', tmp, dest, ctx.check ? '1' : '0', backup ? '1' : '0']);
  const out: Installed = { checksumSrc: '', checksumDest: null, moved: false };
  for (const line of res.stdout.split('\n')) {
    const [tag, rest = ''] = [line.slice(0, 1), line.slice(2)];
    if (tag === 'E') return { error: rest };
    if (tag === 'S') out.checksumSrc = rest;
    if (tag === 'D') out.checksumDest = rest;
    if (tag === 'B') out.backup = rest;
    if (tag === 'M') out.moved = true;
  }
  if (res.rc !== 0 || out.checksumSrc === '') throw new ModuleError('E_GET_URL_INSTALL', `could not install ${dest}: ${res.stderr.trim()}`);
  return out;
}

/** The checksum the download must have (after fetching a checksum file when the argument names one). */
async function wantedChecksum(args: Args, ctx: ModuleContext, base: ReturnType<typeof urlRequest>): Promise<{ algorithm: ChecksumAlgorithm; hex: string } | ModuleReturn | undefined> {
  if (args.checksum === '') return undefined;
  const { algorithm, value, isUrl } = parseChecksumArg(args.checksum);
  if (!isUrl) return { algorithm, hex: normalizeChecksum(value) };
  const sums = await fetchOnHost(ctx, { ...base, url: value, method: 'GET', followRedirects: 'urllib2', decompress: true, tmpDir: args.tmp_dest, returnBody: true });
  if (sums.status !== 200) return { failed: true, msg: 'Request failed', data: { status_code: sums.status, response: sums.msg, url: value, dest: args.dest } };
  const filename = urlFilename(args.url);
  const found = checksumFromFile(sums.body?.toString('utf8') ?? '', filename);
  if (found === undefined) return { failed: true, msg: `Unable to find a checksum for file '${filename}' in '${value}'` };
  return { algorithm, hex: normalizeChecksum(found) };
}

/** Brings dest's mode/owner/group to what the task asks (get_url, uri); says whether anything changed, and dest's checksum. */
export async function settleAttributes(args: Pick<Args, 'mode' | 'owner' | 'group'>, ctx: ModuleContext, dest: string, algorithm: ChecksumAlgorithm | false): Promise<{ changed: boolean; checksum?: string }> {
  const facts = await probePaths(ctx, [dest], { checksum: algorithm, users: [args.owner], groups: [args.group] });
  const p = facts.paths[0]!;
  if (!p.stat) return { changed: false };
  checkPrincipals(args, facts);
  const change = attributeChange(dest, args, p.stat, facts.umask);
  if (!ctx.check) {
    for (const step of change.steps) {
      if (step.kind !== 'exec') continue;
      const r = await ctx.exec(step.argv);
      if (r.rc !== 0) throw new ModuleError('E_GET_URL_ATTRS', `${step.argv.join(' ')} failed: ${r.stderr.trim()}`);
    }
  }
  return { changed: change.steps.length > 0, ...(p.checksum ? { checksum: p.checksum } : {}) };
}

async function download(args: Args, ctx: ModuleContext): Promise<ModuleReturn> {
  const base = urlRequest(args);
  const result: Record<string, unknown> = { checksum_dest: null, checksum_src: null, dest: args.dest, elapsed: 0, url: args.url };
  const want = await wantedChecksum(args, ctx, base);
  if (want !== undefined && !('hex' in want)) return want;
  const destFacts = await probePaths(ctx, [args.dest], { checksum: want?.algorithm ?? false });
  const destNow = destFacts.paths[0]!;
  const destIsDir = destNow.stat?.type === 'directory';
  let force = args.force;
  if (!destIsDir && destNow.exists) {
    if (!force && want !== undefined && destNow.checksum === want.hex) {
      const attrs = await settleAttributes(args, ctx, args.dest, false);
      return { changed: attrs.changed, msg: attrs.changed ? 'file already exists but file attributes changed' : 'file already exists', data: result };
    }
    if (want !== undefined && destNow.checksum !== want.hex) force = true;
  }
  const started = Date.now();
  const fetched: FetchResponse = await fetchOnHost(ctx, {
    ...base,
    method: ctx.check ? 'HEAD' : 'GET',
    followRedirects: 'urllib2',
    decompress: args.decompress,
    tmpDir: args.tmp_dest,
    keepFile: true,
    ifModifiedSinceOf: !force && destNow.exists && !destIsDir ? args.dest : undefined,
  });
  const elapsed = Math.floor((Date.now() - started) / 1000);
  const removeTemp = (): Promise<unknown> => ctx.exec(['rm', '-f', '--', fetched.file]);
  if (fetched.status === 304) {
    // Ansible leaves mode/owner/group alone when the server says the file is not modified.
    await removeTemp();
    return { changed: false, msg: fetched.msg, data: { url: args.url, dest: args.dest, status_code: 304, elapsed } };
  }
  if (fetched.status === -1) {
    await removeTemp();
    return { failed: true, msg: fetched.msg, data: { url: args.url, dest: args.dest, elapsed } };
  }
  if (fetched.status !== 200 && !args.url.startsWith('file:/')) {
    await removeTemp();
    return { failed: true, msg: 'Request failed', data: { status_code: fetched.status, response: fetched.msg, url: args.url, dest: args.dest, elapsed } };
  }
  const dest = destIsDir ? `${args.dest.replace(/\/+$/, '')}/${dispositionFilename(fetched.headers) ?? urlFilename(fetched.url)}` : args.dest;
  Object.assign(result, { dest, elapsed, src: fetched.file });
  const installed = await installDownload(ctx, fetched.file, dest, args.backup);
  if ('error' in installed) return { failed: true, msg: installed.error, data: result };
  result['checksum_src'] = installed.checksumSrc;
  result['checksum_dest'] = installed.checksumDest;
  const contentChanged = installed.checksumSrc !== installed.checksumDest;
  if (ctx.check) return { changed: contentChanged, msg: fetched.msg, data: result };
  const attrs = await settleAttributes(args, ctx, dest, want?.algorithm ?? 'md5');
  if (want !== undefined && attrs.checksum !== want.hex) {
    await ctx.exec(['rm', '-f', '--', dest]);
    return { failed: true, changed: contentChanged, msg: `The checksum for ${dest} did not match ${want.hex}; it was ${attrs.checksum ?? ''}.`, data: result };
  }
  const md5 = want === undefined ? attrs.checksum : (await probePaths(ctx, [dest], { checksum: 'md5' })).paths[0]!.checksum;
  return {
    changed: contentChanged || attrs.changed,
    msg: fetched.msg,
    data: { ...result, md5sum: md5 ?? null, status_code: fetched.status, ...(installed.backup ? { backup_file: installed.backup } : {}) },
  };
}

export const getUrlModule = actionModule(spec, {
  kind: 'action',
  name: 'get_url',
  where: 'host',
  inCheckMode: 'run',
  run: async (args, ctx) => withPathInfo(ctx, await download(args, ctx)),
});
