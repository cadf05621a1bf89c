import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { installControllerPackages } from '../fleet/web-server.js';
import { counts, pick, runBoth } from '../support/module-parity.js';
import { requireProgram } from '../support/tools.js';

/**
 * Modules vncplay does not implement, run from the controller's installed collections (and ansible-core's own
 * modules folder) by both tools on a fleet host: community.general.make (the short name `make` too, redirected),
 * community.crypto.openssl_dhparam, ansible.builtin.apt_key with a key gpg makes for the run (from a file and as
 * data), community.general.nagios against a FIFO the play reads and against a plain file (its failure), a module
 * (openssl_dhparam again, chosen by a templated `action:`), and community.mysql.mysql_db on a host without PyMySQL (its failure): check mode,
 * a re-run (idempotence) and the registered fields compared. The play starts by removing what an earlier run made,
 * so both tools start from the same state.
 */
const HOST = 1;
const DIR = '/srv/vp-colls';
/** The tasks of vncplay's own modules that set the stage (and clear it, so each tool starts from nothing). */
const SETUP_TASKS = ['start clean', 'folder', 'makefile', 'the key as a file', 'end clean'];

/** An armored public key and its fingerprint, made by the controller's gpg in a throwaway home. */
function testKey(): { armored: string; fingerprint: string } {
  const gpg = requireProgram('gpg');
  const home = mkdtempSync(path.join(tmpdir(), 'vncplay-gpg-'));
  try {
    const run = (args: string[]): string => {
      const res = spawnSync(gpg, ['--homedir', home, '--batch', ...args], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${res.stderr}`);
      return res.stdout;
    };
    run(['--passphrase', '', '--quick-gen-key', 'vncplay test <vncplay-test@example.invalid>', 'rsa2048', 'sign', 'never']);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(run(['--with-colons', '--list-keys']))?.[1];
    if (fingerprint === undefined) throw new Error('gpg listed no fingerprint');
    return { armored: run(['--armor', '--export']), fingerprint };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function playbook(key: { armored: string; fingerprint: string }): string {
  const indented = key.armored.trimEnd().split('\n').map((l) => `          ${l}`).join('\n');
  return `
- hosts: h${HOST}
  gather_facts: false
  vars:
    key_text: |
${indented}
    picked: community.crypto.openssl_dhparam
  tasks:
    - name: start clean
      file: {path: ${DIR}, state: absent}
    - name: folder
      file: {path: ${DIR}, state: directory}
    - name: makefile
      copy:
        dest: ${DIR}/Makefile
        content: "all: out.txt\\nout.txt:\\n\\techo built > out.txt\\nclean:\\n\\trm -f out.txt\\n"
    - name: the key as a file
      copy: {dest: ${DIR}/key.asc, content: "{{ key_text }}"}
    - name: make in check mode
      community.general.make: {chdir: ${DIR}}
      check_mode: true
    - name: make
      community.general.make: {chdir: ${DIR}}
      register: made
    - name: make again
      community.general.make: {chdir: ${DIR}}
    - name: what make left
      command: cat ${DIR}/out.txt
      changed_when: false
    - name: make clean by its short name
      make: {chdir: ${DIR}, target: clean}
    - name: dhparam in check mode
      community.crypto.openssl_dhparam: {path: ${DIR}/dh.pem, size: 512}
      check_mode: true
    - name: dhparam
      community.crypto.openssl_dhparam: {path: ${DIR}/dh.pem, size: 512, select_crypto_backend: openssl}
    - name: dhparam again
      community.crypto.openssl_dhparam: {path: ${DIR}/dh.pem, size: 512}
    - name: a templated module name
      action: "{{ picked }} path=${DIR}/dh.pem size=512"
    - name: apt_key from a file in check mode
      ansible.builtin.apt_key: {file: ${DIR}/key.asc, keyring: ${DIR}/test.gpg}
      check_mode: true
    - name: apt_key from a file
      ansible.builtin.apt_key: {file: ${DIR}/key.asc, keyring: ${DIR}/test.gpg}
    - name: apt_key as data again
      apt_key: {data: "{{ key_text }}", keyring: ${DIR}/test.gpg}
    - name: apt_key removed
      apt_key: {id: ${key.fingerprint}, keyring: ${DIR}/test.gpg, state: absent}
    - name: nagios into a plain file
      community.general.nagios: {action: silence_nagios, cmdfile: ${DIR}/Makefile}
      ignore_errors: true
    - name: nagios command fifo
      command: mkfifo ${DIR}/nagios.cmd
    - name: a reader for the fifo
      shell: setsid sh -c 'timeout 120 cat ${DIR}/nagios.cmd > ${DIR}/nagios.log' < /dev/null > /dev/null 2>&1 &
    - name: nagios in check mode
      community.general.nagios: {action: silence_nagios, cmdfile: ${DIR}/nagios.cmd}
      check_mode: true
    - name: nagios
      community.general.nagios: {action: silence_nagios, cmdfile: ${DIR}/nagios.cmd}
      register: silenced
    - name: mysql_db without PyMySQL
      community.mysql.mysql_db: {name: vp, state: present}
      ignore_errors: true
    - name: end clean
      file: {path: ${DIR}, state: absent}
`;
}

describe.skipIf(!fleetAvailable())('collection modules: parity with ansible-playbook on a fleet host', () => {
  let removeMake: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    // The fleet image has no make; the controller's, repacked.
    removeMake = await installControllerPackages(HOST, ['make']);
  }, 300_000);
  afterAll(async () => {
    if (!fleetAvailable()) return;
    await hostExec(HOST, ['rm', '-rf', DIR]);
    await removeMake?.();
  }, 300_000);

  it('run, check, re-run and fail the same', async () => {
    const key = testKey();
    const text = playbook(key);
    const run = await runBoth(text, { inventory: { file: fleetInventoryIni() }, host: `h${HOST}` });
    const names = [...text.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    expect(Object.keys(run.ours), run.oursOutput.slice(-4000)).toEqual(names);
    const fields = ['changed', 'failed', 'skipped', 'msg', 'rc', 'stdout', 'command', 'target', 'size', 'filename', 'id', 'fp', 'short_id', 'key_id', 'before', 'after', 'cmdfile', 'nagios_commands'];
    // nagios stamps each command with the time it wrote it.
    const unstamped = (r: Record<string, Record<string, unknown>>) => JSON.parse(JSON.stringify(pick(r, fields)).replace(/\[\d{10}\]/g, '[T]')) as Record<string, Record<string, unknown>>;
    const theirs = unstamped(run.theirs);
    const ours = unstamped(run.ours);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['make in check mode']).toMatchObject({ changed: true });
    expect(theirs['make']).toMatchObject({ changed: true, command: "/usr/bin/gmake ''" });
    expect(theirs['make again']).toMatchObject({ changed: false });
    expect(theirs['make clean by its short name']).toMatchObject({ changed: true, target: 'clean' });
    expect(theirs['what make left']).toMatchObject({ stdout: 'built' });
    expect(theirs['dhparam in check mode']).toMatchObject({ changed: true, size: 512 });
    expect(theirs['dhparam again']).toMatchObject({ changed: false, size: 512 });
    expect(theirs['a templated module name']).toMatchObject({ changed: false, size: 512 });
    // apt_key reads a key's long id (the fingerprint's last 16 digits) from the file.
    expect(theirs['apt_key from a file in check mode']).toMatchObject({ changed: true, fp: key.fingerprint.slice(-16) });
    expect(theirs['apt_key from a file']).toMatchObject({ changed: true, fp: key.fingerprint.slice(-16) });
    expect(theirs['apt_key as data again']).toMatchObject({ changed: false });
    expect(theirs['apt_key removed']).toMatchObject({ changed: true });
    expect(theirs['nagios into a plain file']).toMatchObject({ failed: true, msg: 'nagios command file is not a fifo file', cmdfile: `${DIR}/Makefile` });
    // nagios does not support check mode: AnsibleModule skips it.
    expect(theirs['nagios in check mode']).toMatchObject({ changed: false, skipped: true });
    expect(theirs['nagios']).toMatchObject({ changed: true, nagios_commands: ['[T] DISABLE_NOTIFICATIONS'] });
    expect(theirs['mysql_db without PyMySQL']).toMatchObject({ failed: true, msg: expect.stringMatching(/^A MySQL module is required/) });
    // vncplay's own file and copy register fields of their own (msg, size of a folder): the setup tasks compare by outcome.
    for (const name of SETUP_TASKS) {
      for (const r of [theirs[name]!, ours[name]!]) for (const k of Object.keys(r)) if (k !== 'changed' && k !== 'failed') delete r[k];
    }
    expect(ours).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});
