// The light fleet (netns + sshd only) that the scale benchmarks use. Runs only when no light fleet is up,
// so it never tears down a benchmark's hosts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fleetAvailable, fleetDir, fleetKey, fleetScript, fleetScriptEnv } from '../fleet/fleet.js';

const execFileAsync = promisify(execFile);
const lightInUse = existsSync('/var/lib/vncplay-fleet/light/l1');

async function fleetSh(...args: string[]): Promise<void> {
  await execFileAsync('bash', [fleetScript, ...args], { env: fleetScriptEnv(), timeout: 120_000 });
}

describe.skipIf(!fleetAvailable() || lightInUse)('light fleet', () => {
  it('up-light 3 gives three sshds on 198.19.0.11-13 with their own keys; down-light removes them', async () => {
    let leftover: ChildProcess | undefined;
    await fleetSh('up-light', '3');
    try {
      const knownHosts = join(fleetDir(), 'known_hosts_light');
      const keys = readFileSync(knownHosts, 'utf8').trim().split('\n').map((l) => l.split(' ')[2]);
      expect(new Set(keys).size).toBe(3);
      expect(readFileSync(join(fleetDir(), 'inventory-light.yml'), 'utf8')).toContain('l3: {ansible_host: 198.19.0.13}');
      for (const address of ['198.19.0.11', '198.19.0.12', '198.19.0.13']) {
        const { stdout } = await execFileAsync('ssh', ['-i', fleetKey(), '-o', `UserKnownHostsFile=${knownHosts}`,
          '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `vncplay@${address}`,
          'id -un; ip -4 -o addr show eth0'], { timeout: 30_000 });
        expect(stdout).toContain('vncplay');
        expect(stdout).toContain(`inet ${address}/16`);
      }
      // A session left open (here a plain process in the host's namespace, as an sshd session whose client vanished).
      leftover = spawn('ip', ['netns', 'exec', 'vl-2', 'sleep', '600'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await fleetSh('down-light');
    }
    expect(existsSync('/var/lib/vncplay-fleet/light/l1')).toBe(false);
    expect(existsSync('/run/netns/vl-1')).toBe(false);
    // down-light ended it too: nothing keeps running in a namespace that no longer exists.
    const exit = await new Promise<string | null>((resolve) => {
      if (leftover!.exitCode !== null || leftover!.signalCode !== null) return resolve(leftover!.signalCode);
      leftover!.once('exit', (_code, signal) => resolve(signal));
      setTimeout(() => resolve('still running'), 5000);
    });
    expect(exit).toBe('SIGKILL');
  });
});
