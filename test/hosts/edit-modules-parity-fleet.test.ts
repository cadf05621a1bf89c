import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * replace and blockinfile side by side with ansible-playbook on fleet host h1: the same edits of the same files
 * (each run starts from the files a copy task writes), the same changed/msg/rc/backup, the same file contents
 * after every step, a link edited through its target, and check mode changing nothing.
 */
const playbookFor = (host: string, dir: string): string => `
- hosts: ${host}
  gather_facts: false
  tasks:
    - name: start
      shell: rm -rf ${dir} && mkdir -p ${dir} && printf '# head\\nport=5900\\nhost=a\\n[sect]\\nport=5901\\nname=\\303\\251\\n' > ${dir}/f.conf && printf 'a\\nb\\n' > ${dir}/target && ln -s target ${dir}/link
    - name: replace everywhere
      replace: {path: ${dir}/f.conf, regexp: '^port=(\\d+)$', replace: 'port=\\1\\1'}
    - name: replace again
      replace: {path: ${dir}/f.conf, regexp: '^port=(\\d{4})$', replace: 'port=\\1\\1'}
    - name: replace after a section, with a backup
      replace: {path: ${dir}/f.conf, regexp: '^port=(\\d+)$', replace: 'port=1', after: '\\[sect\\]', backup: true}
    - name: replace between after and before
      replace: {path: ${dir}/f.conf, regexp: 'a', replace: 'b', after: '# head', before: '\\[sect\\]'}
    - name: replace with a section that does not match
      replace: {path: ${dir}/f.conf, regexp: 'a', before: 'NOPE'}
    - name: replace named group, utf-8, mode
      replace: {path: ${dir}/f.conf, regexp: '(?P<k>name)=é', replace: '\\g<k>=e', mode: '0600'}
    - name: replace in check mode
      replace: {path: ${dir}/f.conf, regexp: 'port', replace: 'PORT'}
      check_mode: true
    - name: replace through a link
      replace: {path: ${dir}/link, regexp: '^b$', replace: 'c'}
    - name: replace a missing file
      replace: {path: ${dir}/nope, regexp: a}
      ignore_errors: true
    - name: block at the end
      blockinfile: {path: ${dir}/f.conf, block: "x=1\\ny=2"}
    - name: block again
      blockinfile: {path: ${dir}/f.conf, block: "x=1\\ny=2"}
    - name: block updated
      blockinfile: {path: ${dir}/f.conf, block: "x=3"}
    - name: second block after a line
      blockinfile: {path: ${dir}/f.conf, block: "z=9", marker: "; {mark} second", insertafter: '^host='}
    - name: third block before a line, custom marks
      blockinfile: {path: ${dir}/f.conf, content: "w=0", marker: "## {mark}", marker_begin: start, marker_end: stop, insertbefore: '^\\[sect\\]'}
    - name: block at the beginning of a new file
      blockinfile: {path: ${dir}/new/created.conf, block: "only", create: true, insertbefore: BOF}
    - name: block removed
      blockinfile: {path: ${dir}/f.conf, marker: "; {mark} second", state: absent}
    - name: block removed again
      blockinfile: {path: ${dir}/f.conf, marker: "; {mark} second", state: absent}
    - name: block in check mode
      blockinfile: {path: ${dir}/f.conf, block: "never"}
      check_mode: true
    - name: block on a missing file
      blockinfile: {path: ${dir}/nope, block: x}
      ignore_errors: true
    - name: contents
      shell: cat ${dir}/f.conf; echo ---; cat ${dir}/target; echo ---; cat ${dir}/new/created.conf; stat -c '%a %F' ${dir}/f.conf ${dir}/link; ls ${dir} | grep -c '~$'
      register: contents
      changed_when: false
    - name: clean up
      file: {path: ${dir}, state: absent}
`;

const dir = '/srv/vp-edit-parity';

async function compare(run: ParityRun): Promise<void> {
    const theirs = pick(run.theirs, ['changed', 'failed', 'msg', 'rc', 'stdout']);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toHaveLength(22);
    expect(theirs['contents']!['stdout']).toBe(
      ['# head', 'port=59005900', 'host=b', '## start', 'w=0', '## stop', '[sect]', 'port=1', 'name=e',
        '# BEGIN ANSIBLE MANAGED BLOCK', 'x=3', '# END ANSIBLE MANAGED BLOCK', '---', 'a', 'c', '---', '# BEGIN ANSIBLE MANAGED BLOCK', 'only',
        '# END ANSIBLE MANAGED BLOCK', '600 regular file', '777 symbolic link', '1'].join('\n'),
    );
    const ours = pick(run.ours, ['changed', 'failed', 'msg', 'rc', 'stdout']);
    // A failure's message: vncplay's carries its error code and a hint; Ansible's rc 257 is not set.
    for (const name of ['replace a missing file', 'block on a missing file']) {
      expect(String(ours[name]!['msg'])).toContain(String(theirs[name]!['msg']));
      ours[name] = { ...theirs[name]! };
    }
    // shell's and file's msg are not what this test is about (vncplay's file says what it did).
    for (const name of ['start', 'contents', 'clean up']) for (const side of [ours, theirs]) delete side[name]!['msg'];
    expect(ours, run.oursOutput.slice(-5000)).toEqual(theirs);
  expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
}

describe.skipIf(!fleetAvailable())('replace and blockinfile: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(1, ['rm', '-rf', dir]);
  });

  it('edits the same way, with the same changed, msg, rc and files', async () => {
    await compare(await runBoth(playbookFor('h1', dir), { inventory: { file: fleetInventoryIni() }, host: 'h1' }));
  });
});

describe('replace and blockinfile: parity with ansible-playbook on a local play', () => {
  it('edits the same way, with the same changed, msg, rc and files', async () => {
    const local = mkdtempSync(path.join(tmpdir(), 'vp-edit-parity-'));
    const inventory = { text: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' };
    await compare(await runBoth(playbookFor('localhost', path.join(local, 'files')), { inventory, host: 'localhost' }));
  });
});
