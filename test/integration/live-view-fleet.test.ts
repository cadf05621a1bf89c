import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts } from '../fleet/fleet.js';
import { writeVncInventory } from './cli-helpers.js';
import { TmuxTerminal } from './terminal-helpers.js';

describe.skipIf(!fleetAvailable())('live view on a terminal, on the fleet', () => {
  const terminal = new TmuxTerminal(`vncplay-live-fleet-${process.pid}`);
  afterAll(() => terminal.close());

  it('draws each serial batch with its host and ends with the recap', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-live-fleet-'));
    const inventory = await writeVncInventory(dir, fleetHosts(), {}, { key: fleetKey(), knownHosts: fleetKnownHosts() });
    const pb = path.join(dir, 'serial.yml');
    await writeFile(
      pb,
      `- name: one at a time
  hosts: vnc
  gather_facts: false
  serial: 1
  tasks:
    - name: pause
      command: sleep 0.5
    - name: say hostname
      command: hostname
      changed_when: false
`,
    );
    // Three batches of about a second each; a view that waits on an earlier batch never gets here.
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', inventory], 30_000);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(
      /PLAY \[one at a time\] \(batch 1\/3\)\n✔ h1: say hostname \(ok\)\nPLAY \[one at a time\] \(batch 2\/3\)\n✔ h2: say hostname \(ok\)\nPLAY \[one at a time\] \(batch 3\/3\)\n✔ h3: say hostname \(ok\)/,
    );
    for (const host of ['h1', 'h2', 'h3']) {
      expect(screen).toMatch(new RegExp(`^${host}\\s+: ok=2\\s+changed=1\\s+unreachable=0\\s+failed=0`, 'm'));
    }
  });
});
