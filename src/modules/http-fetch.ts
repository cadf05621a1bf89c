import { ModuleError } from '../errors.js';
import type { ModuleContext } from './types.js';

/**
 * One HTTP(S) request made ON THE HOST with curl, for get_url and uri: the URL is resolved from the host's view, as
 * Ansible's modules (urllib on the host) resolve it. Everything the request carries (URL, headers, credentials, body)
 * goes to curl as a config file on stdin, so no secret is ever in a command line the host's `ps` shows.
 */

/** Ansible's follow_redirects: `safe` follows only for GET and HEAD; `urllib2`/`yes` follow all, `no` none. */
export type FollowRedirects = 'all' | 'none' | 'safe' | 'urllib2' | 'yes' | 'no';

export interface FetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Seconds without progress (connect, or no byte received) before the request is given up, as a socket timeout. */
  timeout: number;
  validateCerts: boolean;
  caPath?: string | undefined;
  followRedirects: FollowRedirects;
  username?: string | undefined;
  password?: string | undefined;
  /** Send the credentials with the first request instead of after a 401 challenge. */
  forceBasicAuth: boolean;
  /** Ask for a compressed response and decompress it. */
  decompress: boolean;
  /** A host file whose mtime goes out as If-Modified-Since (only when it exists). */
  ifModifiedSinceOf?: string | undefined;
  body?: string | undefined;
  /** Where the body is written on the host: a new temporary file in `tmpDir` (TMPDIR when absent). */
  tmpDir?: string | undefined;
  /** Also send the body back (base64); the file is removed unless keepFile. */
  returnBody?: boolean;
  keepFile?: boolean;
}

export interface FetchResponse {
  /** HTTP status; -1 when no response came (connection refused, TLS failure, timeout). */
  status: number;
  /** Python's reason phrase style message: `OK (12 bytes)`, `HTTP Error 404: Not Found`, or curl's error. */
  msg: string;
  /** The URL of the final response (after redirects). */
  url: string;
  /** The final response's headers, names lowercased; repeated headers joined with ', ' as Python does. */
  headers: Record<string, string>;
  /** Each Set-Cookie header of the final response. */
  setCookie: string[];
  /** The temporary file holding the body on the host (removed already unless keepFile). */
  file: string;
  body?: Buffer;
}

/** Values in a curl config file are double-quoted; these escapes are the ones curl reads back. */
export function curlConfigValue(value: string): string {
  if (/[\0]/.test(value)) throw new ModuleError('E_HTTP_ARGS', 'a request value contains a NUL byte', { hint: 'remove the NUL byte' });
  const escaped = value.replace(/[\\"\t\n\r\v]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\v': '\\v' })[c]!);
  return `"${escaped}"`;
}

/** The curl config (one option a line) for a request; the output options are on the command line. */
export function curlConfig(req: FetchRequest): string {
  const lines: string[] = [`url = ${curlConfigValue(req.url)}`];
  // GET is curl's default and a body makes a POST; `request` otherwise (a redirect then keeps the method, as urllib does not).
  if (req.method === 'HEAD') lines.push('head');
  else if (req.method !== 'GET' && !(req.method === 'POST' && req.body !== undefined)) lines.push(`request = ${curlConfigValue(req.method)}`);
  const followAll = req.followRedirects === 'all' || req.followRedirects === 'urllib2' || req.followRedirects === 'yes';
  if (followAll || (req.followRedirects === 'safe' && (req.method === 'GET' || req.method === 'HEAD'))) lines.push('location', 'max-redirs = 10');
  lines.push(`connect-timeout = ${req.timeout}`, `speed-time = ${req.timeout}`, 'speed-limit = 1');
  if (!req.validateCerts) lines.push('insecure');
  if (req.caPath !== undefined) lines.push(`cacert = ${curlConfigValue(req.caPath)}`);
  if (req.username !== undefined) {
    lines.push(`user = ${curlConfigValue(`${req.username}:${req.password ?? ''}`)}`);
    lines.push(req.forceBasicAuth ? 'basic' : 'anyauth');
  }
  if (req.decompress) lines.push('compressed');
  for (const [name, value] of Object.entries(req.headers)) lines.push(`header = ${curlConfigValue(`${name}: ${value}`)}`);
  if (req.body !== undefined) lines.push(`data-binary = ${curlConfigValue(req.body)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * $1 temp folder (empty: TMPDIR), $2 If-Modified-Since file (empty: none), $3 1 = print the body (base64),
 * $4 1 = keep the body file, $5 the method. Prints the temp file's name, curl's exit code, the final status line, curl's
 * %{json} line, its %{header_json}, then the body.
 */
const FETCH_SCRIPT = `
command -v curl >/dev/null || { echo "curl is not installed on this host" >&2; exit 127; }
tmp=$(mktemp \${1:+-p "$1"} vncplay-http.XXXXXXXXXX) || exit 126
hdr=$(mktemp) || { rm -f "$tmp"; exit 126; }
z=
if [ -n "$2" ] && [ -e "$2" ]; then z=$2; fi
out=$(curl -sS -K - -o "$tmp" -D "$hdr" \${z:+-z "$z"} -w '%{json}\\n%{header_json}\\n' 2>"$hdr.err")
rc=$?
# curl writes a HEAD response's headers to the output file; the body of a HEAD request is empty, as urllib gives it.
if [ "$5" = HEAD ]; then : > "$tmp"; fi
printf '%s\\n%s\\n' "$tmp" "$rc"
printf '%s\\n' "$(grep -a '^HTTP/' "$hdr" | tail -n 1 | tr -d '\\r')"
printf '%s\\n' "$out" | tr '\\n' ' '
printf '\\n'
head -c 2000 "$hdr.err" | tr '\\n' ' '
printf '\\n'
rm -f "$hdr" "$hdr.err"
if [ "$3" = 1 ]; then base64 -w0 "$tmp"; fi
if [ "$4" != 1 ]; then rm -f "$tmp"; fi
exit 0
`;

interface CurlStats {
  http_code: number;
  url_effective: string;
  errormsg: string | null;
  exitcode: number;
}

/** Splits `{...} {...}` (curl's %{json} then %{header_json}, newlines flattened) into the two documents. */
function splitJsonPair(text: string): [string, string] {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return [text.slice(0, i + 1), text.slice(i + 1).trim()];
  }
  return [text, '{}'];
}

/** Header names lowercased; several values of one name joined with ', ' as Ansible's fetch_url joins them. */
function headerMap(raw: Record<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(raw)) out[name.toLowerCase()] = values.join(', ');
  return out;
}

/** Runs the request on the host; throws only when curl is missing or the script itself cannot run. */
export async function fetchOnHost(ctx: ModuleContext, req: FetchRequest): Promise<FetchResponse> {
  const argv = ['sh', '-c', FETCH_SCRIPT, 'vncplay-http', req.tmpDir ?? '', req.ifModifiedSinceOf ?? '', req.returnBody ? '1' : '0', req.keepFile ? '1' : '0', req.method];
  const res = await ctx.exec(argv, { stdin: curlConfig(req) });
  if (res.rc === 127) throw new ModuleError('E_HTTP_NO_CURL', `curl is not installed on ${ctx.hostName}`, { hint: 'install curl on the host (apt: curl): vncplay downloads on the host with it, as Ansible does with python' });
  if (res.rc !== 0) throw new ModuleError('E_HTTP_TEMP', `could not create a temporary file on ${ctx.hostName}: ${res.stderr.trim()}`, { hint: 'check tmp_dest (or TMPDIR) exists and is writable' });
  const lines = res.stdout.split('\n');
  const [file = '', rcText = '0', statusLine = '', jsonPair = '', stderr = '', bodyB64 = ''] = lines;
  const [statsJson, headersJson] = splitJsonPair(jsonPair);
  const stats = JSON.parse(statsJson) as CurlStats;
  const rawHeaders = JSON.parse(headersJson || '{}') as Record<string, string[]>;
  const headers = headerMap(rawHeaders);
  const reason = /^HTTP\/\S+\s+\d+\s*(.*)$/.exec(statusLine)?.[1]?.trim() ?? '';
  // No answer, or one curl could not finish (timeout, reset): no status, as urllib gives none (-1).
  const failed = stats.http_code === 0 || Number(rcText) !== 0;
  const status = failed ? -1 : stats.http_code;
  let msg: string;
  if (failed) msg = `Request failed: ${stats.errormsg ?? stderr.trim()}`;
  // urllib raises HTTPError for every status outside 2xx (a redirect not followed, 304 too).
  else if (status < 200 || status >= 300) msg = `HTTP Error ${status}: ${reason}`;
  else msg = `OK (${headers['content-length'] ?? 'unknown'} bytes)`;
  return {
    status,
    msg,
    url: stats.url_effective,
    headers,
    setCookie: Object.entries(rawHeaders).flatMap(([name, values]) => (name.toLowerCase() === 'set-cookie' ? values : [])),
    file,
    ...(req.returnBody ? { body: Buffer.from(bodyB64, 'base64') } : {}),
  };
}
