// SshConnection against real fleet hosts (OpenSSH sshd, real sudo): argv quoting, stdin, become with and without a
// password, parallel channels on one TCP connection, refused channels (MaxSessions), host keys, keepalive on a
// frozen peer, and atomic file writes that survive interruption and a full disk.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHostsStore, parseKnownHosts } from '../../src/connection/known-hosts.js';
import { connect, type SshConnection } from '../../src/connection/ssh.js';
import { readFileRemote, writeFileAtomic } from '../../src/connection/write-file.js';
import { fleetAvailable, fleetConnectionSpec, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk, type FleetHost } from '../fleet/fleet.js';

const dir = mkdtempSync(join(tmpdir(), 'vp-conn-'));

/** TCP connections this process holds to addr:port, from /proc (our socket inodes ∩ /proc/net/tcp). */
function tcpConnectionsTo(addr: string, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const want = `${addr.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).reverse().join('').toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === want && f[3] === '01' && inodes.has(f[9] ?? '')).length;
}

describe.skipIf(!fleetAvailable())('SshConnection on fleet hosts', () => {
  let h: FleetHost;
  let conn: SshConnection;

  beforeAll(async () => {
    h = fleetHosts()[1] ?? fleetHosts()[0]!;
    conn = await connect(fleetConnectionSpec(h));
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('passes nasty argv through the remote login shell unchanged', async () => {
    const nasty = ['', ' ', "'", '"', '\\', '$HOME', '$(touch /tmp/vp-pwned)', '`id`', 'a;b|c&d', '\n', 'x\ny', '*', '~', '-n', 'é日🎉', '\t'];
    const r = await conn.exec(['printf', '%s\\0', ...nasty]);
    expect(r.rc).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
    expect((await conn.exec(['test', '-e', '/tmp/vp-pwned'])).rc).toBe(1);
  });

  it('streams stdin (1 MiB) and returns exit codes and stderr', async () => {
    const big = randomBytes(768 * 1024).toString('base64');
    const r = await conn.exec(['cat'], { stdin: big });
    expect(r.rc).toBe(0);
    expect(r.stdout).toBe(big);
    const bin = new Uint8Array(randomBytes(4096));
    const sum = await conn.exec(['sha256sum'], { stdin: bin });
    expect(sum.stdout.split(' ')[0]).toBe((await import('node:crypto')).createHash('sha256').update(bin).digest('hex'));
    const f = await conn.exec(['sh', '-c', 'echo oops >&2; exit 7']);
    expect(f).toEqual({ rc: 7, stdout: '', stderr: 'oops\n' });
  });

  it('reports a signal and enforces timeoutMs', async () => {
    const killed = await conn.exec(['sh', '-c', 'kill -TERM $$']);
    expect(killed.rc).toBe(-1);
    expect(killed.signal).toBe('TERM');
    const t0 = Date.now();
    const slow = await conn.exec(['sleep', '30'], { timeoutMs: 500 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(slow.rc).toBe(-1);
    expect(slow.stderr).toContain('timed out after 500 ms');
  });

  it('an AbortSignal stops a running exec', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    await expect(conn.exec(['sleep', '30'], { signal: ac.signal })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(conn.openChannels).toBe(0);
  });

  it('becomes root and other users through sudo -n', async () => {
    expect((await conn.exec(['id', '-un'], { become: true })).stdout).toBe('root\n');
    expect((await conn.exec(['id', '-un'], { become: true, becomeUser: 'nobody' })).stdout).toBe('nobody\n');
    expect((await conn.exec(['cat'], { become: true, stdin: 'through sudo\n' })).stdout).toBe('through sudo\n');
    expect((await conn.exec(['id', '-un'])).stdout).toBe('vncplay\n');
  });

  it('runs 100 sequential and 100 parallel execs over ONE TCP connection, channels back to 0', async () => {
    let t = performance.now();
    for (let i = 0; i < 100; i++) expect((await conn.exec(['true'])).rc).toBe(0);
    const sequential = performance.now() - t;
    t = performance.now();
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => conn.exec(['echo', String(i)])));
    const parallel = performance.now() - t;
    expect(all.map((r) => r.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `${i}\n`));
    expect(conn.openChannels).toBe(0);
    expect(tcpConnectionsTo(h.address, 22)).toBe(1);
    console.log(`[connection] ${h.name}: 100 sequential \`true\` ${sequential.toFixed(0)} ms, 100 parallel ${parallel.toFixed(0)} ms`);
  });

  describe('sudo that asks for a password', () => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    beforeAll(async () => {
      // A second login user whose sudo needs a password; key login like the fleet user.
      await hostExecOk(h.name, [
        'sh',
        '-c',
        'id vpsudo >/dev/null 2>&1 || useradd -m -s /bin/bash vpsudo; ' +
          'install -d -m 700 -o vpsudo -g vpsudo /home/vpsudo/.ssh; ' +
          'install -m 600 -o vpsudo -g vpsudo /home/vncplay/.ssh/authorized_keys /home/vpsudo/.ssh/authorized_keys; ' +
          'echo "vpsudo ALL=(ALL) ALL" > /etc/sudoers.d/vpsudo; chmod 440 /etc/sudoers.d/vpsudo',
      ]);
      await hostExecOk(h.name, ['chpasswd'], { stdin: `vpsudo:${password}\n` });
    });

    it('without a password: a clear E_BECOME_PASSWORD error', async () => {
      const c = await connect(fleetConnectionSpec(h, { user: 'vpsudo' }));
      try {
        const err = await c.exec(['id', '-un'], { become: true }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'E_BECOME_PASSWORD' });
        expect((err as Error).message).toBe(`sudo on ${h.name} asks for a password to become root`);
        expect((err as { hint: string }).hint).toContain('--ask-become-pass');
      } finally {
        await c.close();
      }
    });

    it('with the password: works, stdin reaches the command, the password appears nowhere', async () => {
      const c = await connect(fleetConnectionSpec(h, { user: 'vpsudo', becomePassword: password }));
      try {
        const r = await c.exec(['sh', '-c', 'id -un; cat'], { become: true, stdin: 'payload\n' });
        expect(r).toEqual({ rc: 0, stdout: 'root\npayload\n', stderr: '' });
        // Twice: the second run may hit sudo's credential cache (no prompt); the handshake copes either way.
        const r2 = await c.exec(['cat'], { become: true, stdin: 'again\n' });
        expect(r2.stdout).toBe('again\n');
        expect(JSON.stringify([r, r2])).not.toContain(password);
        const ps = await hostExecOk(h.name, ['ps', '-eo', 'args']);
        expect(ps).not.toContain(password);
      } finally {
        await c.close();
      }
    });

    it('shell sessions: sudo with a password once per session; a wrong one still gives E_BECOME_PASSWORD', async () => {
      const c = await connect(fleetConnectionSpec(h, { user: 'vpsudo', becomePassword: password }), { shellSession: true });
      try {
        for (let i = 0; i < 3; i++) {
          expect(await c.exec(['sh', '-c', 'id -un; cat'], { become: true, stdin: `n${i}\n` })).toEqual({ rc: 0, stdout: `root\nn${i}\n`, stderr: '' });
        }
        expect(c.stats.sessionExecs).toBe(3);
      } finally {
        await c.close();
      }
      const bad = await connect(fleetConnectionSpec(h, { user: 'vpsudo', becomePassword: 'wrong-one' }), { shellSession: true });
      try {
        await expect(bad.exec(['id'], { become: true })).rejects.toMatchObject({ code: 'E_BECOME_PASSWORD' });
      } finally {
        await bad.close();
      }
    });

    it('with a wrong password: E_BECOME_PASSWORD, and the wrong password is not echoed', async () => {
      const c = await connect(fleetConnectionSpec(h, { user: 'vpsudo', becomePassword: 'not-the-password' }));
      try {
        const t0 = Date.now();
        const err = await c.exec(['id', '-un'], { become: true }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'E_BECOME_PASSWORD' });
        expect((err as Error).message).toContain('rejected the become password');
        expect((err as Error).message).not.toContain('not-the-password');
        expect(Date.now() - t0).toBeLessThan(15_000);
      } finally {
        await c.close();
      }
    });
  });

  describe('writeFileAtomic / readFileRemote', () => {
    const path = `/etc/vp-conn-test-${randomBytes(4).toString('hex')}.conf`;
    afterAll(async () => {
      await hostExec(h.name, ['rm', '-f', path]);
    });

    it('writes as root with owner and mode, and reads back content, sha1 and stat in one exec', async () => {
      const content = `line 1\n'quotes' "and" $(subst) \`ticks\`\n${'x'.repeat(10000)}\n`;
      await writeFileAtomic(conn, path, content, { become: true, mode: '0640', owner: 'vncplay', group: 'nogroup' });
      const st = await hostExecOk(h.name, ['stat', '-c', '%a %U %G %s', path]);
      expect(st.trim()).toBe(`640 vncplay nogroup ${Buffer.byteLength(content)}`);
      const f = await readFileRemote(conn, path, { become: true });
      expect(f).toMatchObject({ exists: true, type: 'file', mode: '0640', owner: 'vncplay', group: 'nogroup' });
      expect(f.content?.toString('utf8')).toBe(content);
      expect(f.sha1).toBe((await import('node:crypto')).createHash('sha1').update(content).digest('hex'));
      // Rewriting without mode/owner keeps the existing ones (like Ansible's copy).
      await writeFileAtomic(conn, path, 'v2\n', { become: true });
      expect((await hostExecOk(h.name, ['stat', '-c', '%a %U %G', path])).trim()).toBe('640 vncplay nogroup');
      expect(await readFileRemote(conn, '/nonexistent/x')).toEqual({ exists: false });
    });

    it('a new file without mode gets 0666 & ~umask, not mktemp\'s 0600', async () => {
      const p = `/tmp/vp-conn-newmode-${randomBytes(3).toString('hex')}`;
      await writeFileAtomic(conn, p, 'x');
      expect((await hostExecOk(h.name, ['stat', '-c', '%a', p])).trim()).toBe('644');
      await hostExec(h.name, ['rm', '-f', p]);
    });

    it('an interrupted write leaves the old file whole and no temp file behind', async () => {
      await writeFileAtomic(conn, path, 'OLD CONTENT\n', { become: true });
      const ac = new AbortController();
      const huge = new Uint8Array(200 * 1024 * 1024);
      setTimeout(() => ac.abort(), 300);
      await expect(writeFileAtomic(conn, path, huge, { become: true, signal: ac.signal })).rejects.toThrow();
      // Give the remote script a moment to see EOF, fail its size check and clean up.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await hostExecOk(h.name, ['cat', path])).toBe('OLD CONTENT\n');
      expect(await hostExecOk(h.name, ['sh', '-c', 'ls -a /etc | grep -c vncplay- || true'])).toBe('0\n');
    });

    it('a full disk fails the write with E_WRITE_FILE and keeps the old file', async () => {
      const mnt = '/mnt/vp-conn-small';
      await hostExecOk(h.name, ['sh', '-c', `mkdir -p ${mnt} && (mountpoint -q ${mnt} || mount -t tmpfs -o size=64k tmpfs ${mnt})`]);
      try {
        await writeFileAtomic(conn, `${mnt}/f`, 'small old\n', { become: true });
        const err = await writeFileAtomic(conn, `${mnt}/f`, 'y'.repeat(256 * 1024), { become: true }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'E_WRITE_FILE' });
        expect(await hostExecOk(h.name, ['cat', `${mnt}/f`])).toBe('small old\n');
        expect(await hostExecOk(h.name, ['ls', '-A', mnt])).toBe('f\n');
      } finally {
        await hostExec(h.name, ['sh', '-c', `umount ${mnt}; rmdir ${mnt}`]);
      }
    });

    it('reading a root-only file without become fails clearly', async () => {
      const err = await readFileRemote(conn, '/etc/shadow').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_READ_FILE' });
      expect((await readFileRemote(conn, '/etc/shadow', { become: true })).exists).toBe(true);
    });
  });
});

describe.skipIf(!fleetAvailable())('shell sessions (opt-in): one long-lived sudo sh per become user', () => {
  let h: FleetHost;
  let conn: SshConnection;
  beforeAll(async () => {
    h = fleetHosts()[1] ?? fleetHosts()[0]!;
    conn = await connect(fleetConnectionSpec(h), { shellSession: true });
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('runs argv, stdin, exit codes and become users exactly like channels do', async () => {
    const b = { become: true } as const;
    const nasty = ['', ' ', "'", '"', '\\', '$HOME', '$(touch /tmp/vp-pwned2)', '`id`', 'a;b|c&d', '\n', 'é日🎉'];
    const r = await conn.exec(['printf', '%s\\0', ...nasty], b);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
    const bin = new Uint8Array(randomBytes(100_000));
    const sum = await conn.exec(['sha256sum'], { ...b, stdin: bin });
    expect(sum.stdout.split(' ')[0]).toBe((await import('node:crypto')).createHash('sha256').update(bin).digest('hex'));
    expect(await conn.exec(['sh', '-c', 'echo out; echo err >&2; exit 7'], b)).toEqual({ rc: 7, stdout: 'out\n', stderr: 'err\n' });
    expect((await conn.exec(['id', '-un'], b)).stdout).toBe('root\n');
    expect((await conn.exec(['id', '-un'], { become: true, becomeUser: 'nobody' })).stdout).toBe('nobody\n');
    expect((await conn.exec(['vp-no-such-command'], b)).rc).toBe(127);
    expect((await conn.exec(['id', '-un'])).stdout).toBe('vncplay\n'); // without become: a plain channel
    expect(conn.stats.sessionExecs).toBe(6);
  });

  it('keeps commands apart: exit, cd and variables do not leak', async () => {
    const b = { become: true } as const;
    const start = (await conn.exec(['pwd'], b)).stdout;
    await conn.exec(['sh', '-c', 'cd /; exit 0'], b);
    // A command that exits ends only its subshell, not the session (argv[0] is always a program: `exit` is not found)
    const before = conn.stats.sessionExecs;
    expect((await conn.exec(['sh', '-c', 'exit 3'], b)).rc).toBe(3);
    expect((await conn.exec(['pwd'], b)).stdout).toBe(start);
    expect(conn.stats.sessionExecs).toBe(before + 2);
  });

  it('parallel execs fall back to channels while the session is busy', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => conn.exec(['echo', String(i)], { become: true })));
    expect(all.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it('an abort stops the session; the next exec gets a fresh one', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(conn.exec(['sleep', '30'], { become: true, signal: ac.signal })).rejects.toThrow();
    const before = conn.stats.sessionExecs;
    expect((await conn.exec(['echo', 'again'], { become: true })).stdout).toBe('again\n');
    expect(conn.stats.sessionExecs).toBe(before + 1);
  });

  it('is faster than a channel + sudo per command', async () => {
    const plain = await connect(fleetConnectionSpec(h));
    try {
      const time = async (c: SshConnection, become: boolean): Promise<number> => {
        const t = performance.now();
        for (let i = 0; i < 30; i++) await c.exec(['true'], { become });
        return (performance.now() - t) / 30;
      };
      await time(conn, true); // warm both
      const chUser = await time(plain, false);
      const chRoot = await time(plain, true);
      const seRoot = await time(conn, true);
      console.log(
        `[connection] per exec on ${h.name}: channel ${chUser.toFixed(1)} ms; with become: channel ${chRoot.toFixed(1)} ms, ` +
          `shell session ${seRoot.toFixed(1)} ms`,
      );
      expect(seRoot).toBeLessThan(chRoot);
    } finally {
      await plain.close();
    }
  });
});

describe.skipIf(!fleetAvailable())('host keys on fleet hosts', () => {
  it('strict: unknown host key refused with E_HOSTKEY_UNKNOWN', async () => {
    const h = fleetHosts()[0]!;
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const err = await connect(fleetConnectionSpec(h, { knownHostsFiles: [empty] }), { knownHosts: new KnownHostsStore() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_HOSTKEY_UNKNOWN' });
    expect((err as Error).message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
  });

  it('accept-new: a changed key (another host\'s keys under this address) is refused', async () => {
    const [a, b] = fleetHosts() as [FleetHost, FleetHost];
    const lines = readFileSync(fleetKnownHosts(), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${b.address} `))
      .map((l) => l.replace(b.address, a.address));
    const file = join(dir, 'swapped_known_hosts');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const err = await connect(fleetConnectionSpec(a, { knownHostsFiles: [file], hostKeyChecking: 'accept-new' }), {
      knownHosts: new KnownHostsStore(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_HOSTKEY_CHANGED' });
    expect(readFileSync(file, 'utf8')).toBe(`${lines.join('\n')}\n`);
  });

  it('accept-new: records the key the host really has', async () => {
    const h = fleetHosts()[0]!;
    const file = join(dir, 'learned_known_hosts');
    const c = await connect(fleetConnectionSpec(h, { knownHostsFiles: [file], hostKeyChecking: 'accept-new' }), { knownHosts: new KnownHostsStore() });
    await c.close();
    const learned = parseKnownHosts(readFileSync(file, 'utf8'), file).entries;
    expect(learned).toHaveLength(1);
    const fleet = parseKnownHosts(readFileSync(fleetKnownHosts(), 'utf8'), 'fleet').entries;
    expect(fleet.some((e) => e.hostField === h.address && e.key.equals(learned[0]!.key))).toBe(true);
  });
});

describe.skipIf(!fleetAvailable())('authentication and teardown on fleet hosts', () => {
  it('authenticates through ssh-agent (SSH_AUTH_SOCK) when no key file is set', async () => {
    const h = fleetHosts()[0]!;
    const sock = join(dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    const saved = process.env['SSH_AUTH_SOCK'];
    try {
      execFileSync('ssh-add', [fleetKey()], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      process.env['SSH_AUTH_SOCK'] = sock;
      const c = await connect(fleetConnectionSpec(h, { privateKeyFile: undefined }));
      expect((await c.exec(['id', '-un'])).stdout).toBe('vncplay\n');
      await c.close();
    } finally {
      if (saved === undefined) delete process.env['SSH_AUTH_SOCK'];
      else process.env['SSH_AUTH_SOCK'] = saved;
      if (pid > 0) process.kill(pid);
    }
  });

  it('close() leaves no TCP connection behind', async () => {
    const h = fleetHosts()[0]!;
    const before = tcpConnectionsTo(h.address, 22);
    const c = await connect(fleetConnectionSpec(h));
    await Promise.all(Array.from({ length: 20 }, () => c.exec(['true'])));
    expect(tcpConnectionsTo(h.address, 22)).toBe(before + 1);
    await c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(tcpConnectionsTo(h.address, 22)).toBe(before);
    await expect(c.exec(['true'])).rejects.toMatchObject({ code: 'E_UNREACHABLE' });
  });
});

describe.skipIf(!fleetAvailable())('limits and faults', () => {
  describe('a second sshd with MaxSessions 2 and MaxStartups 1', () => {
    const port = 2222;
    const pidFile = '/run/vp-conn-sshd.pid';
    let h: FleetHost;
    beforeAll(async () => {
      h = fleetHosts()[2] ?? fleetHosts()[0]!;
      // Its own config file: the fleet's sshd_config.d sets MaxStartups, and for that option the file beats -o.
      const config = [
        `Port ${port}`,
        'HostKey /etc/ssh/ssh_host_ed25519_key',
        'HostKey /etc/ssh/ssh_host_ecdsa_key',
        'HostKey /etc/ssh/ssh_host_rsa_key',
        'UsePAM yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UseDNS no',
        'MaxSessions 2',
        'MaxStartups 1',
        `PidFile ${pidFile}`,
        '',
      ].join('\n');
      await hostExecOk(h.name, ['sh', '-c', 'cat > /run/vp-conn-sshd_config'], { stdin: config });
      // /run/sshd vanishes while another test has ssh.service stopped; our own sshd needs it either way.
      await hostExecOk(h.name, ['sh', '-c', 'install -d -m 755 /run/sshd && exec /usr/sbin/sshd -f /run/vp-conn-sshd_config']);
    });
    afterAll(async () => {
      await hostExec(h.name, ['sh', '-c', `kill "$(cat ${pidFile})"; rm -f ${pidFile} /run/vp-conn-sshd_config`]);
    });

    it('queues and retries when sshd refuses channels', async () => {
      const c = await connect(fleetConnectionSpec(h, { port, hostKeyChecking: 'off' }), { maxChannels: 8 });
      try {
        const all = await Promise.all(Array.from({ length: 12 }, (_, i) => c.exec(['sh', '-c', `sleep 0.2; echo ${i}`])));
        expect(all.map((r) => r.rc)).toEqual(Array(12).fill(0));
        expect(c.stats.channelRetries).toBeGreaterThan(0);
        expect(c.openChannels).toBe(0);
        console.log(`[connection] MaxSessions=2: 12 parallel execs ok after ${c.stats.channelRetries} refused channel(s)`);
      } finally {
        await c.close();
      }
    });

    it('retries connections that sshd drops beyond MaxStartups', async () => {
      const logs: string[] = [];
      const conns = await Promise.all(
        Array.from({ length: 6 }, () => connect(fleetConnectionSpec(h, { port, hostKeyChecking: 'off' }), { log: (l) => logs.push(l) })),
      );
      try {
        const out = await Promise.all(conns.map((c) => c.exec(['echo', 'ok'])));
        expect(out.map((r) => r.stdout)).toEqual(Array(6).fill('ok\n'));
        expect(logs.some((l) => l.includes('dropped before the SSH handshake'))).toBe(true);
        console.log(`[connection] MaxStartups=1: 6 simultaneous connects ok after ${logs.length} dropped attempt(s)`);
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
    });
  });

  it('notices a frozen peer through keepalive in bounded time (defaults 5 s × 3)', async () => {
    const h = fleetHosts()[0]!;
    // A TCP relay on loopback that can stop forwarding without closing: the peer "freezes".
    let frozen = false;
    const pairs: Socket[] = [];
    const relay: NetServer = createServer((inbound) => {
      const outbound = new Socket();
      pairs.push(inbound, outbound);
      outbound.connect(22, h.address);
      inbound.on('data', (d) => frozen || outbound.write(d));
      outbound.on('data', (d) => frozen || inbound.write(d));
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const port = (relay.address() as AddressInfo).port;
    try {
      const c = await connect(fleetConnectionSpec(h, { address: '127.0.0.1', port, hostKeyChecking: 'off' }));
      expect((await c.exec(['echo', 'alive'])).stdout).toBe('alive\n');
      const running = c.exec(['sleep', '120']).then(
        () => 'finished',
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      frozen = true;
      const t0 = Date.now();
      const err = await running;
      const noticed = Date.now() - t0;
      expect(err).toMatchObject({ code: 'E_UNREACHABLE' });
      expect(noticed).toBeLessThan(25_000);
      // Later execs fail at once with the same error.
      await expect(c.exec(['true'])).rejects.toMatchObject({ code: 'E_UNREACHABLE' });
      console.log(`[connection] frozen peer noticed after ${noticed} ms: ${(err as Error).message}`);
      await c.close();

      // A connection that is cut (RST, sshd killed) fails running execs at once, not after keepalives.
      frozen = false;
      const c2 = await connect(fleetConnectionSpec(h, { address: '127.0.0.1', port, hostKeyChecking: 'off' }));
      const running2 = c2.exec(['sleep', '120']).then(
        () => 'finished',
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 200));
      const t1 = Date.now();
      for (const s of pairs) s.resetAndDestroy();
      expect(await running2).toMatchObject({ code: 'E_UNREACHABLE' });
      expect(Date.now() - t1).toBeLessThan(2000);
      await c2.close();
    } finally {
      for (const s of pairs) s.destroy();
      relay.close();
    }
  });
});
