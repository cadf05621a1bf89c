import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * community.general.ini_file side by side with ansible-playbook (Debian's collection): a new file, options set,
 * changed, commented-out options taken over, several values, no_extra_spaces, allow_no_value, an option and a
 * section removed, check mode; the same changed/msg and the same file after every step.
 */
const playbookFor = (host: string, dir: string): string => `
- hosts: ${host}
  gather_facts: false
  tasks:
    - name: start
      shell: rm -rf ${dir} && mkdir -p ${dir} && printf 'top=1\\n[vnc]\\n# geometry = 800x600\\ndepth=16\\n\\n[other]\\nx=1' > ${dir}/app.ini
    - name: new file
      ini_file: {path: ${dir}/new/created.ini, section: main, option: a, value: "1"}
    - name: same again
      ini_file: {path: ${dir}/new/created.ini, section: main, option: a, value: "1"}
    - name: value changed
      community.general.ini_file: {path: ${dir}/app.ini, section: vnc, option: depth, value: "24"}
    - name: commented option taken over
      ini_file: {dest: ${dir}/app.ini, section: vnc, option: geometry, value: 1024x768}
    - name: option added to a section
      ini_file: {path: ${dir}/app.ini, section: vnc, option: localhost, value: "no", no_extra_spaces: true}
    - name: before the first section
      ini_file: {path: ${dir}/app.ini, option: top, value: "2"}
    - name: several values
      ini_file: {path: ${dir}/app.ini, section: other, option: listen, values: [a, b]}
    - name: several values again
      ini_file: {path: ${dir}/app.ini, section: other, option: listen, values: [b, a]}
    - name: option without value
      ini_file: {path: ${dir}/app.ini, section: other, option: flag, allow_no_value: true}
    - name: new section
      ini_file: {path: ${dir}/app.ini, section: added, option: k, value: v, mode: '0640'}
    - name: only a section
      ini_file: {path: ${dir}/app.ini, section: empty, allow_no_value: true}
    - name: check mode
      ini_file: {path: ${dir}/app.ini, section: vnc, option: depth, value: "8"}
      check_mode: true
    - name: option removed
      ini_file: {path: ${dir}/app.ini, section: other, option: x, state: absent}
    - name: option removed again
      ini_file: {path: ${dir}/app.ini, section: other, option: x, state: absent}
    - name: section removed
      ini_file: {path: ${dir}/app.ini, section: empty, state: absent}
    - name: no create
      ini_file: {path: ${dir}/none.ini, section: s, option: o, value: v, create: false}
      ignore_errors: true
    - name: contents
      shell: cat ${dir}/app.ini; echo ---; cat ${dir}/new/created.ini; stat -c '%a' ${dir}/app.ini
      register: contents
      changed_when: false
    - name: clean up
      file: {path: ${dir}, state: absent}
`;

async function compare(run: ParityRun): Promise<void> {
  const fields = ['changed', 'failed', 'msg', 'stdout'];
  const theirs = pick(run.theirs, fields);
  expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(19);
  const ours = pick(run.ours, fields);
  for (const name of ['start', 'contents', 'clean up']) for (const side of [ours, theirs]) delete side[name]!['msg'];
  expect(String(ours['no create']!['msg'])).toContain(String(theirs['no create']!['msg']));
  ours['no create'] = { ...theirs['no create']! };
  expect(ours, run.oursOutput.slice(-5000)).toEqual(theirs);
  expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
}

const fleetDir = '/srv/vp-ini-parity';

describe.skipIf(!fleetAvailable())('ini_file: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(1, ['rm', '-rf', fleetDir]);
  });
  it('edits the same way, with the same changed, msg and files', async () => {
    await compare(await runBoth(playbookFor('h1', fleetDir), { inventory: { file: fleetInventoryIni() }, host: 'h1' }));
  });
});

describe('ini_file: parity with ansible-playbook on a local play', () => {
  it('edits the same way, with the same changed, msg and files', async () => {
    const local = mkdtempSync(path.join(tmpdir(), 'vp-ini-parity-'));
    const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
    await compare(await runBoth(playbookFor('localhost', path.join(local, 'files')), { inventory, host: 'localhost' }));
  });
});
