import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestedFilename } from '../../src/modules/apt-repository.js';
import { attachHost, buildRepo, detachHost, hostPackageState, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * apt_repository side by side with ansible-playbook on a fleet host, against the real deb repository the tests build
 * and serve (test/fleet/deb-repo.ts): the host's own source is removed, so apt installs the test package only
 * through the line apt_repository adds. One playbook, run by each tool from the same state (it removes what it made).
 */
const HOST = 1;
const PARTS = '/etc/apt/sources.list.d';

function playbook(url: string, missingUrl: string): string {
  const line = `deb [trusted=yes] ${url} ./`;
  const file = `${PARTS}/${suggestedFilename(line, undefined)}`;
  return `
- hosts: h${HOST}
  gather_facts: false
  tasks:
    - name: add the repository
      apt_repository: {repo: '${line}'}
    - name: add it again
      apt_repository: {repo: '${line}'}
    - name: an empty package cache, so that apt downloads under both tools
      command: apt-get clean
      changed_when: false
    - name: install from it
      apt: {name: vp-base}
    - name: the new sources file
      shell: stat -c '%a %U' ${file}; cat ${file}
      changed_when: false
    - name: a custom file in check mode
      apt_repository: {repo: 'deb ${url} vp main', filename: vp-custom}
      check_mode: true
    - name: a disabled copy
      copy: {dest: ${PARTS}/vp-off.list, content: "#keep me\\n#deb-src [trusted=yes] ${url} ./   # off\\n\\n"}
    - name: enable the disabled copy
      apt_repository: {repo: 'deb-src [trusted=yes] ${url} ./', update_cache: false}
    - name: a custom file and mode
      apt_repository: {repo: 'deb ${url} vp main', filename: vp-custom, mode: '0600', update-cache: no}
    - name: the files
      shell: cd ${PARTS} && stat -c '%a %n' vp-off.list vp-custom.list && cat vp-off.list vp-custom.list
      changed_when: false
    - name: remove the deb-src line
      apt_repository: {repo: 'deb-src [trusted=yes] ${url} ./', state: absent, update_cache: false}
    - name: remove the custom line
      apt_repository: {repo: 'deb ${url} vp main', state: absent, update_cache: false}
    - name: remove the package
      apt: {name: vp-base, state: absent, purge: true}
    - name: remove the repository
      apt_repository: {repo: '${line}', state: absent}
    - name: remove it again
      apt_repository: {repo: '${line}', state: absent}
    - name: a repository apt cannot fetch
      apt_repository: {repo: 'deb [trusted=yes] ${missingUrl} ./', update_cache_retries: 1}
      ignore_errors: true
    - name: an invalid line
      apt_repository: {repo: '${url} ./'}
      ignore_errors: true
    - name: the files after
      shell: cat ${PARTS}/vp-off.list; rm -f ${PARTS}/vp-off.list; ls ${PARTS}
      changed_when: false
`;
}

describe.skipIf(!fleetAvailable())('apt_repository: parity with ansible-playbook on a fleet host', () => {
  let repo: ServedRepo | undefined;

  beforeAll(async () => {
    repo = await serveRepo(await buildRepo());
    // python3-apt (Ansible's apt_repository needs it) comes from the repo; then the repo's own list goes, so only
    // the line under test can make apt find the test packages.
    await attachHost(HOST, repo, { ansibleDeps: true });
    await hostExecOk(HOST, ['sh', '-c', `rm -f ${PARTS}/vncplay-test.list && apt-get update -q >/dev/null`], { timeoutMs: 120_000 });
  }, 240_000);

  afterAll(async () => {
    if (!fleetAvailable()) return;
    await hostExec(HOST, ['sh', '-c', `rm -f ${PARTS}/vp-*.list ${PARTS}/198_18_*.list`]);
    await detachHost(HOST, { ansibleDeps: true });
    await repo?.close();
  }, 120_000);

  it('adds, enables, removes and names files as Ansible does, and apt installs through the line it adds', async () => {
    const url = repo!.url;
    const pb = playbook(url, `${url}missing/`);
    const run = await runBoth(pb, { inventory: { file: fleetInventoryIni() }, host: `h${HOST}` });
    const names = [...pb.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-4000)).toEqual(names);
    expect(Object.keys(run.ours), run.oursOutput.slice(-4000)).toEqual(names);
    const fields = ['changed', 'failed', 'repo', 'state', 'stdout'];
    const theirs = pick(run.theirs, fields);
    // What Ansible did, spelled out, so a change on either side shows here.
    const file = suggestedFilename(`deb [trusted=yes] ${url} ./`, undefined);
    expect(theirs['the new sources file']!['stdout']).toBe(`644 root\ndeb [trusted=yes] ${url} ./`);
    expect(theirs['the files']!['stdout']).toBe(`644 vp-off.list\n600 vp-custom.list\n# keep me\ndeb-src [trusted=yes] ${url} ./ # off\n\ndeb ${url} vp main`);
    expect(theirs['the files after']!['stdout']).toBe('# keep me');
    expect(run.theirs['install from it']!['changed']).toBe(true);
    expect(String(run.theirs['a repository apt cannot fetch']!['msg'])).toMatch(/^Failed to update apt cache: /);
    expect(run.theirs['an invalid line']!['msg']).toBe(`Invalid repository string: ${url} ./`);
    // apt's download line says how fast it was: not a difference between the tools.
    const withoutSpeed = (results: typeof theirs): typeof theirs =>
      JSON.parse(JSON.stringify(results).replace(/ \(\d+(?:\.\d+)? [kM]?B\/s\)/g, '')) as typeof theirs;
    expect(withoutSpeed(pick(run.ours, fields))).toEqual(withoutSpeed(theirs));
    expect(String(run.ours['a repository apt cannot fetch']!['msg'])).toMatch(/Failed to update apt cache: /);
    expect(run.ours['an invalid line']!['msg']).toContain(`Invalid repository string: ${url} ./`);
    expect(run.ours['add the repository']).toMatchObject({ sources_added: [`${PARTS}/${file}`], sources_removed: [] });
    expect(run.ours['remove the repository']).toMatchObject({ sources_added: [], sources_removed: [`${PARTS}/${file}`] });
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostPackageState(HOST, 'vp-base')).toBe('un');
  }, 400_000);
});
