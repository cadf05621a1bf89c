import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * Modules shipped as files (a role's library/ with its module_utils/, the playbook's library/) run by both tools on
 * a fleet host: an AnsiballZ Python module with check mode and diff, one without check mode, one that fails, a
 * WANT_JSON and an old-style shell module, and a module with a syntax error. One run of each tool.
 */
const HOST = 1;
const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'library');

function fixtureFiles(dir = FIXTURE, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) Object.assign(out, fixtureFiles(full, `${prefix}${entry}/`));
    else if (entry !== 'pb.yml') out[`${prefix}${entry}`] = readFileSync(full, 'utf8');
  }
  return out;
}

const playbook = readFileSync(path.join(FIXTURE, 'pb.yml'), 'utf8').replace(/hosts: h1/, `hosts: h${HOST}`);

describe.skipIf(!fleetAvailable())('library/ modules: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await hostExec(HOST, ['rm', '-f', '/srv/vp-lib-file']);
  });

  it('runs, checks, fails and registers the same', async () => {
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: `h${HOST}`, files: fixtureFiles() });
    const names = [...playbook.matchAll(/- name: (.*)/g)].map((m) => m[1]);
    expect(Object.keys(run.theirs).length, run.theirsOutput.slice(-4000)).toBe(names.length + 8);
    const fields = ['changed', 'failed', 'skipped', 'msg', 'path', 'state', 'size', 'word', 'code', 'greeting', 'check', 'color', 'shape', 'diff', 'ansible_facts', 'vp_state_path'];
    const theirs = pick(run.theirs, fields);
    const ours = pick(run.ours, fields);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['vp_lib : write a file']).toMatchObject({ changed: true, size: 4, ansible_facts: { vp_state_path: '/srv/vp-lib-file' } });
    expect(theirs['vp_lib : change it in check mode']).toMatchObject({ changed: true, diff: { before: 'one\n', after: 'two\n' } });
    expect(theirs['vp_lib : a module without check mode, in check mode']).toMatchObject({ skipped: true, msg: 'remote module (vp_nocheck) does not support check mode' });
    expect(theirs['vp_lib : a module that fails']).toMatchObject({ failed: true, msg: 'refused: testing', code: 42 });
    expect(theirs['vp_lib : a WANT_JSON module']).toMatchObject({ greeting: 'hello world', check: 'False' });
    expect(theirs['vp_lib : an old-style module']).toMatchObject({ color: 'blue', shape: 'round square' });
    // AnsibleModule's `invocation` is shown, not registered.
    expect(theirs["what a module's result registers"]!['msg']).toEqual(['ansible_facts', 'changed', 'diff', 'failed', 'gid', 'group', 'mode', 'owner', 'path', 'size', 'state', 'uid']);
    // A syntax error: Ansible's message, and vncplay's also says where in the module.
    const bad = 'a module with a syntax error';
    expect(theirs[bad]).toMatchObject({ failed: true, msg: 'Unable to import vp_bad due to invalid syntax' });
    expect(ours[bad]!['msg']).toMatch(/library\/vp_bad\.py:4:10: error\[E_LIBRARY_SYNTAX\]: Unable to import vp_bad due to invalid syntax/);
    delete theirs[bad];
    delete ours[bad];
    // Deviation: vncplay registers a diff as a list of before/after pairs, where the module returned one pair.
    for (const r of Object.values(ours)) if (Array.isArray(r['diff']) && r['diff'].length === 1) r['diff'] = r['diff'][0];
    expect(ours).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 300_000);
});
