import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachHost, buildRepo, detachHost, hostDebs, purgePackages, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { counts, pick, runBoth, writeProject } from '../support/module-parity.js';

/**
 * cron side by side with ansible-playbook on a fleet host with the real cron package (installed for the test from
 * Debian's .debs through the test repository: the host image has no crontab program, which Ansible's cron module
 * requires): root's and another user's crontab, and a file in /etc/cron.d. Then each tool re-runs what the other
 * wrote, which must change nothing: the `#Ansible: NAME` lines are the same.
 */
const HOST = 2;
const CRON_DEBS = ['cron', 'cron-daemon-common', 'sensible-utils'];

const WRITE_TASKS = `
    - name: job in root's crontab
      cron: {name: backup, minute: '5', hour: '2', job: /usr/local/bin/backup}
    - name: variable on top
      cron: {name: MAILTO, env: true, job: ''}
    - name: variable after another
      cron: {name: PATH, env: yes, value: /usr/bin:/bin, insertafter: MAILTO}
    - name: a job for another user
      cron: {name: hello, user: vncplay, job: echo hi, special_time: reboot}
    - name: a cron file
      cron: {name: vp, cron_file: vp-test, user: root, job: date, minute: '*/10'}`;

const playbook = `
- hosts: h${HOST}
  gather_facts: false
  tasks:${WRITE_TASKS}
    - name: the job again
      cron: {name: backup, minute: '5', hour: '2', job: /usr/local/bin/backup}
    - name: change the job, disabled, weekly, with a backup
      cron: {name: backup, special_time: weekly, job: /usr/local/bin/backup, disabled: true, backup: true}
      register: changed_job
    - name: another user's job in check mode
      cron: {name: hello2, user: vncplay, job: echo hi}
      check_mode: true
    - name: a variable before a missing one
      cron: {name: X, env: true, job: '1', insertbefore: NOPE}
      ignore_errors: true
    - name: the crontabs
      shell: crontab -l; echo ---; crontab -u vncplay -l; echo ---; cat /etc/cron.d/vp-test; stat -c %a /etc/cron.d/vp-test; cat {{ changed_job.backup_file }}
      changed_when: false
    - name: remove the job
      cron: {name: backup, state: absent}
    - name: remove a variable
      cron: {name: PATH, env: true, state: absent}
    - name: remove the other user's job
      cron: {name: hello, user: vncplay, state: absent}
    - name: remove the cron file's job
      cron: {name: vp, cron_file: vp-test, state: absent}
    - name: remove it again
      cron: {name: vp, cron_file: vp-test, state: absent}
    - name: package facts, auto
      # Not cron's: this host has python3-rpm and no python3-apt, so Ansible's auto reads the rpm database; vncplay's
      # auto must pick the same manager (apt's dpkg would list hundreds of packages).
      package_facts:
    - name: the crontabs after
      shell: crontab -l; echo ---; crontab -u vncplay -l; ls /etc/cron.d; rm {{ changed_job.backup_file }}; crontab -r; crontab -u vncplay -r
      changed_when: false
`;

/** What the other tool wrote, run again: nothing changes. */
const rerun = `
- hosts: h${HOST}
  gather_facts: false
  tasks:${WRITE_TASKS}
`;

async function cleanup(): Promise<void> {
  await hostExec(HOST, ['sh', '-c', 'rm -f /etc/cron.d/vp-test /tmp/crontab*; crontab -r; crontab -u vncplay -r; true']);
}

describe.skipIf(!fleetAvailable())('cron: parity with ansible-playbook on a fleet host', () => {
  let repo: ServedRepo | undefined;
  let installed: string[] = [];

  beforeAll(async () => {
    repo = await serveRepo(await buildRepo([], [], await hostDebs(CRON_DEBS)));
    await attachHost(HOST, repo);
    // Only what the host lacked is purged afterwards.
    const known = await hostExec(HOST, ['dpkg-query', '-W', '-f=${Package} ${db:Status-Abbrev}\n', ...CRON_DEBS]);
    installed = CRON_DEBS.filter((p) => !new RegExp(`^${p} ii`, 'm').test(known.stdout));
    await hostExecOk(HOST, ['sh', '-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cron >/dev/null'], { timeoutMs: 120_000 });
  }, 240_000);

  afterAll(async () => {
    if (!fleetAvailable()) return;
    await cleanup();
    if (installed.length) await purgePackages(HOST, installed);
    await hostExec(HOST, ['rm', '-rf', '/var/spool/cron']);
    await detachHost(HOST);
    await repo?.close();
  }, 120_000);

  it('writes the same crontabs and cron files, registers the same fields, and manages what the other wrote', async () => {
    await cleanup();
    const inventory = { file: fleetInventoryIni() };
    const run = await runBoth(playbook, { inventory, host: `h${HOST}` });
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    const fields = ['changed', 'failed', 'jobs', 'envs', 'cron_file', 'state', 'stdout', 'msg', 'ansible_facts'];
    const theirs = pick(run.theirs, fields);
    for (const r of Object.values(theirs)) if (!r['failed']) delete r['msg'];
    // What Ansible wrote, spelled out, so a change on either side shows here.
    expect(theirs['the crontabs']!['stdout']).toBe(
      'MAILTO=""\nPATH="/usr/bin:/bin"\n#Ansible: backup\n#@weekly /usr/local/bin/backup\n---\n#Ansible: hello\n@reboot echo hi\n---\n' +
        '#Ansible: vp\n*/10 * * * * root date\n644\nMAILTO=""\nPATH="/usr/bin:/bin"\n#Ansible: backup\n5 2 * * * /usr/local/bin/backup',
    );
    expect(theirs['a variable before a missing one']).toMatchObject({ failed: true, msg: "Variable named 'NOPE' not found." });
    expect(String(run.theirs['change the job, disabled, weekly, with a backup']!['backup_file'])).toMatch(/^\/tmp\/crontab/);
    const ours = pick(run.ours, fields);
    for (const r of Object.values(ours)) if (!r['failed']) delete r['msg'];
    // vncplay's failure carries its code and a hint around Ansible's words.
    const missing = 'a variable before a missing one';
    expect(ours[missing]!['msg']).toContain(theirs[missing]!['msg']);
    ours[missing]!['msg'] = theirs[missing]!['msg'];
    expect(ours).toEqual(theirs);
    expect(String(run.ours['change the job, disabled, weekly, with a backup']!['backup_file'])).toMatch(/^\/tmp\/crontab/);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));

    // Ansible writes, vncplay re-runs (runBoth runs Ansible first, on the same host); then the other way round.
    await cleanup();
    const ansibleFirst = await runBoth(rerun, { inventory, host: `h${HOST}` });
    expect(counts(ansibleFirst.theirsRecap)).toMatchObject({ changed: 5, failed: 0 });
    expect(counts(ansibleFirst.oursRecap)).toMatchObject({ changed: 0, failed: 0 });
    await cleanup();
    const pb = path.join(writeProject({ 'pb.yml': rerun }), 'pb.yml');
    const oursFirst = await vncplay(['-i', inventory.file, pb]);
    expect(counts(oursFirst.recap[`h${HOST}`]), oursFirst.stdout).toMatchObject({ changed: 5, failed: 0 });
    const theirsAfter = await ansiblePlaybook(['-i', inventory.file, pb]);
    expect(theirsAfter.stdout).toMatch(new RegExp(`h${HOST}\\s+: ok=5\\s+changed=0\\s+unreachable=0\\s+failed=0`));
  }, 400_000);
});
