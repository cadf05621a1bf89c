import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { rfbBanner, vncplay, writeVncInventory } from '../support/cli-helpers.js';

const xvncPid = async (host: number): Promise<string> =>
  (await hostExec(host, ['pgrep', '-f', '^(/usr/bin/)?X(tiger)?vnc :1( |$)'])).stdout.trim();

describe.skipIf(!fleetAvailable())('playbooks/restart.yml on the fleet', () => {
  let inventory: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-restart-'));
    inventory = await writeVncInventory(dir, fleetHosts(), { vnc_password: 'restart1' }, { key: fleetKey(), knownHosts: fleetKnownHosts() });
    for (const h of [1, 2, 3]) {
      // Each host starts from a known session script and config, whatever earlier tests left.
      await hostExec(h, ['sh', '-c', 'systemctl stop tigervncserver@:1; rm -f /home/vncplay/.vnc/tigervnc.conf']);
    }
    const setup = await vncplay(['playbooks/vnc-setup.yml', '-i', inventory]);
    expect(setup.code, setup.stdout).toBe(0);
    const again = await vncplay(['playbooks/vnc-setup.yml', '-i', inventory]);
    for (const h of ['h1', 'h2', 'h3']) expect(again.recap[h]).toMatchObject({ changed: 0, failed: 0 });
  });

  it('restarts every host with a new Xvnc whose banner answers', async () => {
    const before = await Promise.all([1, 2, 3].map(xvncPid));
    expect(before.every((p) => p !== '')).toBe(true);
    const r = await vncplay(['playbooks/restart.yml', '-i', inventory]);
    expect(r.code, r.stdout).toBe(0);
    const after = await Promise.all([1, 2, 3].map(xvncPid));
    for (const [i, pid] of after.entries()) {
      expect(pid).not.toBe('');
      expect(pid).not.toBe(before[i]);
    }
    for (const h of fleetHosts()) expect(await rfbBanner(h.address, 5901)).toMatch(/^RFB 003\.00[38]\n/);
    // Rolling: 25% of 3 hosts is one host per batch.
    expect(r.stdout.match(/^PLAY \[Restart VNC servers\] \(batch \d\/3\)/gm)).toHaveLength(3);
  });

  it('brings back a stopped server and a crashed one whose stale X lock is left behind', async () => {
    await hostExecOk(2, ['systemctl', 'stop', 'tigervncserver@:1']);
    // A crash that takes the session wrapper down too (OOM killer, power loss of a VM with a persistent /tmp):
    // Xvnc is killed hard and its lock file and socket stay behind, naming a process that no longer exists.
    await hostExecOk(3, ['pkill', '-KILL', '-f', '^(/usr/bin/)?X(tiger)?vnc :1( |$)']);
    await hostExecOk(3, ['sh', '-c', 'sleep 1; printf "%10d\\n" 999999 > /tmp/.X1-lock; python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\'/tmp/.X11-unix/X1\')"']);
    expect((await hostExec(3, ['test', '-S', '/tmp/.X11-unix/X1'])).code).toBe(0);
    expect(await rfbBanner(fleetHosts()[1]!.address, 5901)).toBe('');
    const r = await vncplay(['playbooks/restart.yml', '-i', inventory, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const cleared = r.events.find(
      (e) => e.type === 'task_result' && e.host === 'h3' && e.task.name === 'Clear the stale X lock of a display no Xvnc serves',
    );
    expect(cleared?.type === 'task_result' && cleared.status).toBe('changed');
    const lockOf = async (): Promise<string> => (await hostExec(3, ['cat', '/tmp/.X1-lock'])).stdout.trim();
    expect(await lockOf()).not.toBe('999999');
    for (const h of fleetHosts()) expect(await rfbBanner(h.address, 5901)).toMatch(/^RFB 003\.00[38]\n/);
  });

  it('refuses a host whose display could not start again, before stopping anything (user map, password file)', async () => {
    const before = await Promise.all([1, 2].map(xvncPid));
    expect(before.every((p) => p !== '')).toBe(true);
    // h1: display :1 no longer mapped to a user (tigervncsession-start would say "No user configured for display :1");
    // h2: the user's VNC password file is gone (vncserver would refuse to start without it).
    await hostExecOk(1, ['sed', '-i', '/^:1=/d', '/etc/tigervnc/vncserver.users']);
    await hostExecOk(2, ['mv', '/home/vncplay/.vnc/passwd', '/home/vncplay/.vnc/passwd.away']);
    try {
      const r = await vncplay(['playbooks/restart.yml', '-i', inventory, '-l', 'h1,h2', '-e', 'vnc_serial=2']);
      expect(r.code, r.stdout).toBe(2);
      expect(r.recap['h1']).toMatchObject({ failed: 1, changed: 0 });
      expect(r.recap['h2']).toMatchObject({ failed: 1, changed: 0 });
      expect(r.stdout).toContain('not restarting (nothing was stopped): display :1 has no user in /etc/tigervnc/vncserver.users');
      expect(r.stdout).toContain('not restarting (nothing was stopped): display :1: vncplay has no VNC password file (/home/vncplay/.vnc/passwd)');
      expect(r.stdout).not.toMatch(/TASK \[Stop the VNC server\]/);
      // The servers still run, the same processes: nothing was stopped.
      expect(await Promise.all([1, 2].map(xvncPid))).toEqual(before);
    } finally {
      await hostExec(2, ['mv', '/home/vncplay/.vnc/passwd.away', '/home/vncplay/.vnc/passwd']);
      await vncplay(['playbooks/vnc-setup.yml', '-i', inventory, '-l', 'h1']);
    }
  });

  it('a host whose server will not start although the checks passed fails with its journal tail and stops the rollout', async () => {
    // A desktop size vncserver refuses at start (an operator's typo in -e), which no pre-check reads.
    try {
      const r = await vncplay(['playbooks/restart.yml', '-i', inventory, '-e', 'vnc_serial=1', '-e', 'vnc_wait_timeout=5', '-e', 'vnc_geometry=wide']);
      expect(r.code, r.stdout).toBe(2);
      expect(r.recap['h1']).toMatchObject({ failed: 1, rescued: 1 });
      expect(r.recap['h2']).toBeUndefined();
      expect(r.recap['h3']).toBeUndefined();
      expect(r.stdout).toMatch(/TASK \[Show the journal tail\]/);
      expect(r.stdout).toMatch(/tigervnc/);
      expect(r.stdout).toMatch(/VNC restart failed on h1/);
    } finally {
      await hostExec(1, ['rm', '-f', '/home/vncplay/.vnc/tigervnc.conf']);
      await vncplay(['playbooks/vnc-setup.yml', '-i', inventory, '-l', 'h1']);
    }
  });
});
