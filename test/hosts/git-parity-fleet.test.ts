import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { installControllerPackages, HOST_CURL_PACKAGES } from '../fleet/web-server.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * git side by side with ansible-playbook on fleet host h3, from a bare repository on the host (file://, commits with
 * fixed dates so both runs see the same ids): a clone of the default branch, again, check mode, a shallow clone of
 * a branch, an annotated tag switched to a branch, a second branch, local modifications (refused, then forced away),
 * update false, clone false, a bare clone, a new upstream commit pulled, and a repository URL that changed.
 * The host runs git (repacked from the controller for the test).
 */
const R = '/tmp/vp-git';
const COMMIT_ENV = 'GIT_AUTHOR_NAME=vp GIT_AUTHOR_EMAIL=vp@vp.invalid GIT_COMMITTER_NAME=vp GIT_COMMITTER_EMAIL=vp@vp.invalid GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z';
/** The origin: main (one, two), an annotated tag v1.0 on one, a branch feature on two. */
export const SETUP = `set -e
export ${COMMIT_ENV}
rm -rf ${R}; mkdir -p ${R}
git init -q --bare -b main ${R}/origin.git
git init -q -b main ${R}/work
cd ${R}/work
echo one > README; git add README; git commit -qm one; git tag -a v1.0 -m v1.0
echo two >> README; git commit -qam two
git checkout -qb feature; echo f > F; git add F; git commit -qm feature; git checkout -q main
git push -q ${R}/origin.git main feature v1.0
cp -a ${R}/origin.git ${R}/mirror.git
`;
const PLAYBOOK = `
- hosts: h3
  gather_facts: false
  tasks:
    - name: a clean start
      file: {path: "${R}/{{ item }}", state: absent}
      loop: [co1, co2, co3, co4, co5.git, co6]
    - name: clone
      git: {repo: ${R}/origin.git, dest: ${R}/co1}
    - name: clone again
      git: {repo: ${R}/origin.git, dest: ${R}/co1}
    - name: clone in check mode
      git: {repo: "file://${R}/origin.git", dest: ${R}/co2}
      check_mode: true
    - name: shallow branch
      git: {repo: ${R}/origin.git, dest: ${R}/co6, version: feature, depth: 1}
    - name: tag
      git: {repo: ${R}/origin.git, dest: ${R}/co2, version: v1.0}
    - name: tag to branch
      git: {repo: ${R}/origin.git, dest: ${R}/co2, version: main}
    - name: a second branch
      git: {repo: ${R}/origin.git, dest: ${R}/co3, version: feature}
    - name: local change
      shell: echo local >> ${R}/co1/README
    - name: local change refused
      git: {repo: ${R}/origin.git, dest: ${R}/co1}
      ignore_errors: true
    - name: local change forced away
      git: {repo: ${R}/origin.git, dest: ${R}/co1, force: true}
    - name: update false
      git: {repo: ${R}/origin.git, dest: ${R}/co1, update: false, version: v1.0}
    - name: clone false
      git: {repo: ${R}/origin.git, dest: ${R}/co4, clone: false}
    - name: bare
      git: {repo: ${R}/origin.git, dest: ${R}/co5.git, bare: true}
    - name: upstream commit
      shell: cd ${R}/work && ${COMMIT_ENV} git commit -q --allow-empty -m three && git push -q ../origin.git main
    - name: check mode sees it
      git: {repo: ${R}/origin.git, dest: ${R}/co1}
      check_mode: true
    - name: pull it
      git: {repo: ${R}/origin.git, dest: ${R}/co1}
    - name: another URL
      git: {repo: ${R}/mirror.git, dest: ${R}/co3, version: feature}
    - name: the checkouts
      shell: cd ${R} && git -C co1 log --format=%s -1 && cat co1/README && git -C co2 rev-parse --abbrev-ref HEAD && git -C co3 remote get-url origin && git -C co5.git rev-parse --is-bare-repository && git -C co6 rev-list --count HEAD && ls
      register: checkouts
      changed_when: false
    - name: a clean end
      shell: cd ${R} && rm -rf co1 co2 co3 co4 co5.git co6 && git -C origin.git update-ref refs/heads/main main~1 && git -C work reset -q --hard HEAD~1
`;

/** git, its manual and the libraries a fleet host lacks for it (curl's among them), from the controller. */
const HOST_GIT_PACKAGES = ['git', 'git-man', 'liberror-perl', 'libcurl3-gnutls', ...HOST_CURL_PACKAGES.filter((p) => p !== 'curl' && p !== 'libcurl4')];

describe.skipIf(!fleetAvailable())('git: parity with ansible-playbook on a fleet host', () => {
  let removeGit: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    removeGit = await installControllerPackages(3, HOST_GIT_PACKAGES);
  }, 180_000);
  afterAll(async () => {
    if (!fleetAvailable()) return;
    await hostExec(3, ['rm', '-rf', R]);
    await removeGit?.();
  }, 120_000);

  it('clones, switches, refuses and updates the same, with the same before/after', async () => {
    await hostExecOk(3, ['sh', '-c', SETUP]);
    const run = await runBoth(PLAYBOOK, { inventory: { file: fleetInventoryIni() }, host: 'h3' });
    const fields = ['changed', 'failed', 'msg', 'before', 'after', 'remote_url_changed', 'stdout'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(20);
    const ours = pick(run.ours, fields);
    for (const name of ['a clean start', 'local change', 'upstream commit', 'a clean end', 'the checkouts']) {
      delete theirs[name]!['msg'];
      delete ours[name]!['msg'];
    }
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(theirs['local change refused']!['msg']).toBe(`Local modifications exist in the destination: ${R}/co1 (force=no).`);
    expect(theirs['the checkouts']!['stdout']).toBe(`three\none\ntwo\nmain\nfile://${R}/mirror.git\ntrue\n1\nco1\nco2\nco3\nco5.git\nco6\nmirror.git\norigin.git\nwork`);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});
