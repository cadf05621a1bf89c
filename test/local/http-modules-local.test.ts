import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServers, WEB_FILES, WEB_PASSWORD, WEB_USER, type WebServers } from '../fleet/web-server.js';
import { requireProgram } from '../support/tools.js';
import { vncplay } from '../support/cli-helpers.js';
import { writeProject } from '../support/module-parity.js';

/**
 * What the parity run cannot show, on a local play against servers on 127.0.0.1: get_url's ca_path (Ansible 2.14's
 * get_url has none), tmp_dest, request headers as the server saw them, a password that never reaches the output,
 * and --check.
 */
describe('get_url and uri on a local play', () => {
  let web: WebServers;
  beforeAll(async () => {
    requireProgram('curl');
    web = await startWebServers('127.0.0.1');
  });
  afterAll(async () => {
    await web?.close();
  });

  it('trusts a CA given in ca_path, downloads through tmp_dest, sends headers and hides the password', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vp-http-local-'));
    const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: tmp folder
      file: {path: ${dir}/tmp, state: directory}
    - name: https with our CA
      get_url: {url: "${web.https}/files/big.txt", dest: ${dir}/big.txt, ca_path: ${dir}/ca.pem, tmp_dest: ${dir}/tmp, headers: {X-Vp: from-get-url}}
      register: got
    - name: a missing tmp_dest
      get_url: {url: "${web.http}/files/a.txt", dest: ${dir}/a.txt, tmp_dest: ${dir}/nope}
      ignore_errors: true
    - name: uri with a password
      uri: {url: "${web.http}/auth/a.txt", user: ${WEB_USER}, password: ${WEB_PASSWORD}, force_basic_auth: true, return_content: true}
      register: auth
    - name: no temp files left
      command: find ${dir}/tmp -mindepth 1
      register: left
`;
    writeProject({ 'ca.pem': web.caPem }, dir);
    const project = writeProject({ 'pb.yml': playbook, 'inventory.ini': 'localhost ansible_connection=local\n' });
    const run = await vncplay(['-i', 'inventory.ini', 'pb.yml', '--json'], { cwd: project });
    const results = Object.fromEntries(run.events.flatMap((e) => (e.type === 'task_result' ? [[e.task.name, e]] : [])));
    expect(run.code, run.stdout.slice(-4000)).toBe(0);
    expect(results['https with our CA']!.result).toMatchObject({ changed: true, status_code: 200, size: 70000, dest: `${dir}/big.txt` });
    expect(readFileSync(path.join(dir, 'big.txt'), 'utf8')).toBe(WEB_FILES['big.txt']);
    expect(statSync(path.join(dir, 'big.txt')).mode & 0o777).toBe(0o644);
    expect(web.requests.find((r) => r.url === '/files/big.txt')!.headers['x-vp']).toBe('from-get-url');
    expect(results['a missing tmp_dest']!.result?.['failed']).toBe(true);
    expect(String(results['a missing tmp_dest']!.result?.['msg'])).toContain(`${dir}/nope`);
    expect(results['uri with a password']!.result).toMatchObject({ status: 200, content: WEB_FILES['a.txt'] });
    expect(results['no temp files left']!.result?.['stdout']).toBe('');
    expect(run.stdout).not.toContain(WEB_PASSWORD);
  });

  it('changes nothing under --check (a HEAD request, as Ansible makes)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vp-http-local-'));
    const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: download
      get_url: {url: "${web.http}/files/a.txt", dest: ${dir}/a.txt}
`;
    const project = writeProject({ 'pb.yml': playbook, 'inventory.ini': 'localhost ansible_connection=local\n' });
    const run = await vncplay(['-i', 'inventory.ini', 'pb.yml', '--json', '--check'], { cwd: project });
    const results = Object.fromEntries(run.events.flatMap((e) => (e.type === 'task_result' ? [[e.task.name, e]] : [])));
    expect(results['download']!.result).toMatchObject({ changed: true, checksum_src: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', checksum_dest: null });
    expect(() => statSync(path.join(dir, 'a.txt'))).toThrow();
    expect(web.requests.at(-1)).toMatchObject({ method: 'HEAD', url: '/files/a.txt' });
  });
});
