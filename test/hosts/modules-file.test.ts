// file, copy, template, lineinfile and stat against a real fleet host (h1), through the runner's own
// invokeModule (gather → plan → steps, --check, --diff) over a real ssh2 connection with sudo.
// Host state is checked with hostExec (nsenter), never through vncplay itself.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/connection/ssh.js';
import type { Connection } from '../../src/connection/types.js';
import { writeFileAtomic } from '../../src/connection/write-file.js';
import { copyModule } from '../../src/modules/copy.js';
import { sha1 } from '../../src/modules/file-common.js';
import { fileModule } from '../../src/modules/file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { statModule } from '../../src/modules/stat.js';
import { templateModule } from '../../src/modules/template.js';
import type { AnyModule, RenderOptions } from '../../src/modules/types.js';
import { renderDiffs } from '../../src/output/diff.js';
import { renderText } from '../../src/playbook/template.js';
import { invokeModule, type InvokeResult } from '../../src/runner/invoke-module.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, hostExec, hostExecOk } from '../fleet/fleet.js';

const H = 1;
const local = mkdtempSync(join(tmpdir(), 'vp-files-'));
const vars = { vnc_port: 5901, users: ['alice', 'bob'], geometry: '1920x1080' };

describe.skipIf(!fleetAvailable())('file modules on a fleet host', () => {
  let conn: Connection;
  const dir = `/tmp/vp-files-${process.pid}`;

  beforeAll(async () => {
    const h = fleetHosts()[H - 1]!;
    conn = await connect(fleetConnectionSpec(h, { become: true }));
    await hostExecOk(H, ['rm', '-rf', dir, '/tmp/pwned']);
    await hostExecOk(H, ['mkdir', '-p', dir]);
  });
  afterAll(async () => {
    await conn?.close();
    if (fleetAvailable()) await hostExec(H, ['sh', '-c', 'umount /mnt/vp-small 2>/dev/null; rm -rf "$1"', 'sh', dir]);
  });

  function run(mod: AnyModule, args: Record<string, unknown>, opts: { check?: boolean; diff?: boolean } = {}): Promise<InvokeResult> {
    return invokeModule(mod, args, {
      hostName: 'h1',
      conn,
      check: opts.check ?? false,
      diff: opts.diff ?? false,
      become: true,
      signal: new AbortController().signal,
      vars,
      // As the runner does today: extraVars not passed on (the template module defines them itself).
      render: (t: string, o?: RenderOptions) => renderText(t, vars, undefined, o),
      findFile: async (rel) => join(local, rel),
      log: () => {},
    });
  }

  /** sha1, mode, owner of a path on the host (or 'absent'), read without vncplay. */
  async function hostState(path: string): Promise<string> {
    const r = await hostExec(H, ['sh', '-c', '[ -e "$1" ] || [ -L "$1" ] || { echo absent; exit 0; }; stat -c "%F %a %U:%G" -- "$1"; [ -f "$1" ] && sha1sum < "$1" || :', 'sh', path]);
    return r.stdout;
  }

  it('copy: converges, then changes nothing; --check leaves the host as it was; --diff is a unified diff', async () => {
    const dest = `${dir}/vnc.conf`;
    const first = await run(copyModule, { dest, content: 'geometry=1280x800\nlocalhost\n', mode: '0640' });
    expect([first.failed, first.changed, first.msg]).toEqual([false, true, expect.stringMatching(/^create /)]);
    expect(await hostState(dest)).toBe(`regular file 640 root:root\n${sha1('geometry=1280x800\nlocalhost\n')}  -\n`);
    const second = await run(copyModule, { dest, content: 'geometry=1280x800\nlocalhost\n', mode: '0640' });
    expect([second.failed, second.changed]).toEqual([false, false]);

    const before = await hostState(dest);
    const check = await run(copyModule, { dest, content: 'geometry=1920x1080\nlocalhost\n', mode: 'u=rw,go=' }, { check: true, diff: true });
    expect([check.failed, check.changed]).toEqual([false, true]);
    expect(await hostState(dest)).toBe(before);
    expect(renderDiffs(check.diff)).toBe(
      [`--- before: ${dest}`, `+++ after: ${dest}`, '@@ -1,2 +1,2 @@', '-geometry=1280x800', '+geometry=1920x1080', ' localhost', '', ''].join('\n'),
    );

    const mode = await run(copyModule, { dest, content: 'geometry=1280x800\nlocalhost\n', mode: 'u=rw,go=' }, { diff: true });
    expect(mode.changed).toBe(true);
    expect(renderDiffs(mode.diff)).toBe(`--- before\n+++ after\n@@ -1,4 +1,4 @@\n {\n-    "mode": "0640",\n+    "mode": "0600",\n     "path": "${dest}"\n }\n\n`);
    expect((await hostState(dest)).split('\n')[0]).toBe('regular file 600 root:root');
  });

  it('copy: src from the controller, backup keeps the old file, owner is set', async () => {
    writeFileSync(join(local, 'xstartup'), '#!/bin/sh\nexec startxfce4\n');
    const dest = `${dir}/xstartup`;
    await hostExecOk(H, ['sh', '-c', 'printf old > "$1"', 'sh', dest]);
    const r = await run(copyModule, { src: 'xstartup', dest, backup: true, owner: 'vncplay', mode: '0755' });
    expect([r.failed, r.changed]).toEqual([false, true]);
    expect(r.data['backup_file']).toMatch(new RegExp(`^${dest}\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    expect(await hostExecOk(H, ['cat', String(r.data['backup_file'])])).toBe('old');
    expect((await hostState(dest)).split('\n')[0]).toMatch(/^regular file 755 vncplay:/);
    expect((await run(copyModule, { src: 'xstartup', dest, backup: true, owner: 'vncplay', mode: '0755' })).changed).toBe(false);
  });

  it('copy remote_src: copies a file that is on the host; idempotent', async () => {
    const src = `${dir}/remote-src.txt`;
    await hostExecOk(H, ['sh', '-c', 'printf "from the host\\n" > "$1"', 'sh', src]);
    const dest = `${dir}/remote-dest.txt`;
    const r = await run(copyModule, { src, dest, remote_src: true, mode: '0600' });
    expect([r.failed, r.changed]).toEqual([false, true]);
    expect(await hostExecOk(H, ['cat', dest])).toBe('from the host\n');
    expect((await run(copyModule, { src, dest, remote_src: true, mode: '0600' })).changed).toBe(false);
    await expect(run(copyModule, { src: `${dir}/none`, dest, remote_src: true })).rejects.toThrow(/not found on the host/);
  });

  it('copy with a folder as src: dir copies the folder, dir/ its content; idempotent; directory_mode', async () => {
    mkdirSync(join(local, 'vncdir', 'sub'), { recursive: true });
    writeFileSync(join(local, 'vncdir', 'a.conf'), 'a\n');
    writeFileSync(join(local, 'vncdir', 'sub', 'b.conf'), 'b\n');
    const r = await run(copyModule, { src: 'vncdir', dest: `${dir}/tree`, mode: '0640', directory_mode: '0750' });
    expect([r.failed, r.changed], r.msg).toEqual([false, true]);
    expect(await hostExecOk(H, ['sh', '-c', 'cd "$1" && find . -printf "%p %y %m\\n" | sort', 'sh', `${dir}/tree`])).toBe(
      ['. d 750', './vncdir d 750', './vncdir/a.conf f 640', './vncdir/sub d 750', './vncdir/sub/b.conf f 640', ''].join('\n'),
    );
    expect((await run(copyModule, { src: 'vncdir', dest: `${dir}/tree`, mode: '0640', directory_mode: '0750' })).changed).toBe(false);
    const flat = await run(copyModule, { src: 'vncdir/', dest: `${dir}/flat` });
    expect([flat.failed, flat.changed], flat.msg).toEqual([false, true]);
    expect(await hostExecOk(H, ['cat', `${dir}/flat/a.conf`, `${dir}/flat/sub/b.conf`])).toBe('a\nb\n');
  });

  it('copy validate: a failing validator (real sshd -t) leaves the old file and fails with its output', async () => {
    const dest = `${dir}/sshd_config`;
    await hostExecOk(H, ['cp', '/etc/ssh/sshd_config', dest]);
    const before = await hostState(dest);
    const bad = await run(copyModule, { dest, content: 'PermitRootLogin maybe-later\n', validate: '/usr/sbin/sshd -t -f %s' });
    expect(bad.failed).toBe(true);
    expect(bad.msg).toMatch(/failed to validate: rc:255/);
    expect(bad.msg).toMatch(/unsupported option "maybe-later"/);
    expect(await hostState(dest)).toBe(before);
    expect((await hostExecOk(H, ['ls', '-a', dir])).includes('vncplay-validate')).toBe(false);
    const good = await run(copyModule, { dest, content: 'PermitRootLogin no\n', validate: '/usr/sbin/sshd -t -f %s' });
    expect([good.failed, good.changed]).toEqual([false, true]);
    expect(await hostExecOk(H, ['cat', dest])).toBe('PermitRootLogin no\n');
  });

  it('template: renders with the play variables, trim_blocks on; idempotent', async () => {
    writeFileSync(join(local, 'vncserver.users.j2'), '# {{ ansible_managed }}\n{% for u in users %}\n:{{ loop.index }}={{ u }}\n{% endfor %}\n# {{ geometry }}\n');
    const dest = `${dir}/vncserver.users`;
    const first = await run(templateModule, { src: 'vncserver.users.j2', dest, mode: '0644' });
    expect([first.failed, first.msg ?? '', first.changed]).toEqual([false, expect.any(String), true]);
    expect(await hostExecOk(H, ['cat', dest])).toBe('# Ansible managed\n:1=alice\n:2=bob\n# 1920x1080\n');
    expect((await run(templateModule, { src: 'vncserver.users.j2', dest, mode: '0644' })).changed).toBe(false);
  });

  it('lineinfile: edits in place, second run is ok, --check does not touch the file', async () => {
    const path = `${dir}/sshd_extra`;
    await hostExecOk(H, ['sh', '-c', 'printf "Port 22\\n#PermitRootLogin yes\\nX11Forwarding yes\\n" > "$1"', 'sh', path]);
    const args = { path, regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no', backup: true };
    const before = await hostState(path);
    const check = await run(lineinfileModule, args, { check: true, diff: true });
    expect([check.changed, check.msg]).toEqual([true, 'line replaced']);
    expect(await hostState(path)).toBe(before);
    expect(renderDiffs(check.diff)).toContain(`--- before: ${path} (content)\n+++ after: ${path} (content)\n@@ -1,3 +1,3 @@\n Port 22\n-#PermitRootLogin yes\n+PermitRootLogin no\n`);
    const r = await run(lineinfileModule, args);
    expect([r.failed, r.changed]).toEqual([false, true]);
    expect(await hostExecOk(H, ['cat', path])).toBe('Port 22\nPermitRootLogin no\nX11Forwarding yes\n');
    expect(String(r.data['backup'])).toMatch(/~$/);
    expect((await run(lineinfileModule, args)).changed).toBe(false);
    const ins = await run(lineinfileModule, { path, line: 'AllowUsers vncplay', insertafter: '^Port' });
    expect(ins.changed).toBe(true);
    expect(await hostExecOk(H, ['cat', path])).toBe('Port 22\nAllowUsers vncplay\nPermitRootLogin no\nX11Forwarding yes\n');
    const gone = await run(lineinfileModule, { path, regexp: '^X11', state: 'absent' });
    expect([gone.changed, gone.msg]).toEqual([true, '1 line(s) removed']);
    await expect(run(lineinfileModule, { path: `${dir}/nope`, line: 'x' })).rejects.toThrow(/Destination .*nope does not exist !/);
  });

  it('file: directory, touch, link, absent — each idempotent (touch always changes)', async () => {
    const d = `${dir}/vnc/.vnc`;
    expect((await run(fileModule, { path: d, state: 'directory', mode: '0700', owner: 'vncplay' })).changed).toBe(true);
    expect(await hostState(d)).toMatch(/^directory 700 vncplay:/);
    expect((await run(fileModule, { path: d, state: 'directory', mode: '0700', owner: 'vncplay' })).changed).toBe(false);
    const f = `${d}/passwd`;
    expect((await run(fileModule, { path: f, state: 'touch', mode: 'u=rw,go=' })).changed).toBe(true);
    expect((await run(fileModule, { path: f, state: 'touch', mode: 'u=rw,go=' })).changed).toBe(true);
    expect((await run(fileModule, { path: f, mode: '0600' })).changed).toBe(false);
    const l = `${dir}/vnc/current`;
    expect((await run(fileModule, { path: l, state: 'link', src: '.vnc/passwd' })).changed).toBe(true);
    expect((await hostExecOk(H, ['readlink', l])).trim()).toBe('.vnc/passwd');
    expect((await run(fileModule, { path: l, state: 'link', src: '.vnc/passwd' })).changed).toBe(false);
    // mkdir -p made vnc/ too and gave it the same mode; loosen both so recurse has something to fix.
    expect((await hostExecOk(H, ['stat', '-c', '%a', `${dir}/vnc`])).trim()).toBe('700');
    await hostExecOk(H, ['chmod', '0755', `${dir}/vnc`, d]);
    expect((await run(fileModule, { path: `${dir}/vnc`, state: 'directory', recurse: true, mode: 'u=rwX,go=' })).changed).toBe(true);
    expect((await hostExecOk(H, ['stat', '-c', '%a', `${dir}/vnc`, d, f])).split('\n').slice(0, 3)).toEqual(['700', '700', '600']);
    expect((await run(fileModule, { path: `${dir}/vnc`, state: 'directory', recurse: true, mode: 'u=rwX,go=' })).changed).toBe(false);
    const deep = `${dir}/vnc/p1/p2`;
    expect((await run(fileModule, { path: deep, state: 'directory', mode: '0711' })).changed).toBe(true);
    expect((await hostExecOk(H, ['stat', '-c', '%a', `${dir}/vnc/p1`, deep])).split('\n').slice(0, 2)).toEqual(['711', '711']);
    // One new folder with only a mode (mkdir -m), a symbolic one and a setgid one too; the second run changes nothing.
    for (const [mode, want] of [['0750', '750'], ['u=rwx,g=rx,o=', '750'], ['2770', '2770']] as const) {
      const one = `${dir}/vnc/m-${want}-${mode.length}`;
      expect((await run(fileModule, { path: one, state: 'directory', mode })).changed).toBe(true);
      expect((await hostExecOk(H, ['stat', '-c', '%a', one])).trim()).toBe(want);
      expect((await run(fileModule, { path: one, state: 'directory', mode })).changed).toBe(false);
    }
    const abs = await run(fileModule, { path: `${dir}/vnc`, state: 'absent' }, { diff: true });
    expect(renderDiffs(abs.diff)).toContain('-    "state": "directory"\n+    "state": "absent"\n');
    expect(await hostState(`${dir}/vnc`)).toBe('absent\n');
    expect((await run(fileModule, { path: `${dir}/vnc`, state: 'absent' })).changed).toBe(false);
  });

  it('--check reports the change for every module and leaves the host exactly as it was', async () => {
    const base = `${dir}/check`;
    await hostExecOk(H, ['sh', '-c', 'mkdir -p "$1/d/sub" && printf "a=1\\n" > "$1/f" && chmod 0644 "$1/f" && ln -sfn f "$1/l"', 'sh', base]);
    writeFileSync(join(local, 'check.j2'), 'a={{ vnc_port }}\n');
    const snapshot = async (): Promise<string> =>
      hostExecOk(H, ['sh', '-c', 'cd "$1" && find . -printf "%p %y %m %u %g %s %T@ %l\\n" | sort && sha1sum f', 'sh', base]);
    const before = await snapshot();
    const cases: Array<[AnyModule, Record<string, unknown>]> = [
      [fileModule, { path: `${base}/d`, state: 'absent' }],
      [fileModule, { path: `${base}/d`, state: 'directory', mode: '0700', recurse: true }],
      [fileModule, { path: `${base}/new`, state: 'directory' }],
      [fileModule, { path: `${base}/f`, state: 'touch' }],
      [fileModule, { path: `${base}/l`, state: 'link', src: 'd' }],
      [fileModule, { path: `${base}/f`, owner: 'vncplay' }],
      [copyModule, { dest: `${base}/f`, content: 'a=2\n', backup: true }],
      [copyModule, { dest: `${base}/g`, content: 'new\n' }],
      [templateModule, { src: 'check.j2', dest: `${base}/f` }],
      [lineinfileModule, { path: `${base}/f`, line: 'b=2', backup: true }],
      [lineinfileModule, { path: `${base}/created`, line: 'x', create: true }],
    ];
    for (const [mod, args] of cases) {
      const r = await run(mod, args, { check: true, diff: true });
      expect([r.failed, r.changed], `${mod.name} ${JSON.stringify(args)}: ${r.msg ?? ''}`).toEqual([false, true]);
    }
    expect(await snapshot()).toBe(before);
  });

  it('stat: exists, mode, owner, checksum; a missing path is exists=false; never changed', async () => {
    await hostExecOk(H, ['sh', '-c', 'printf hi > "$1"; chmod 0604 "$1"', 'sh', `${dir}/s`]);
    const r = await run(statModule, { path: `${dir}/s` });
    expect(r.changed).toBe(false);
    expect(r.data['stat']).toMatchObject({ exists: true, isreg: true, mode: '0604', pw_name: 'root', size: 2, checksum: 'c22b5f9178342609428d6f51b2c5af4c0bde6a42' });
    expect((await run(statModule, { path: `${dir}/none` })).data['stat']).toEqual({ exists: false });
  });

  it('bad input is refused before anything runs', async () => {
    const cases: Array<[AnyModule, Record<string, unknown>, RegExp]> = [
      [fileModule, { path: `${dir}/m`, state: 'directory', mode: 644 }, /^file: `mode` must be a file mode.*got the number 644$/],
      [fileModule, { path: `${dir}/m`, state: 'dir' }, /^file: `state` must be one of `file`, .*got the string "dir"$/],
      [fileModule, { path: `${dir}/m`, colour: 'blue' }, /^file: unknown parameter `colour` for module `file`$/],
      [copyModule, { dest: `${dir}/m`, content: 'a', src: 'b' }, /^copy: `content` cannot be given with `src`: .*mutually exclusive$/],
      [lineinfileModule, { path: `${dir}/m`, line: 'a', insertafter: 'x', insertbefore: 'y' }, /^lineinfile: `insertafter` cannot be given with `insertbefore`/],
    ];
    for (const [mod, args, re] of cases) {
      const r = await run(mod, args);
      expect([r.failed, r.msg]).toEqual([true, expect.stringMatching(re)]);
    }
    expect(await hostState(`${dir}/m`)).toBe('absent\n');
  });

  it('paths with shell metacharacters are literal names: the canary never appears', async () => {
    const names = [`${dir}/a; touch /tmp/pwned`, `${dir}/$(touch /tmp/pwned)`, `${dir}/\`touch /tmp/pwned\``, `${dir}/q'u"o`, `${dir}/new\nline`];
    for (const n of names) {
      // Some names hold a '/', so their (literal, odd) parent folder is made first.
      await hostExecOk(H, ['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")"', 'sh', n]);
      const c = await run(copyModule, { dest: n, content: 'x\n' });
      expect([c.failed, c.changed], `${JSON.stringify(n)}: ${c.msg ?? ''}`).toEqual([false, true]);
      const l = await run(lineinfileModule, { path: n, line: 'y' });
      expect(l.changed).toBe(true);
      expect((await run(statModule, { path: n })).data['stat']).toMatchObject({ exists: true, size: 4 });
      expect((await run(fileModule, { path: n, state: 'absent' })).changed).toBe(true);
    }
    expect(await hostState('/tmp/pwned')).toBe('absent\n');
  });

  it('an interrupted write (aborted mid-stream) leaves the old file whole', async () => {
    const dest = `${dir}/big.bin`;
    await hostExecOk(H, ['sh', '-c', 'printf old-content > "$1"', 'sh', dest]);
    const before = await hostState(dest);
    const partial = (): Promise<number> =>
      hostExec(H, ['sh', '-c', 'stat -c %s "$1"/.big.bin.vncplay-* 2>/dev/null | head -1', 'sh', dir]).then((r) => Number(r.stdout.trim() || 0));
    // Abort once the temp file on the host holds part of the content: proof that the stream was cut mid-way.
    const ac = new AbortController();
    const p = writeFileAtomic(conn, dest, Buffer.alloc(256 * 1024 * 1024, 0x61), { become: true, signal: ac.signal });
    let seen = 0;
    let settled = false;
    void p.then(() => (settled = true), () => (settled = true));
    while (!settled && seen === 0) seen = await partial();
    ac.abort();
    await expect(p).rejects.toThrow();
    expect(seen).toBeGreaterThan(0);
    expect(await hostState(dest)).toBe(before);
    // The temp file is removed by the write script's trap; give sshd a moment to deliver the hangup.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await hostExecOk(H, ['ls', '-a', dir])).split('\n').filter((f) => f.includes('big.bin.vncplay'))).toEqual([]);
  });

  it('a full disk (small tmpfs on the host) fails the copy and leaves the old file whole', async () => {
    await hostExecOk(H, ['sh', '-c', 'mkdir -p /mnt/vp-small && (mountpoint -q /mnt/vp-small || mount -t tmpfs -o size=256k tmpfs /mnt/vp-small)']);
    try {
      const dest = '/mnt/vp-small/vnc.conf';
      await hostExecOk(H, ['sh', '-c', 'printf "old\\n" > "$1"', 'sh', dest]);
      const before = await hostState(dest);
      await expect(run(copyModule, { dest, content: 'z'.repeat(1024 * 1024) })).rejects.toThrow(/E_WRITE_FILE|failed/);
      expect(await hostState(dest)).toBe(before);
      expect((await hostExecOk(H, ['ls', '-a', '/mnt/vp-small'])).trim().split('\n').sort()).toEqual(['.', '..', 'vnc.conf']);
    } finally {
      await hostExec(H, ['umount', '/mnt/vp-small']);
    }
  });
});
