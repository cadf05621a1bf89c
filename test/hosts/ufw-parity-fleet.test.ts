import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetInventoryIni, fleetReset, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * community.general.ufw side by side with ansible-playbook on fleet host h2's real ufw (installed, disabled): rules
 * added, again, with a comment and a source, in check mode (new and existing), deleted, inserted at a position;
 * default policy and logging changed and put back; ufw enabled (SSH allowed first), check-mode disable, then reset.
 * (The module's own argument checks, which vncplay makes when it loads the playbook, are in test/pure/ufw.test.ts.)
 * Each run ends as it began (ufw off, no rules, Debian's default policy and logging), so both tools start alike.
 */
const HOST = 2;

const playbook = (h1: string): string => `
- hosts: h2
  gather_facts: false
  become: true
  tasks:
    - name: allow ssh
      ufw: {rule: allow, port: "22", proto: tcp}
    - name: allow ssh again
      ufw: {rule: allow, port: "22", proto: tcp}
    - name: vnc from h1
      community.general.ufw: {rule: allow, src: ${h1}, port: "5901", proto: tcp, comment: vnc from h1}
    - name: check mode, a new rule
      ufw: {rule: deny, port: "5902", proto: tcp}
      check_mode: true
    - name: check mode, an existing rule
      ufw: {rule: allow, src: ${h1}, port: "5901", proto: tcp, comment: vnc from h1}
      check_mode: true
    - name: default reject
      ufw: {default: reject, direction: incoming}
    - name: default reject again
      ufw: {policy: reject, direction: incoming}
    - name: enabled
      ufw: {state: enabled}
    - name: enabled again
      ufw: {state: enabled}
    - name: check mode, disabled
      ufw: {state: disabled}
      check_mode: true
    - name: logging medium
      ufw: {logging: medium}
    - name: logging medium again
      ufw: {logging: medium}
    - name: insert first
      ufw: {rule: deny, port: "5999", proto: tcp, insert: 1}
    - name: the rules
      command: ufw status numbered
      register: rules
      changed_when: false
    - name: delete vnc rule
      ufw: {rule: allow, src: ${h1}, port: "5901", proto: tcp, comment: vnc from h1, delete: true}
    - name: delete vnc rule again
      ufw: {rule: allow, src: ${h1}, port: "5901", proto: tcp, comment: vnc from h1, delete: true}
    - name: default back
      ufw: {default: deny, direction: incoming}
    - name: logging back
      ufw: {logging: low}
    - name: reset
      ufw: {state: reset}
`;

describe.skipIf(!fleetAvailable())('ufw: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    // reset leaves dated backups of the rules in /etc/ufw: a clean root again.
    if (fleetAvailable()) await fleetReset(HOST);
  });

  it('changes the same, says the same (ufw status verbose), and ends where it began', async () => {
    const before = await hostExecOk(HOST, ['ufw', 'status', 'verbose']);
    const h1 = fleetHosts()[0]!.address;
    const run = await runBoth(playbook(h1), { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const fields = ['changed', 'failed', 'msg', 'stdout'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(19);
    // What Ansible did, spelled out, so a change on either side shows here. `default` while ufw is off: Ansible
    // compares `ufw status verbose` before and after, which shows no policy until ufw runs, so it says unchanged.
    const changedFlags = Object.fromEntries(Object.entries(theirs).map(([name, r]) => [name, r['changed']]));
    expect(changedFlags).toMatchObject({
      'allow ssh': true, 'allow ssh again': false, 'vnc from h1': true, 'check mode, a new rule': true, 'check mode, an existing rule': false,
      'default reject': false, 'default reject again': false, enabled: true, 'enabled again': false, 'check mode, disabled': true,
      'logging medium': true, 'logging medium again': false, 'insert first': true, 'delete vnc rule': true, 'delete vnc rule again': false, reset: true,
    });
    expect(theirs['the rules']!['stdout']).toMatch(/\[ 1\] 5999\/tcp +DENY IN +Anywhere/);
    expect(theirs['the rules']!['stdout']).toMatch(new RegExp(`5901/tcp +ALLOW IN +${h1.replace(/\./g, '\\.')} +# vnc from h1`));
    expect(theirs['enabled again']!['msg']).toMatch(/^Status: active\nLogging: on \(low\)\nDefault: reject \(incoming\)/);
    const ours = pick(run.ours, fields);
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(HOST, ['ufw', 'status', 'verbose'])).toBe(before);
  });
});
