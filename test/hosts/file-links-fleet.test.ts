// Issue 13 H1 on a real fleet host: a local user (vpmallory) plants a symlink in a folder they may write to, next
// to the name a root task writes; the task must replace the link, never write the file it points to. Through the
// line session (a small text file is written by the session's own shell) and through a channel (content with a NUL
// byte always takes one), over ssh2 with sudo, by the modules the runner uses (invokeModule).
// Host state is read with hostExec (nsenter), never through vncplay itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SshConnection } from '../../src/connection/ssh.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { templateModule } from '../../src/modules/template.js';
import type { AnyModule, RenderOptions } from '../../src/modules/types.js';
import { renderText } from '../../src/playbook/template.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const H = 1;
const local = mkdtempSync(join(tmpdir(), 'vp-links-'));
writeFileSync(join(local, 'app.conf.j2'), 'listen={{ port }}\n');

describe.skipIf(!fleetAvailable())('a root write next to a link planted by another user (fleet)', () => {
  let conn: SshConnection;
  const dir = `/srv/vp-links-${process.pid}`;
  const secret = `${dir}/root-only`;
  const shared = `${dir}/shared`;

  beforeAll(async () => {
    conn = await connect(fleetConnectionSpec(fleetHosts()[H - 1]!, { become: true }), { lineSession: true });
    await hostExecOk(H, ['sh', '-c', 'id -u vpmallory >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin vpmallory']);
    await hostExecOk(H, ['sh', '-c', 'rm -rf "$1" && mkdir -p "$1/shared" && chown vpmallory "$1/shared" && printf "root secret\\n" > "$2" && chmod 600 "$2"', 'sh', dir, secret]);
  });
  afterAll(async () => {
    await conn?.close();
    if (fleetAvailable()) await hostExec(H, ['rm', '-rf', dir]);
  });

  function run(mod: AnyModule, args: Record<string, unknown>): Promise<InvokeResult> {
    const vars = { port: 5901 };
    return invokeModule(mod, args, {
      hostName: 'h1', conn, check: false, diff: false, become: true, signal: new AbortController().signal, vars,
      render: (t: string, o?: RenderOptions) => renderText(t, vars, undefined, o),
      findFile: async (rel) => join(local, rel),
      log: () => {},
    });
  }

  /** vpmallory plants `name` -> root-only in the shared folder (the link is theirs, as in the review's finding). */
  async function plant(name: string): Promise<string> {
    const link = `${shared}/${name}`;
    await hostExecOk(H, ['runuser', '-u', 'vpmallory', '--', 'ln', '-sfn', secret, link]);
    expect(await hostExecOk(H, ['stat', '-c', '%F %U', link])).toBe('symbolic link vpmallory\n');
    return link;
  }

  async function secretUntouched(): Promise<void> {
    expect(await hostExecOk(H, ['stat', '-c', '%a %U %s', secret])).toBe('600 root 12\n');
    expect(await hostExecOk(H, ['cat', secret])).toBe('root secret\n');
  }

  const cases: Array<[string, AnyModule, Record<string, unknown>, 'line' | 'channel', string]> = [
    ['copy, text content', copyModule, { content: 'listen=5901\n' }, 'line', 'listen=5901\n'],
    ['copy, content with a NUL byte', copyModule, { content: 'bin\0ary\n' }, 'channel', 'bin\0ary\n'],
    ['template', templateModule, { src: 'app.conf.j2' }, 'line', 'listen=5901\n'],
    ['copy validate', copyModule, { content: 'listen=5901\n', validate: 'grep -q listen %s' }, 'line', 'listen=5901\n'],
  ];
  it.each(cases)('%s: the link becomes a root-owned regular file; the file it pointed to is untouched', async (_what, mod, args, way, content) => {
    const link = await plant(`app-${cases.findIndex((c) => c[0] === _what)}.conf`);
    const before = { line: conn.stats.lineExecs, channels: conn.stats.channels };
    const r = await run(mod, { ...args, dest: link, mode: '0640' });
    expect([r.failed, r.changed], r.msg).toEqual([false, true]);
    await secretUntouched();
    expect(await hostExecOk(H, ['stat', '-c', '%F %a %U', link])).toBe('regular file 640 root\n');
    expect((await hostExec(H, ['cat', link])).stdout).toBe(content);
    // The write went the way this row is about.
    if (way === 'line') expect(conn.stats.lineExecs).toBeGreaterThan(before.line);
    else expect(conn.stats.channels).toBeGreaterThan(before.channels);
    expect((await hostExecOk(H, ['ls', '-A', shared])).split('\n').filter((f) => f.includes('vncplay'))).toEqual([]);
  });

  // Ansible's lineinfile edits a link's target and file's follow defaults to true: another user's link is refused.
  const refused: Array<[string, AnyModule, (link: string) => Record<string, unknown>]> = [
    ['lineinfile', lineinfileModule, (link) => ({ path: link, line: 'ssh-ed25519 AAAA mallory' })],
    ['file owner=', fileModule, (link) => ({ path: link, owner: 'vpmallory' })],
    ['file state=file mode=', fileModule, (link) => ({ path: link, state: 'file', mode: '0666' })],
  ];
  it.each(refused)('%s through vpmallory\'s link fails with E_FILE_FOREIGN_LINK and changes nothing', async (what, mod, args) => {
    const link = await plant(`refused-${refused.findIndex((c) => c[0] === what)}`);
    await expect(run(mod, args(link))).rejects.toMatchObject({ code: 'E_FILE_FOREIGN_LINK' });
    await secretUntouched();
    expect(await hostExecOk(H, ['stat', '-c', '%F %U', link])).toBe('symbolic link vpmallory\n');
  });

  it('follow: true writes the target of a link the task means (a root-owned link), and the link stays', async () => {
    const target = `${dir}/real.conf`;
    const link = `${dir}/current.conf`;
    await hostExecOk(H, ['sh', '-c', 'printf "old\\n" > "$1" && chmod 640 "$1" && ln -s real.conf "$2"', 'sh', target, link]);
    const r = await run(copyModule, { dest: link, content: 'new\n', follow: true });
    expect([r.failed, r.changed], r.msg).toEqual([false, true]);
    expect(await hostExecOk(H, ['readlink', link])).toBe('real.conf\n');
    expect(await hostExecOk(H, ['cat', target])).toBe('new\n');
    expect(await hostExecOk(H, ['stat', '-c', '%a', target])).toBe('640\n');
    expect((await run(copyModule, { dest: link, content: 'new\n', follow: true })).changed).toBe(false);
  });
});
