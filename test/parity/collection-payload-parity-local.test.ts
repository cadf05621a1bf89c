import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectionModuleSearch } from '../../src/modules/library/collections.js';
import { controllerModuleUtils } from '../../src/modules/library/payload.js';
import { buildModuleZip, modulePythonName } from '../../src/modules/library/payload.js';
import { requireProgram } from '../support/tools.js';

/**
 * The AnsiballZ payload of a collection module (and of an ansible-core module vncplay lacks) is the one Ansible
 * builds: the same files, byte for byte, found by ansible-playbook's own run on localhost with
 * ANSIBLE_KEEP_REMOTE_FILES (an argument no module takes, or a missing required one, makes each module refuse at once: its payload ran).
 */
requireProgram('ansible-playbook');

/** The files of a zip (name → content), read by the controller's Python. */
function zipEntries(zip: Buffer): Record<string, string> {
  const res = spawnSync('python3', ['-c', 'import base64, io, json, sys, zipfile\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nprint(json.dumps({n: base64.b64encode(z.read(n)).decode() for n in z.namelist()}))'], { input: zip, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(res.stdout) as Record<string, string>;
}

/** The zip inside the AnsiballZ wrapper Ansible left in `tmp` for `fqcn`, and the module name its runpy call runs. */
function ansiblePayload(fqcn: string): { files: Record<string, string>; runs: string } {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vncplay-kept-'));
  try {
    const res = spawnSync(requireProgram('ansible'), ['localhost', '-m', fqcn, '-a', '_vncplay_no_such_argument=1'], {
      env: { ...process.env, ANSIBLE_KEEP_REMOTE_FILES: '1', ANSIBLE_REMOTE_TMP: tmp, ANSIBLE_NOCOLOR: '1' },
      encoding: 'utf8',
    });
    // The module refused its arguments: it ran, from the payload Ansible left behind.
    expect(res.stdout).toContain("localhost | FAILED!");
    const dir = readdirSync(tmp)[0]!;
    const wrapper = readFileSync(path.join(tmp, dir, readdirSync(path.join(tmp, dir)).find((f) => f.startsWith('AnsiballZ_'))!), 'utf8');
    const data = /ZIPDATA = """([\s\S]*?)"""/.exec(wrapper)?.[1] ?? '';
    const runs = /runpy\.run_module\(mod_name='([^']+)'/.exec(wrapper)?.[1] ?? '';
    return { files: zipEntries(Buffer.from(data, 'base64')), runs };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('collection modules: the payload is the one ansible-playbook builds', () => {
  const search = new CollectionModuleSearch({ collectionsPath: [], scanSysPath: true });
  it.each([
    'community.mysql.mysql_db',
    'community.crypto.openssl_dhparam',
    'community.general.make',
    'community.general.nagios',
    'community.postgresql.postgresql_db',
    'community.docker.docker_image',
    'ansible.builtin.apt_key',
  ])('%s', async (fqcn) => {
    const found = search.find(fqcn);
    if (found === undefined || !('file' in found)) throw new Error(`${fqcn} not found: ${JSON.stringify(found)}`);
    const pythonName = modulePythonName(found.file, fqcn.split('.').pop()!);
    const ours = zipEntries(Buffer.from(await buildModuleZip(found.file, pythonName, { moduleUtils: [], collections: search.roots() }, controllerModuleUtils()), 'base64'));
    const theirs = ansiblePayload(fqcn);
    expect(pythonName).toBe(theirs.runs);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs.files).sort());
    expect(ours).toEqual(theirs.files);
  }, 120_000);
});
