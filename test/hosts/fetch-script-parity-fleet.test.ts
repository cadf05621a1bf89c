import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * fetch and script side by side with ansible-playbook on a fleet host: one playbook, run by each tool from the same
 * state (it removes what it made, on the host and on the controller). Ansible runs a script over `ssh -tt`: its
 * stderr arrives in stdout and lines end in CRLF, so the scripts here write to stdout only and the comparison reads
 * stdout_lines.
 */
const HOST = 3;

const files = {
  'files/args.sh': '#!/bin/sh\nfor a in "$@"; do echo "arg: $a"; done\npwd\nid -un\n',
  'files/mk.sh': '#!/bin/sh\ntouch "$1" && echo made "$1"\n',
  'files/fail.sh': '#!/bin/sh\necho failing\nexit 3\n',
  'files/hello.py': 'import sys\nprint("hello from", sys.version_info[0])\n',
};

const playbook = `
- hosts: h${HOST}
  gather_facts: false
  tasks:
    - name: a script with arguments
      script: args.sh "one two" three
    - name: a script in a folder
      script: {cmd: args.sh x, chdir: /srv}
    - name: a script that creates a file
      script: {cmd: mk.sh /srv/vp-script-made, creates: /srv/vp-script-made}
    - name: the file exists now
      script: {cmd: mk.sh /srv/vp-script-made, creates: /srv/vp-script-made}
    - name: a file to remove is missing
      script: fail.sh
      args: {removes: /srv/vp-nothing}
    - name: a script run by an executable
      script: {cmd: hello.py, executable: python3}
    - name: a script in check mode
      script: args.sh
      check_mode: true
    - name: a script in check mode with creates
      script: {cmd: args.sh, creates: /srv/vp-nothing}
      check_mode: true
    - name: a failing script
      script: fail.sh
      ignore_errors: true
    - name: no copy is left on the host
      shell: ls -d /tmp/vncplay-script-* 2>/dev/null | wc -l; rm /srv/vp-script-made
    - name: fetch a file
      fetch: {src: /etc/hostname, dest: fetched}
    - name: fetch it again
      fetch: {src: /etc/hostname, dest: fetched}
    - name: fetch flat into a folder
      fetch: {src: /etc/hostname, dest: fetched/flat/, flat: true}
    - name: fetch flat onto a folder
      fetch: {src: /etc/os-release, dest: fetched/flat, flat: true}
      ignore_errors: true
    - name: fetch a missing file
      fetch: {src: /etc/vp-missing, dest: fetched}
      ignore_errors: true
    - name: fetch a missing file without failing
      fetch: {src: /etc/vp-missing, dest: fetched, fail_on_missing: false}
    - name: fetch a folder
      fetch: {src: /etc/ssh, dest: fetched, fail_on_missing: false}
    - name: fetch in check mode
      fetch: {src: /etc/os-release, dest: fetched}
      check_mode: true
    - name: the fetched files
      shell: cd {{ playbook_dir }}/fetched && find . -type f | sort && cat h${HOST}/etc/hostname
      delegate_to: localhost
      become: false
      changed_when: false
    - name: remove the fetched files
      file: {path: "{{ playbook_dir }}/fetched", state: absent}
      delegate_to: localhost
      become: false
`;

describe.skipIf(!fleetAvailable())('fetch and script: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(HOST, ['sh', '-c', 'rm -rf /srv/vp-script-made /tmp/vncplay-script-*']);
  });

  it('run, skip, fail and fetch the same, and register the same fields', async () => {
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: `h${HOST}`, files });
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    const fields = ['changed', 'failed', 'skipped', 'msg', 'rc', 'stdout_lines', 'dest', 'file', 'checksum', 'md5sum', 'remote_checksum', 'remote_md5sum'];
    const theirs = pick(run.theirs, fields);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['a script with arguments']).toMatchObject({ changed: true, rc: 0, stdout_lines: ['arg: one two', 'arg: three', expect.stringMatching(/^\//), 'root'] });
    expect(theirs['the file exists now']).toMatchObject({ skipped: true, msg: '/srv/vp-script-made exists, matching creates option' });
    expect(theirs['a script in check mode']).toMatchObject({ skipped: true, msg: 'Check mode is not supported for this task.' });
    expect(theirs['fetch a file']).toMatchObject({ changed: true, dest: `${run.dir}/fetched/h${HOST}/etc/hostname`, remote_md5sum: null });
    expect(theirs['fetch a folder']).toMatchObject({ changed: false, file: '/etc/ssh', msg: 'remote file is a directory, fetch cannot work on directories' });
    expect(theirs['the fetched files']!['stdout_lines']).toEqual(['./flat/hostname', `./h${HOST}/etc/hostname`, `h${HOST}`]);
    // The shell and file tasks are not under test: Ansible's shell says msg "", vncplay's file says what it removed.
    const ours = pick(run.ours, fields);
    for (const r of [theirs, ours]) for (const name of ['no copy is left on the host', 'the fetched files', 'remove the fetched files']) delete r[name]!['msg'];
    expect(ours).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 300_000);
});
