import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAddress, fleetAvailable, fleetDir, fleetHosts, fleetKnownHosts, hostExec } from '../fleet/fleet.js';
import { ansiblePlaybook, repoRoot, vncplay } from '../support/cli-helpers.js';

/**
 * The shipped inventories/demo.yml, read by both tools (issue 16): it names the fleet's known_hosts file the way
 * ansible-playbook reads it (ansible_ssh_common_args: -o UserKnownHostsFile=…), so playbooks/restart.yml gives the
 * same recap under both. The run happens as `npm run demo` does it: from a folder holding inventories/, playbooks/
 * and .fleet/ (here links to the repository's and to the fleet's), with `-i demo`.
 */
describe.skipIf(!fleetAvailable())('the shipped demo inventory under vncplay and ansible-playbook', () => {
  let dir: string;
  /** Hosts whose VNC session was not running before: stopped again afterwards. */
  const stopAfter: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-demo-inv-'));
    await symlink(path.join(repoRoot, 'playbooks'), path.join(dir, 'playbooks'));
    // The shipped inventory as it is, but for the fleet this test file runs on (demo.yml names slot 1's addresses).
    await mkdir(path.join(dir, 'inventories'));
    for (const entry of await readdir(path.join(repoRoot, 'inventories'))) {
      if (entry !== 'demo.yml') await symlink(path.join(repoRoot, 'inventories', entry), path.join(dir, 'inventories', entry));
    }
    const demo = await readFile(path.join(repoRoot, 'inventories/demo.yml'), 'utf8');
    await writeFile(path.join(dir, 'inventories/demo.yml'), demo.replace(/ansible_host: 198\.18\.0\.(\d+)/g, (_, n: string) => `ansible_host: ${fleetAddress(Number(n))}`));
    await symlink(fleetDir(), path.join(dir, '.fleet'));
    for (const h of [1, 2, 3]) {
      if ((await hostExec(h, ['systemctl', 'is-active', '--quiet', 'tigervncserver@:1'])).code !== 0) stopAfter.push(h);
    }
    // restart.yml restarts existing sessions: provision them as the demo does (idempotent where they exist).
    const setup = await vncplay(['playbooks/vnc-setup.yml', '-i', 'demo'], { cwd: dir });
    expect(setup.code, setup.stdout + setup.stderr).toBe(0);
    // The first restart after a setup also rewrites the geometry line of tigervnc.conf: compare steady runs.
    const settle = await vncplay(['playbooks/restart.yml', '-i', 'demo'], { cwd: dir });
    expect(settle.code, settle.stdout + settle.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const h of stopAfter) await hostExec(h, ['systemctl', 'disable', '--now', 'tigervncserver@:1']);
  });

  it('playbooks/restart.yml: the same recap, 14 ok, 2 changed, 9 skipped per host (the start pre-check runs; its refusal, the cloud last resort and security-group check and the docker tasks are skipped)', async () => {
    const theirs = await ansiblePlaybook(['playbooks/restart.yml', '-i', 'inventories/demo.yml'], { cwd: dir });
    const ours = await vncplay(['playbooks/restart.yml', '-i', 'demo'], { cwd: dir });
    expect(theirs.code, theirs.stdout + theirs.stderr).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.recap).toEqual(theirs.recap);
    for (const h of ['h1', 'h2', 'h3']) expect(ours.recap[h]).toMatchObject({ ok: 14, changed: 2, skipped: 9, failed: 0, unreachable: 0 });
    expect(ours.stdout + ours.stderr).not.toContain('WARNING');
  });

  it('the old vncplay-only name still works, with a warning naming the new one', async () => {
    await writeFile(
      path.join(dir, 'old-name.yml'),
      `all:\n  hosts:\n    h1:\n      ansible_host: ${fleetHosts()[0]!.address}\n      ansible_user: vncplay\n      ansible_ssh_private_key_file: .fleet/id_ed25519\n      ansible_ssh_known_hosts_file: ${fleetKnownHosts()}\n`,
    );
    await writeFile(path.join(dir, 'ping.yml'), '- hosts: h1\n  gather_facts: false\n  tasks:\n    - ping:\n');
    const ours = await vncplay(['ping.yml', '-i', 'old-name.yml'], { cwd: dir });
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(ours.stdout + ours.stderr).toContain(
      '[WARNING]: ansible_ssh_known_hosts_file (set for h1) is a vncplay-only setting that ansible-playbook ignores; rename it vncplay_known_hosts_file',
    );
  });
});
