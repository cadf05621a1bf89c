import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * assemble side by side with ansible-playbook on fleet host h2: fragments on the host (one without a final newline,
 * a hidden one), again, a delimiter with an escape, regexp and ignore_hidden, mode on the same content, a backup, a
 * missing source and a source that is a file. The assembled file is read after each change.
 */
const D = '/tmp/vp-asm';
export const assemblePlaybook = (host: string): string => `
- hosts: ${host}
  gather_facts: false
  tasks:
    - name: fragments
      shell: rm -rf ${D} && mkdir -p ${D}/frags && cd ${D}/frags && printf 'a\\n' > 10-a && printf 'b' > 20-b && printf 'c\\n' > 30-c && printf 'h\\n' > .hidden
    - name: assemble
      assemble: {src: ${D}/frags, dest: ${D}/out}
    - name: assemble again
      assemble: {src: ${D}/frags, dest: ${D}/out}
    - name: first result
      command: cat ${D}/out
      register: first
    - name: delimiter
      assemble: {src: ${D}/frags, dest: ${D}/out, delimiter: '### part\\t#'}
    - name: delimited result
      command: cat ${D}/out
    - name: regexp without hidden
      assemble: {src: ${D}/frags, dest: ${D}/out, regexp: '^[12]0-', ignore_hidden: true, backup: true}
    - name: mode only
      assemble: {src: ${D}/frags, dest: ${D}/out, regexp: '^[12]0-', ignore_hidden: true, mode: '0600'}
    - name: last result
      shell: cat ${D}/out; ls ${D} | grep -c '~$'
    - name: missing source
      assemble: {src: ${D}/nope, dest: ${D}/out2}
      ignore_errors: true
    - name: source is a file
      assemble: {src: ${D}/out, dest: ${D}/out2}
      ignore_errors: true
    - name: a clean end
      file: {path: ${D}, state: absent}
`;

describe.skipIf(!fleetAvailable())('assemble: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(2, ['rm', '-rf', D]);
  });

  it('assembles the same files and registers the same fields', async () => {
    const run = await runBoth(assemblePlaybook('h2'), { inventory: { file: fleetInventoryIni() }, host: 'h2' });
    const fields = ['changed', 'failed', 'checksum', 'md5sum', 'dest', 'src', 'size', 'mode', 'state', 'stdout'];
    // The file module's own result for the clean end is not what this test is about.
    const withoutEnd = (results: typeof run.theirs): typeof run.theirs => Object.fromEntries(Object.entries(results).filter(([name]) => name !== 'a clean end'));
    const theirs = pick(withoutEnd(run.theirs), fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(11);
    const ours = pick(withoutEnd(run.ours), fields);
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    for (const name of ['missing source', 'source is a file']) expect(String(run.ours[name]!['msg'])).toContain(String(run.theirs[name]!['msg']));
    expect(theirs['first result']!['stdout']).toBe('h\na\nb\nc');
    expect(theirs['last result']!['stdout']).toBe('a\nb1');
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});
