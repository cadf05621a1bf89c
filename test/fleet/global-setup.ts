// vitest globalSetup: makes sure the 3-host test fleets are up before any test file runs, and tells the test
// workers where their files are (VNCPLAY_FLEET_BASE_DIR; worker-slot.ts picks each worker's fleet). The fleets are
// left running afterwards so the next run reuses them in about a second; .ci/run takes them down.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetDir, fleetScript } from './fleet.js';

const FLEET_SIZE = 3;

// `vitest run test/pure test/local` (any run whose filters all point outside test/hosts), or `--project local`,
// needs no hosts.
export function noHostsSelected(argv: readonly string[]): boolean {
  const runIndex = argv.findIndex((a) => a === 'run' || a === 'watch' || a === 'related');
  const words = argv.slice(runIndex >= 0 ? runIndex + 1 : 2);
  // `-t NAME` and other options given as two words: their value is not a file filter.
  const filters = words.filter((a, i) => !a.startsWith('-') && !OPTIONS_WITH_A_VALUE.has(words[i - 1] ?? ''));
  const projects = words.filter((_, i) => words[i - 1] === '--project');
  if (projects.length > 0 && !projects.some((p) => p.startsWith('hosts'))) return true;
  return filters.length > 0 && filters.every((f) => /^test\/(pure|local|parity)(\/|$)/.test(f.replace(/^\.\//, '')));
}

const OPTIONS_WITH_A_VALUE = new Set(['-t', '--testNamePattern', '--reporter', '--config', '-c', '--root', '-r', '--dir', '--project', '--exclude', '--outputFile', '--pool', '--shard', '--mode']);

function runFleetUp(dir: string, slot: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // stdout/stderr go straight to the terminal: a first-time rootfs build takes minutes and says so.
    const child = spawn('bash', [fleetScript, 'up', String(FLEET_SIZE)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, FLEET_DIR: dir, FLEET_SLOT: String(slot) },
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`\`FLEET_SLOT=${slot} fleet.sh up ${FLEET_SIZE}\` exited ${code}; set VNCPLAY_FLEET=off to run without the fleet`));
    });
  });
}

export default async function setup(): Promise<void> {
  // Every vncplay run writes the audit trail (src/audit/trail.ts): the tests' thousands of runs go to a folder of
  // their own, not to /var/lib/vncplay/audit. Tests of the trail itself give each run its own folder.
  process.env.VNCPLAY_AUDIT_DIR ??= mkdtempSync(join(tmpdir(), 'vncplay-test-audit-'));
  const dir = fleetDir();
  process.env.VNCPLAY_FLEET_DIR = dir;
  if (process.env.VNCPLAY_FLEET === 'off' || noHostsSelected(process.argv)) {
    process.env.VNCPLAY_FLEET = 'off';
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error('the test fleet needs root (network namespaces, mounts, systemd-nspawn); run as root or set VNCPLAY_FLEET=off');
  }
  // One fleet per test file that may run at once (vitest.config.ts: VNCPLAY_FLEET_SLOTS); test/fleet/worker-slot.ts
  // points each worker at its own. One after the other: the first may have to build the rootfs.
  const pinned = process.env.VNCPLAY_FLEET_SLOT;
  if (pinned !== undefined && !/^[1-9]$/.test(pinned)) throw new Error(`VNCPLAY_FLEET_SLOT must be 1..9, got '${pinned}'`);
  const slots = pinned ? [Number(pinned)] : Array.from({ length: Number(process.env.VNCPLAY_FLEET_SLOTS ?? '1') }, (_, i) => i + 1);
  for (const slot of slots) await runFleetUp(dir, slot);
  process.env.VNCPLAY_FLEET_BASE_DIR = dir;
  process.env.VNCPLAY_FLEET_INVENTORY = join(dir, 'inventory.yml');
}
