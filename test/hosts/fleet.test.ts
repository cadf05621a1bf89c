// The test fleet itself: every other integration test trusts these properties of the hosts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  fleetAddress, fleetAvailable, fleetBridgeAddress, fleetHostPidFile, fleetHosts, fleetInventory, fleetKey, fleetKnownHosts,
  fleetReset, fleetScript, fleetScriptEnv, fleetStop, hostExec, hostExecOk,
} from '../fleet/fleet.js';

const execFileAsync = promisify(execFile);

// OpenSSH sends the remote command as one string to the login shell; pass it as such.
function sshArgs(address: string, command: string): string[] {
  return ['-i', fleetKey(), '-o', `UserKnownHostsFile=${fleetKnownHosts()}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', `vncplay@${address}`, '--', command];
}

async function ssh(address: string, command: string): Promise<string> {
  const { stdout } = await execFileAsync('ssh', sshArgs(address, command), { timeout: 30_000 });
  return stdout;
}

async function ed25519KeyOf(address: string): Promise<string> {
  const { stdout } = await execFileAsync('ssh-keyscan', ['-t', 'ed25519', '-T', '5', address], { timeout: 15_000 });
  const line = stdout.split('\n').find((l) => l.startsWith(`${address} ssh-ed25519 `));
  if (!line) throw new Error(`no ed25519 key from ${address}: ${stdout}`);
  return line.split(' ')[2] ?? '';
}

/** Failed units whose definition the rootfs ships (not transient or /etc units that tests created). */
async function failedVendorUnits(host: number): Promise<string[]> {
  const failed = (await hostExecOk(host, ['systemctl', '--failed', '--no-legend', '--plain']))
    .split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((u) => u !== '');
  const vendor: string[] = [];
  for (const unit of failed) {
    const path = (await hostExecOk(host, ['systemctl', 'show', '-P', 'FragmentPath', unit])).trim();
    if (/^\/(usr\/)?lib\/systemd\//.test(path)) vendor.push(`${unit} (${path})`);
  }
  return vendor;
}

describe.skipIf(!fleetAvailable())('test fleet', () => {
  const hosts = fleetAvailable() ? fleetHosts() : [];

  it('has three hosts h1..h3 at .11-.13 of its subnet (198.18.0.x for slot 1) in inventory.yml and known_hosts', () => {
    expect(hosts.map((h) => [h.name, h.address])).toEqual([
      ['h1', fleetAddress(11)], ['h2', fleetAddress(12)], ['h3', fleetAddress(13)],
    ]);
    expect(fleetBridgeAddress()).toMatch(/^198\.18\.\d\.1$/);
    const inventory = readFileSync(fleetInventory(), 'utf8');
    const knownHosts = readFileSync(fleetKnownHosts(), 'utf8');
    for (const h of hosts) {
      expect(inventory).toContain(`ansible_host: ${h.address}`);
      expect(knownHosts).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
    }
  });

  // Other test files leave their own units behind (and some fail on purpose), so a used host may be
  // "degraded"; what must never fail is a unit the fleet's rootfs ships.
  it.each([1, 2, 3])('h%i runs systemd as PID 1, running or degraded only by units tests made', async (i) => {
    expect((await hostExecOk(i, ['cat', '/proc/1/comm'])).trim()).toBe('systemd');
    expect((await hostExecOk(i, ['hostname'])).trim()).toBe(`h${i}`);
    const state = (await hostExec(i, ['systemctl', 'is-system-running', '--wait'])).stdout.trim();
    expect(['running', 'degraded']).toContain(state);
    expect(await failedVendorUnits(i)).toEqual([]);
  });

  it('hosts have distinct machine ids (the rootfs ships none)', async () => {
    const ids = await Promise.all(hosts.map(async (h) => (await hostExecOk(h.index, ['cat', '/etc/machine-id'])).trim()));
    ids.forEach((id) => expect(id).toMatch(/^[0-9a-f]{32}$/));
    expect(new Set(ids).size).toBe(hosts.length);
  });

  it('each sshd answers with its own host key, the one in known_hosts', async () => {
    const keys = await Promise.all(hosts.map((h) => ed25519KeyOf(h.address)));
    expect(new Set(keys).size).toBe(hosts.length);
    const knownHosts = readFileSync(fleetKnownHosts(), 'utf8');
    hosts.forEach((h, n) => expect(knownHosts).toContain(`${h.address} ssh-ed25519 ${keys[n]}`));
  });

  it('the vncplay user logs in with the fleet key and has passwordless sudo', async () => {
    for (const h of hosts) {
      const out = await ssh(h.address, 'id -un; sudo -n id -un');
      expect(out.trim().split('\n')).toEqual(['vncplay', 'root']);
    }
  });

  it('root in a host (through ssh + sudo, as vncplay runs) may change netfilter and links: CAP_NET_ADMIN', async () => {
    const out = await ssh(fleetAddress(12), [
      'sudo -n nft add table inet vncplay_fleet_cap', 'sudo -n nft delete table inet vncplay_fleet_cap',
      'sudo -n iptables -S INPUT', 'sudo -n ip link add vpcapa type veth peer name vpcapb', 'sudo -n ip link del vpcapa',
      'echo cap-ok'].join(' && '));
    expect(out.trim().split('\n').pop()).toBe('cap-ok');
  });

  it('hosts reach each other over TCP (h1 -> h2:22, h3 -> h1:22)', async () => {
    await hostExecOk(1, ['nc', '-z', '-w', '5', fleetAddress(12), '22']);
    await hostExecOk(3, ['nc', '-z', '-w', '5', fleetAddress(11), '22']);
  });

  it('hosts reach the controller at the bridge address', async () => {
    const controllerAddress = fleetBridgeAddress();
    let resolveReceived: (data: string) => void = () => {};
    const received = new Promise<string>((r) => { resolveReceived = r; });
    const server = createServer((socket) => {
      let data = '';
      socket.setEncoding('utf8').on('data', (d: string) => { data += d; });
      socket.on('end', () => resolveReceived(data.trim()));
    });
    await new Promise<void>((r) => server.listen(0, controllerAddress, r));
    try {
      const { port } = server.address() as AddressInfo;
      await hostExecOk(2, ['sh', '-c', `echo hello-from-h2 | nc -N -w 5 ${controllerAddress} ${port}`]);
      expect(await received).toBe('hello-from-h2');
    } finally {
      server.close();
    }
  });

  it('`up 3` again reuses the running hosts quickly', async () => {
    const pidsBefore = hosts.map((h) => readFileSync(fleetHostPidFile(h.name), 'utf8'));
    const started = Date.now();
    await execFileAsync('bash', [fleetScript, 'up', '3'], { env: fleetScriptEnv() });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hosts.map((h) => readFileSync(fleetHostPidFile(h.name), 'utf8'))).toEqual(pidsBefore);
  });

  it('reset gives a host a clean root but keeps its address and host key', async () => {
    const keyBefore = await ed25519KeyOf(fleetAddress(13));
    await hostExecOk(3, ['sh', '-c', 'echo dirty > /etc/vncplay-fleet-marker']);
    // A command still running inside the host (entered with nsenter) must not hold the poweroff up.
    const lingering = hostExec(3, ['sleep', '600']);
    const started = Date.now();
    await fleetReset(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await lingering).code).not.toBe(0);
    const marker = await hostExec(3, ['test', '-e', '/etc/vncplay-fleet-marker']);
    expect(marker.code).toBe(1);
    expect(await ed25519KeyOf(fleetAddress(13))).toBe(keyBefore);
    expect((await ssh(fleetAddress(13), 'hostname')).trim()).toBe('h3');
  });

  it('stop makes a host unreachable and reset brings it back', async () => {
    await fleetStop(3);
    await expect(ed25519KeyOf(fleetAddress(13))).rejects.toThrow();
    await expect(hostExec(3, ['true'])).rejects.toThrow(/not running/);
    await fleetReset(3);
    expect((await ssh(fleetAddress(13), 'hostname')).trim()).toBe('h3');
  });

  it('a fresh host is fully running, with optional services installed but disabled', async () => {
    // Runs after the reset above, so no other test has touched h3 yet.
    const state = await hostExec(3, ['systemctl', 'is-system-running', '--wait']);
    const failed = await hostExec(3, ['systemctl', '--failed', '--no-legend', '--plain']);
    expect({ state: state.stdout.trim(), failed: failed.stdout.trim() }).toEqual({ state: 'running', failed: '' });
    const enabled = await hostExec(3, ['systemctl', 'is-enabled', 'supervisor', 'keepalived', 'firewalld', 'ufw', 'nftables']);
    expect(enabled.stdout.trim().split('\n')).toEqual(['disabled', 'disabled', 'disabled', 'disabled', 'disabled']);
    for (const tool of ['vncserver', 'Xtigervnc', 'supervisord', 'keepalived', 'ufw', 'firewall-cmd', 'iptables', 'python3']) {
      expect((await hostExec(3, ['sh', '-c', `command -v ${tool}`])).code, tool).toBe(0);
    }
    await hostExecOk(3, ['nft', 'add', 'table', 'inet', 'vncplay_fleet_probe']);
    expect(await hostExecOk(3, ['nft', 'list', 'tables'])).toContain('vncplay_fleet_probe');
    await hostExecOk(3, ['nft', 'delete', 'table', 'inet', 'vncplay_fleet_probe']);
  });

  it('a fresh host runs a real TigerVNC server under systemd that stays up', async () => {
    // Display :9 so this never meets the displays other tests use; h3 is reset afterwards.
    try {
      await hostExecOk(3, ['sh', '-c', [
        'echo :9=vncplay >> /etc/tigervnc/vncserver.users',
        'install -d -o vncplay -g vncplay -m 0700 /home/vncplay/.vnc',
        'echo fleet-pw | vncpasswd -f > /home/vncplay/.vnc/passwd',
        'chown vncplay:vncplay /home/vncplay/.vnc/passwd && chmod 0600 /home/vncplay/.vnc/passwd',
        'systemctl start tigervncserver@:9',
      ].join(' && ')]);
      // The session survives its first seconds (it exits at once without a window manager and fonts).
      await new Promise((r) => setTimeout(r, 4_000));
      expect((await hostExec(3, ['systemctl', 'is-active', 'tigervncserver@:9'])).stdout.trim()).toBe('active');
      const banner = await hostExecOk(3, ['sh', '-c', 'nc -w 3 127.0.0.1 5909 </dev/null | head -c 12']);
      expect(banner).toBe('RFB 003.008\n');
    } finally {
      await fleetReset(3);
    }
  });
});
