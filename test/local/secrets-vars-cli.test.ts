import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vncplay } from '../support/cli-helpers.js';

/**
 * Passwords that are secrets by their variable's name (ansible_password, ansible_become_password and their
 * aliases), from the inventory, -e and play vars, through the real CLI on a local host: the first task prints
 * them before any connection is opened, and `other` is a host the run never contacts.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-secret-vars-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CANARIES = {
  connection: 'conn-canary-P1x',
  become: 'become-canary-B1x',
  otherHost: 'other-canary-O1x',
  templated: 'tpl-canary-T1x',
  extra: 'extra-canary-E1x',
  playVar: 'play-canary-V1x',
  numeric: '90817263',
  taskVar: 'taskvar-canary-R1x',
  setFact: 'setfact-canary-S1x',
};

function leaks(text: string): string[] {
  return Object.values(CANARIES).filter((c) => text.includes(c));
}

describe('secret-bearing variables are secrets from the run start', () => {
  writeFileSync(
    path.join(dir, 'inv.yml'),
    `all:
  hosts:
    local1:
      ansible_connection: local
      ansible_password: ${CANARIES.connection}
      ansible_become_pass: ${CANARIES.become}
      ansible_sudo_pass: ${CANARIES.numeric}
    other:
      ansible_host: 198.18.0.250
      ansible_ssh_pass: ${CANARIES.otherHost}
      pw_base: tpl-canary
      ansible_ssh_password: "{{ pw_base }}-T1x"
`,
  );
  writeFileSync(
    path.join(dir, 'play.yml'),
    `- hosts: local1
  gather_facts: false
  vars:
    become_pass: ${CANARIES.playVar}
  tasks:
    - debug: var=ansible_password
    - debug: var=ansible_become_pass
    - debug: var=ansible_sudo_pass
    - debug:
        msg: "{{ hostvars['other'].ansible_ssh_pass }} {{ hostvars['other'].ansible_ssh_password }}"
    - debug: var=ansible_become_password
    - debug: var=become_pass
    - name: a secret as a mapping key
      debug:
        msg: "{{ {ansible_password: 'is the key'} }}"
    - name: a task var
      debug: var=ansible_ssh_password
      vars:
        ansible_ssh_password: ${CANARIES.taskVar}
    - name: a password set as a fact, shown by set_fact itself and then by debug
      set_fact:
        become_password: ${CANARIES.setFact}
    - debug: var=become_password
`,
  );

  for (const mode of ['--json', 'plain'] as const) {
    it(`inventory, hostvars of another host, -e and play vars, ${mode} and --metrics-file: zero canaries`, async () => {
      const metrics = path.join(dir, `metrics-${mode}.prom`);
      const args = ['play.yml', '-i', 'inv.yml', '-e', `ansible_become_password=${CANARIES.extra}`, '-vvv', '--metrics-file', metrics];
      const r = await vncplay(mode === '--json' ? [...args, '--json'] : args, { cwd: dir, env: { NO_COLOR: '1' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.recap['local1']).toMatchObject({ ok: 10, failed: 0 });
      // The variables were printed, as marks.
      expect(r.stdout).toMatch(/"ansible_password": ?"\*\*\*\*\*\*\*\*"/);
      expect(r.stdout).toMatch(/"msg": ?"\*\*\*\*\*\*\*\* \*\*\*\*\*\*\*\*"/);
      expect(r.stdout).toMatch(/"\*\*\*\*\*\*\*\*": ?"is the key"/);
      expect(leaks(r.stdout + r.stderr + readFileSync(metrics, 'utf8'))).toEqual([]);
    });
  }
});
