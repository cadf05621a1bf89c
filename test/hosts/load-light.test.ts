// Load: 200 light hosts (netns + sshd) with forks 200, sshd's own limits lowered on some of them. The run must queue
// and retry (connections dropped by MaxStartups, channels refused by MaxSessions) rather than fail, and leave no
// file descriptor behind. Runs only when no light fleet is up, so it never tears down a benchmark's hosts.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { runPlaybook } from '../../src/runner/run.js';
import { fleetAvailable, fleetDir, fleetScript, fleetScriptEnv } from '../fleet/fleet.js';

const execFileAsync = promisify(execFile);
const LIGHT = '/var/lib/vncplay-fleet/light';
const lightInUse = existsSync(`${LIGHT}/l1`);
const HOSTS = 200;
const THROTTLED = 20;
/** Extra inventory names for host l1's address: many hosts behind one sshd, as behind a NAT or a shared jump. */
const ALIASES = 20;
const lightAddress = (j: number): string => `198.19.${Math.floor(j / 100)}.${(j % 100) + 10}`;

async function fleetSh(...args: string[]): Promise<void> {
  await execFileAsync('bash', [fleetScript, ...args], { env: fleetScriptEnv(), timeout: 300_000 });
}

/** MaxStartups 1:100:2 drops most concurrent handshakes; MaxSessions 2 refuses most parallel channels. */
function throttle(j: number): void {
  const file = `${LIGHT}/l${j}/sshd_config`;
  const conf = readFileSync(file, 'utf8').replace(/^MaxSessions .*$/m, 'MaxSessions 2').replace(/^MaxStartups .*$/m, 'MaxStartups 1:100:2');
  writeFileSync(file, conf);
  process.kill(Number(readFileSync(`${LIGHT}/l${j}/sshd.pid`, 'utf8').trim()), 'SIGHUP');
}

describe.skipIf(!fleetAvailable() || lightInUse)(`load: ${HOSTS} hosts, forks ${HOSTS}`, () => {
  it('queues and retries under lowered sshd limits, every host converges, no fd is left open', async () => {
    await fleetSh('up-light', String(HOSTS));
    try {
      for (let j = 1; j <= THROTTLED; j++) throttle(j);
      const dir = await mkdtemp(join(tmpdir(), 'vncplay-load-'));
      const pb = join(dir, 'load.yml');
      // Parallel channels per host: a loop of commands and a free strategy push MaxSessions on the throttled hosts.
      await writeFile(
        pb,
        `- hosts: all
  gather_facts: false
  tasks:
    - name: ping
      ping:
    - name: commands
      command: echo {{ item }}
      loop: [1, 2, 3]
      changed_when: false
    - name: files
      copy:
        dest: /tmp/vncplay-load-{{ inventory_hostname }}
        content: "{{ inventory_hostname }}\\n"
`,
      );
      const playbook = await loadPlaybook(pb);
      // The light fleet's own inventory, plus aliases of l1 so that its lowered MaxStartups really bites.
      const light = readFileSync(join(fleetDir(), 'inventory-light.ini'), 'utf8');
      const aliases = Array.from({ length: ALIASES }, (_, i) => `alias${i + 1} ansible_host=${lightAddress(1)}`).join('\n');
      const invFile = join(dir, 'inventory.ini');
      await writeFile(invFile, light.replace(/^\[light\]$/m, `[light]\n${aliases}`));
      const inventory = await loadInventory(invFile, process.cwd());
      const fds = (): number => readdirSync('/proc/self/fd').length;
      const before = fds();
      const started = Date.now();
      const notes: string[] = [];
      const result = await runPlaybook({
        playbook,
        inventory,
        forks: HOSTS,
        onEvent: (e) => {
          if (e.type === 'verbose') notes.push(e.message);
        },
      });
      const dropped = notes.filter((n) => n.includes('connection dropped before the SSH handshake')).length;
      const refused = notes.filter((n) => n.includes('server refused a channel')).length;
      const seconds = (Date.now() - started) / 1000;
      console.log(`load: ${HOSTS} hosts (${THROTTLED} throttled), forks ${HOSTS}: ${seconds.toFixed(1)} s, exit ${result.exitCode}, ${dropped} handshakes dropped and retried, ${refused} channels refused and retried`);
      // The limit really bit (one sshd, 21 simultaneous handshakes, MaxStartups 1:100:2): dropped and retried.
      expect(dropped).toBeGreaterThan(0);
      expect(result.exitCode, JSON.stringify(Object.entries(result.stats).filter(([, s]) => s.failed || s.unreachable).slice(0, 5))).toBe(0);
      expect(Object.keys(result.stats)).toHaveLength(HOSTS + ALIASES);
      for (const s of Object.values(result.stats)) expect(s).toMatchObject({ ok: 3, failed: 0, unreachable: 0 });
      await new Promise((r) => setTimeout(r, 500));
      // Every connection and channel is closed: the process holds what it held before the run.
      expect(fds()).toBeLessThanOrEqual(before + 2);
    } finally {
      await fleetSh('down-light');
    }
  }, 900_000);
});
