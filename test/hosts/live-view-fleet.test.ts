import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts } from '../fleet/fleet.js';
import { writeVncInventory } from '../support/cli-helpers.js';
import { TmuxTerminal } from '../support/terminal-helpers.js';

describe.skipIf(!fleetAvailable())('live view on a terminal, on the fleet', () => {
  const terminal = new TmuxTerminal(`vncplay-live-fleet-${process.pid}`);
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-live-fleet-'));
  });
  // The folder holds an encrypted copy of the fleet's key.
  afterAll(async () => {
    await terminal.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws each serial batch with its host and ends with the recap', async () => {
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

  it('asks for the passphrase of an encrypted key on a line below the rows, and goes on once it is typed', async () => {
    // The fleet's own key, encrypted: the host accepts it once the passphrase has opened it.
    const key = path.join(dir, 'encrypted_key');
    await copyFile(fleetKey(), key);
    await chmod(key, 0o600);
    await promisify(execFile)('ssh-keygen', ['-p', '-q', '-P', '', '-N', 'open sesame', '-f', key]);
    const h1 = fleetHosts().find((h) => h.name === 'h1')!;
    const inventory = await writeVncInventory(dir, [h1], {}, { key, knownHosts: fleetKnownHosts() });
    const pb = path.join(dir, 'one-step.yml');
    await writeFile(pb, '- hosts: vnc\n  gather_facts: false\n  tasks:\n    - name: one step\n      command: "true"\n');

    const session = await terminal.start([pb, '-i', inventory]);
    const asking = await terminal.waitFor(session, /Enter passphrase for key '[^']*encrypted_key': *$/m, 15_000);
    expect(asking).toMatch(/h1: one step\n.*Enter passphrase/);
    await terminal.sendKeys(session, 'open sesame');
    await terminal.sendKeys(session, 'Enter');
    const { exitCode, screen } = await terminal.waitForExit(session, 15_000);
    expect(exitCode, screen).toBe(0);
    // The question line is gone from the last frame (the blank line is the recap's own).
    expect(screen).toMatch(/✔ h1: one step \(changed\)\n\nPLAY RECAP/);
    expect(screen).not.toMatch(/Enter passphrase[^]*PLAY RECAP/);
  });
});
