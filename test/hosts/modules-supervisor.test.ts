// supervisorctl on a real fleet host: Debian's supervisor managing a real Xtigervnc (:2, port 5902).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection/ssh.js';
import type { Connection } from '../../src/connection/types.js';
import { supervisorctl } from '../../src/modules/supervisor.js';
import type { AnyModule } from '../../src/modules/types.js';
import { waitFor } from '../../src/modules/wait-for.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const HOST = 2;
const PROGRAM = String.raw`[program:vncplay-vnc2]
command=/usr/bin/Xtigervnc :2 -rfbport 5902 -SecurityTypes None -localhost no -geometry 800x600
user=vncplay
autostart=false
autorestart=false
startsecs=1
stopsignal=TERM
`;
const HTTP = '[inet_http_server]\nport=127.0.0.1:9001\nusername=vncadmin\npassword=s3cret-pw\n';
const SETUP = String.raw`
set -e
printf '${HTTP}' > /etc/supervisor/conf.d/vncplay-http.conf
systemctl restart supervisor
# status exits 4 while supervisord's socket is not up yet
for i in $(seq 50); do rc=0; supervisorctl status >/dev/null 2>&1 || rc=$?; [ $rc -ne 4 ] && break; sleep 0.2; done
supervisorctl stop vncplay-vnc2 >/dev/null 2>&1 || true
supervisorctl remove vncplay-vnc2 >/dev/null 2>&1 || true
cat > /etc/supervisor/conf.d/vncplay-vnc2.conf
rm -f /tmp/pwned
`;

describe.skipIf(!fleetAvailable())('supervisorctl on h2 (Debian supervisor, real Xtigervnc)', () => {
  let conn: Connection;
  const host = fleetAvailable() ? fleetHosts()[HOST - 1]! : { address: '', name: 'h2' };
  const run = (mod: AnyModule, args: Record<string, unknown>, check = false): Promise<InvokeResult> =>
    invokeModule(mod, args, {
      hostName: host.name, conn, check, diff: true, become: true, signal: new AbortController().signal,
      vars: {}, render: (t) => t, findFile: (rel) => Promise.resolve(rel), log: () => undefined,
    });
  const status = async (): Promise<string> => (await hostExec(HOST, ['supervisorctl', 'status', 'vncplay-vnc2'])).stdout;

  beforeAll(async () => {
    await hostExecOk(HOST, ['sh', '-c', SETUP], { stdin: PROGRAM });
    conn = await connect({
      hostName: host.name, connection: 'ssh', address: host.address, port: 22, user: 'vncplay', privateKeyFile: fleetKey(),
      become: true, becomeUser: 'root', hostKeyChecking: 'strict', knownHostsFiles: [fleetKnownHosts()], connectTimeoutMs: 10_000,
    });
  });
  afterAll(async () => {
    await hostExec(HOST, ['sh', '-c', 'supervisorctl stop vncplay-vnc2; supervisorctl remove vncplay-vnc2; rm -f /etc/supervisor/conf.d/vncplay-vnc2.conf /etc/supervisor/conf.d/vncplay-http.conf; systemctl stop supervisor']);
    await conn?.close();
  });

  it('present: --check changes nothing, then reread+add once, then ok', async () => {
    const check = await run(supervisorctl, { name: 'vncplay-vnc2', state: 'present' }, true);
    expect(check.changed).toBe(true);
    expect(await status()).toMatch(/no such process/i);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'present' })).changed).toBe(true);
    expect(await status()).toMatch(/^vncplay-vnc2\s+STOPPED/m);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'present' })).changed).toBe(false);
  });

  it('started: --check leaves it stopped; first run starts, second is ok; Xvnc answers with RFB', async () => {
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started' }, true)).changed).toBe(true);
    expect(await status()).toMatch(/STOPPED/);
    const first = await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started' });
    expect([first.changed, first.failed]).toEqual([true, false]);
    expect(await status()).toMatch(/RUNNING/);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started' })).changed).toBe(false);
    const w = await run(waitFor, { port: 5902, search_regex: '^RFB 003\\.00[38]', timeout: 20 });
    expect(w.failed).toBe(false);
  });

  it('restarted always changes and gives a new pid', async () => {
    const pid = (s: string): string | undefined => /pid (\d+)/.exec(s)?.[1];
    const before = pid(await status());
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'restarted' })).changed).toBe(true);
    const after = pid(await status());
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('stopped: changes once, then ok', async () => {
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'stopped' })).changed).toBe(true);
    expect(await status()).toMatch(/STOPPED/);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'stopped' })).changed).toBe(false);
  });

  it('server_url + username/password reach supervisord over HTTP; a wrong password fails without showing it', async () => {
    const http = { server_url: 'http://127.0.0.1:9001', username: 'vncadmin', password: 's3cret-pw' };
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started', ...http })).changed).toBe(true);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started', ...http })).changed).toBe(false);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'stopped', ...http })).changed).toBe(true);
    const err = await run(supervisorctl, { name: 'vncplay-vnc2', state: 'started', ...http, password: 'wrong-pw' }).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'E_SUPERVISOR_UNREACHABLE' });
    expect(String((err as Error).message)).not.toContain('wrong-pw');
    expect(supervisorctl.secretArgs).toContain('password');
  });

  it('unknown programs and metacharacter names fail cleanly; nothing runs', async () => {
    for (const name of ['nope', '$(touch${IFS}/tmp/pwned)', '`touch${IFS}/tmp/pwned`', "a'b"]) {
      await expect(run(supervisorctl, { name, state: 'started' })).rejects.toMatchObject({ code: 'E_SUPERVISOR_NO_SUCH_PROCESS' });
      expect((await run(supervisorctl, { name, state: 'present' })).failed).toBe(true);
    }
    expect((await hostExec(HOST, ['test', '-e', '/tmp/pwned'])).code).not.toBe(0);
  });

  it('absent: removes once, then ok', async () => {
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'absent' })).changed).toBe(true);
    expect(await status()).toMatch(/no such process/i);
    expect((await run(supervisorctl, { name: 'vncplay-vnc2', state: 'absent' })).changed).toBe(false);
  });
});
