import { ModuleError } from '../errors.js';
import { pyJson } from '../playbook/filters.js';
import { dispositionFilename, installDownload, settleAttributes, urlFilename, urlOptions, urlRequest, withPathInfo } from './get-url.js';
import { fetchOnHost, type FollowRedirects } from './http-fetch.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * ansible.builtin.uri: one HTTP request made by the host (curl, http-fetch.ts). The registered result is Ansible's:
 * status, url, redirected, msg, elapsed, every response header as a lowercase key with `-` as `_` (content_type,
 * x_request_id), cookies, json for a JSON response, content with return_content, path with dest.
 */

const spec = defineSpec({
  description: 'Make an HTTP(S) request from the host (curl) and register the status, headers, content and JSON; fail on a status not in status_code.',
  options: {
    ...urlOptions,
    url_username: { type: 'str', aliases: ['user'], description: 'User name for HTTP authentication.' },
    url_password: { type: 'str', aliases: ['password'], no_log: true, description: 'Password for HTTP authentication.' },
    timeout: { type: 'int', min: 0, default: 30, description: 'Seconds to wait for the connection or for more data before giving up.' },
    headers: { type: 'dict', default: {}, description: 'Request headers, name → value.' },
    method: { type: 'str', default: 'GET', pattern: '^[A-Za-z]+$', patternText: 'one word, like GET or POST', description: 'HTTP method (GET, POST, PUT, DELETE, PATCH, HEAD …).' },
    body: { type: 'raw', description: 'Request body: text, or a mapping/list encoded as body_format says.' },
    body_format: { type: 'str', choices: ['raw', 'json', 'form-urlencoded'], default: 'raw', description: 'json or form-urlencoded encode a structured body and set Content-Type.' },
    status_code: { type: 'list', elements: 'int', default: [200], description: 'Statuses that mean success.' },
    return_content: { type: 'bool', default: false, description: 'Return the body as `content` (a JSON body is returned as `json` anyway).' },
    follow_redirects: { type: 'str', choices: ['all', 'no', 'none', 'safe', 'urllib2', 'yes'], default: 'safe', description: 'safe follows redirects for GET and HEAD only; all (urllib2, yes) always; none (no) never.' },
    dest: { type: 'path', description: 'Write the body to this host file; an existing folder gets the name the server or the final URL gives (index.html for none).' },
    creates: { type: 'path', description: 'Skip the request when this host path exists.' },
    removes: { type: 'path', description: 'Skip the request unless this host path exists.' },
    decompress: { type: 'bool', default: true, description: 'Ask for a compressed transfer and decompress it.' },
    mode: { type: 'mode', description: "Permissions of dest, as a quoted octal string ('0644') or symbolic." },
    owner: { type: 'str', description: 'User name or uid that should own dest.' },
    group: { type: 'str', description: 'Group name or gid that should own dest.' },
    src: { type: 'path', ignored: true, description: 'Not supported: give the body inline.' },
    remote_src: { type: 'bool', default: false, ignored: true, description: 'Not supported (src is not supported).' },
    unix_socket: { type: 'path', ignored: true, description: 'Not supported.' },
  },
  check: (args) => (args.src !== undefined ? { param: 'src', message: 'src is not supported by vncplay', hint: 'give the request body inline with body (a lookup can read a file)' } : undefined),
});

type Args = ArgsOf<typeof spec.options>;

/** Python's urlencode(quote_plus): unreserved `A-Za-z0-9_.-~` kept, space as +, everything else %XX (UTF-8). */
function quotePlus(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Python's str() of a scalar, as to_text gives it for a form field. */
function pyText(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : pyJson(v, undefined, false);
}

/** Ansible's form_urlencoded: a mapping or a list of pairs; a list value repeats the key; null values are left out. */
export function formUrlencoded(body: unknown): string {
  if (typeof body === 'string') return body;
  const pairs: Array<[unknown, unknown]> = Array.isArray(body) ? (body as Array<[unknown, unknown]>) : Object.entries(body as Record<string, unknown>);
  const out: string[] = [];
  for (const [key, values] of pairs) {
    for (const value of Array.isArray(values) ? values : [values]) {
      if (value !== null && value !== undefined) out.push(`${quotePlus(pyText(key))}=${quotePlus(pyText(value))}`);
    }
  }
  return out.join('&');
}

/** The body text and the headers uri sends for a body_format (Content-Type only when the task sets none). */
export function encodeBody(body: unknown, format: Args['body_format'], headers: Record<string, unknown>): { body: string | undefined; headers: Record<string, unknown> } {
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (body === undefined || body === null) return { body: undefined, headers };
  if (format === 'json') {
    return { body: typeof body === 'string' ? body : pyJson(body, undefined, false), headers: hasType ? headers : { ...headers, 'Content-Type': 'application/json' } };
  }
  if (format === 'form-urlencoded') {
    if (typeof body !== 'string' && (typeof body !== 'object' || body === null)) throw new ModuleError('E_URI_BODY', 'failed to parse body as form_urlencoded: cannot form-urlencode body, expect list or dict');
    return { body: formUrlencoded(body), headers: hasType ? headers : { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' } };
  }
  return { body: typeof body === 'string' ? body : pyJson(body, undefined, false), headers };
}

/** Each Set-Cookie's name=value, as Ansible's cookie jar gives `cookies` and `cookies_string`. */
function cookiesOf(setCookie: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of setCookie) {
    const m = /^\s*([^=;\s]+)=([^;]*)/.exec(c);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Whether the Content-Type is JSON (`json`, `javascript`, or a `+json` suffix), as Ansible's JSON_CANDIDATES. */
function isJsonType(contentType: string | undefined): boolean {
  const sub = (contentType ?? '').split(';')[0]!.trim().toLowerCase().split('/')[1] ?? '';
  const base = sub.includes('+') ? sub.slice(sub.indexOf('+') + 1) : sub;
  return base === 'json' || base === 'javascript';
}

/** `creates`/`removes`: one `test -e` on the host. */
async function skipReason(args: Args, ctx: ModuleContext): Promise<string | undefined> {
  const exists = async (p: string): Promise<boolean> => (await ctx.exec(['test', '-e', p])).rc === 0;
  if (args.creates !== undefined && (await exists(args.creates))) return `skipped, since '${args.creates}' exists`;
  if (args.removes !== undefined && !(await exists(args.removes))) return `skipped, since '${args.removes}' does not exist`;
  return undefined;
}

async function request(args: Args, ctx: ModuleContext): Promise<ModuleReturn> {
  const skipped = await skipReason(args, ctx);
  if (skipped !== undefined) return { changed: false, data: { stdout: skipped } };
  const encoded = encodeBody(args.body, args.body_format, args.headers);
  const base = urlRequest({ ...args, headers: encoded.headers });
  const method = args.method.toUpperCase();
  const destIsFile = args.dest !== undefined && (await ctx.exec(['test', '-f', args.dest])).rc === 0;
  const started = Date.now();
  const res = await fetchOnHost(ctx, {
    ...base,
    method,
    body: encoded.body,
    followRedirects: args.follow_redirects as FollowRedirects,
    decompress: args.decompress,
    returnBody: true,
    keepFile: args.dest !== undefined,
    ifModifiedSinceOf: destIsFile ? args.dest : undefined,
  });
  const out: Record<string, unknown> = { redirected: res.url !== args.url, url: res.url, status: res.status, elapsed: Math.floor((Date.now() - started) / 1000), changed: false };
  for (const [name, value] of Object.entries(res.headers)) out[name.replace(/-/g, '_')] = value;
  // Ansible's cookie jar is read only for a 2xx answer (urllib raises for the others).
  if (res.status >= 200 && res.status < 300) {
    const cookies = cookiesOf(res.setCookie);
    out['cookies'] = cookies;
    out['cookies_string'] = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
  }
  if (typeof out['location'] === 'string') out['location'] = new URL(out['location'], args.url).toString();
  const ok = args.status_code.includes(res.status);
  let changed = false;
  if (args.dest !== undefined && res.status !== -1) {
    const isDir = (await ctx.exec(['test', '-d', args.dest])).rc === 0;
    const dest = isDir ? `${args.dest.replace(/\/+$/, '')}/${dispositionFilename(res.headers) ?? urlFilename(res.url.replace(/\/+$/, ''))}` : args.dest;
    if (ok && res.status !== 304) {
      const installed = await installDownload(ctx, res.file, dest, false);
      if ('error' in installed) return { failed: true, msg: installed.error, data: out };
      changed = true;
      await settleAttributes(args, ctx, dest, false);
    } else await ctx.exec(['rm', '-f', '--', res.file]);
    out['path'] = dest;
  }
  out['changed'] = changed;
  const jsonBody = isJsonType(res.headers['content-type']);
  const text = res.body?.toString('utf8');
  if (jsonBody && text !== undefined) {
    try {
      out['json'] = JSON.parse(text) as unknown;
    } catch {
      // not JSON after all: Ansible leaves json out
    }
  }
  if (args.return_content) out['content'] = text ?? '';
  if (!ok) return { failed: true, msg: `Status code was ${res.status} and not [${args.status_code.join(', ')}]: ${res.msg}`, data: out };
  return { changed, msg: res.msg, data: out };
}

export const uriModule = actionModule(spec, {
  kind: 'action',
  name: 'uri',
  where: 'host',
  // Ansible's uri does not support check mode: the task is skipped.
  inCheckMode: 'skip',
  run: async (args, ctx) => withPathInfo(ctx, await request(args, ctx)),
});
