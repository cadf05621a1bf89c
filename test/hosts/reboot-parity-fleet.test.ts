import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHostRunning, fleetInventoryIni, fleetReset } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * reboot and wait_for_connection side by side with ansible-playbook on fleet host h3, which really goes down.
 * The fleet runs nspawn with --keep-unit, and then a reboot inside the container ends nspawn with exit code 133
 * (a unit would restart it: RestartForceExitStatus=133); this test plays that supervisor: when h3's nspawn is gone,
 * it boots h3 again (fleetReset: same address and host keys, a new boot id). Both tools must notice the host go
 * away, reconnect, see a new boot id and run the test command; vncplay's pool must drop the dead connection so the
 * tasks after the reboot run on the new one. wait_for_connection then waits while h3's sshd is stopped for a few
 * seconds (ssh.service's KillMode=process keeps the sessions already open: only new connections are refused).
 */
const HOST = 3;
const SSHD_DOWN_S = 6;
const playbook = `
- hosts: h3
  gather_facts: false
  tasks:
    - name: boot id before
      command: cat /proc/sys/kernel/random/boot_id
      register: before
      changed_when: false
    - name: reboot
      reboot: {msg: vncplay parity test, connect_timeout: 5, reboot_timeout: 150, test_command: 'test -d /root'}
    - name: boot id after the reboot
      command: cat /proc/sys/kernel/random/boot_id
      register: after
      changed_when: false
    - name: rebooted
      assert: {that: [before.stdout != after.stdout]}
    - name: reboot in check mode
      reboot: {}
      check_mode: true
    - name: stop sshd for a while
      shell: nohup sh -c 'systemctl stop ssh; sleep ${SSHD_DOWN_S}; systemctl start ssh' >/dev/null 2>&1 &
    - name: wait_for_connection times out
      wait_for_connection: {delay: 1, sleep: 1, connect_timeout: 2, timeout: 2}
      ignore_errors: true
    - name: wait for the connection while sshd is stopped
      wait_for_connection: {sleep: 1, connect_timeout: 3, timeout: 60}
    - name: boot id after the wait
      command: cat /proc/sys/kernel/random/boot_id
      register: waited
      changed_when: false
    - name: same boot
      assert: {that: [after.stdout == waited.stdout]}
    - name: wait_for_connection in check mode
      wait_for_connection: {}
      check_mode: true
`;

describe.skipIf(!fleetAvailable())('reboot and wait_for_connection: parity with ansible-playbook on a host that goes down', () => {
  let watching = false;
  let restarts = 0;
  /** Boots h3 again whenever its nspawn has ended, as a supervisor of the machine would. */
  async function superviseHost(): Promise<void> {
    while (watching) {
      if (!fleetHostRunning(HOST)) {
        const t0 = Date.now();
        await fleetReset(HOST);
        restarts++;
        console.log(`h3 went down; booted again in ${Date.now() - t0} ms (restart ${restarts})`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  afterAll(async () => {
    watching = false;
    if (fleetAvailable() && !fleetHostRunning(HOST)) await fleetReset(HOST);
  });

  it('both reboot, measure it, go on over a new connection, and wait for sshd to come back', async () => {
    watching = true;
    const supervisor = superviseHost();
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h3' });
    watching = false;
    await supervisor;
    const fields = ['changed', 'failed', 'skipped', 'rebooted'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(11);
    expect(theirs['reboot']).toEqual({ changed: true, failed: undefined, skipped: undefined, rebooted: true });
    expect(theirs['wait_for_connection times out']).toMatchObject({ failed: true });
    expect(pick(run.ours, fields), run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    // Each tool rebooted h3 once.
    expect(restarts).toBe(2);
    // What a playbook reads of reboot's result: Ansible documents `rebooted` (bool) and `elapsed` (int), always.
    const typesOf = (r: Record<string, unknown> | undefined): Record<string, string> =>
      Object.fromEntries(['rebooted', 'elapsed'].map((k) => [k, Number.isInteger(r?.[k]) ? 'int' : typeof r?.[k]]));
    for (const r of [run.ours, run.theirs]) {
      expect(typesOf(r['reboot'])).toEqual({ rebooted: 'boolean', elapsed: 'int' });
      expect(r['reboot']!['elapsed']).toBeGreaterThanOrEqual(1);
      expect(r['reboot']!['elapsed']).toBeLessThan(150);
      expect(r['reboot in check mode']).toMatchObject({ changed: true, rebooted: true, elapsed: 0 });
      expect(r['wait_for_connection times out']!['msg']).toMatch(/^timed out waiting for ping module test: /);
      expect(r['wait_for_connection times out']!['elapsed']).toBeGreaterThanOrEqual(3);
      // Stopped SSHD_DOWN_S seconds, of which the task before spent about 3.
      const waited = r['wait for the connection while sshd is stopped']!['elapsed'];
      expect(waited).toBeGreaterThanOrEqual(1);
      expect(waited).toBeLessThan(SSHD_DOWN_S + 5);
      expect(r['wait_for_connection in check mode']).toMatchObject({ skipped: true });
    }
  }, 480_000);
});
