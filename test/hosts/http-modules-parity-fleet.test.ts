import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetBridgeAddress, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { HOST_CURL_PACKAGES, installControllerPackages, sha256, startWebServers, WEB_FILES, WEB_PASSWORD, WEB_USER, type WebServers } from '../fleet/web-server.js';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * get_url and uri side by side with ansible-playbook on fleet host h1 (one run of each tool), against HTTP and HTTPS
 * servers this test starts on the bridge. The host makes the requests (curl, repacked from the controller for the
 * test; Ansible uses python's urllib there).
 * get_url: a first download, If-Modified-Since (304), a checksum that keeps the file, mode on a kept file, forced
 * downloads with a backup, a checksum file, a wrong checksum, a folder dest through two redirects and through
 * Content-Disposition, an unknown CA, validate_certs false, Basic auth (challenged and forced), a 404, check mode.
 * uri: JSON responses, return_content, JSON/form/raw bodies, headers, redirects (safe, none, a POST under safe),
 * refused and accepted statuses, a CA in ca_path and an unknown one, Basic auth, dest (written, then 304), creates,
 * check mode, HEAD, a refused connection.
 */
const G = '/tmp/vp-geturl';
const U = '/tmp/vp-uri';
const CA = '/tmp/vp-http-ca.pem';
const playbook = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: a clean start
      file: {path: "{{ item }}", state: absent}
      loop: [${G}, ${U}]
    - name: folders
      file: {path: "{{ item }}", state: directory}
      loop: [${G}/sub, ${U}]
    - name: get_url fresh download
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/a.txt, mode: '0640'}
    - name: get_url not modified
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/a.txt}
    - name: get_url checksum keeps it
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/a.txt, checksum: "sha256:${sha256(WEB_FILES['a.txt']!)}"}
    - name: get_url attributes of a kept file
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/a.txt, checksum: "sha256:${sha256(WEB_FILES['a.txt']!).toUpperCase()}", mode: '0600'}
    - name: get_url forced same content
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/a.txt, force: true}
    - name: get_url forced new content with backup
      get_url: {url: "{{ base }}/files/b.txt", dest: ${G}/a.txt, force: true, backup: true}
    - name: get_url checksum file
      get_url: {url: "{{ base }}/files/b.txt", dest: ${G}/b.txt, checksum: "sha256:{{ base }}/sums"}
    - name: get_url wrong checksum
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/wrong.txt, checksum: "sha1:0000000000000000000000000000000000000000"}
      ignore_errors: true
    - name: get_url folder dest through redirects
      get_url: {url: "{{ base }}/redirect/a.txt", dest: ${G}/sub}
    - name: get_url folder dest named by the server
      get_url: {url: "{{ base }}/attach/b.txt", dest: ${G}/sub/}
    - name: get_url https unknown CA
      get_url: {url: "{{ sbase }}/files/big.txt", dest: ${G}/big2.txt}
      ignore_errors: true
    - name: get_url https unchecked
      get_url: {url: "{{ sbase }}/files/big.txt", dest: ${G}/big2.txt, validate_certs: false}
    - name: get_url basic auth
      get_url: {url: "{{ base }}/auth/a.txt", dest: ${G}/auth.txt, url_username: ${WEB_USER}, url_password: ${WEB_PASSWORD}}
    - name: get_url basic auth forced
      get_url: {url: "{{ base }}/auth/b.txt", dest: ${G}/auth2.txt, username: ${WEB_USER}, password: ${WEB_PASSWORD}, force_basic_auth: true}
    - name: get_url no credentials
      get_url: {url: "{{ base }}/auth/a.txt", dest: ${G}/auth3.txt}
      ignore_errors: true
    - name: get_url not found
      get_url: {url: "{{ base }}/files/nope.txt", dest: ${G}/nope.txt}
      ignore_errors: true
    - name: get_url check mode
      get_url: {url: "{{ base }}/files/a.txt", dest: ${G}/check.txt}
      check_mode: true
    - name: the files
      shell: cd ${G} && stat -c '%n %a %s' *.txt sub/* && cat a.txt && cat a.txt.*~ && ls | grep -c '~$'
      register: files
      changed_when: false
    - name: uri json
      uri: {url: "{{ base }}/json"}
    - name: uri return content
      uri: {url: "{{ base }}/files/a.txt", return_content: true}
    - name: uri json body
      uri: {url: "{{ base }}/echo", method: POST, body: {name: vp, items: [1, two], enabled: true}, body_format: json}
    - name: uri form body
      uri: {url: "{{ base }}/echo", method: POST, body: {name: "a b&c", list: [1, 2], flag: true, none: null}, body_format: form-urlencoded}
    - name: uri raw body and headers
      uri: {url: "{{ base }}/echo", method: PUT, body: "raw text", headers: {X-Vp: hello, Content-Type: text/x-vp}}
    - name: uri redirect followed
      uri: {url: "{{ base }}/redirect/a.txt", return_content: true}
    - name: uri redirect not followed
      uri: {url: "{{ base }}/redirect/a.txt", follow_redirects: none, status_code: [302]}
    - name: uri post is not redirected under safe
      uri: {url: "{{ base }}/redirect/a.txt", method: POST, body: x, status_code: 302}
    - name: uri refused status
      uri: {url: "{{ base }}/status/404"}
      ignore_errors: true
    - name: uri refused status with content
      uri: {url: "{{ base }}/status/500", return_content: true}
      ignore_errors: true
    - name: uri accepted status
      uri: {url: "{{ base }}/status/404", status_code: [200, 404]}
    - name: uri https with our CA
      uri: {url: "{{ sbase }}/json", ca_path: ${CA}}
    - name: uri https unknown CA
      uri: {url: "{{ sbase }}/json"}
      ignore_errors: true
    - name: uri basic auth
      uri: {url: "{{ base }}/auth/a.txt", url_username: ${WEB_USER}, url_password: ${WEB_PASSWORD}, return_content: true}
    - name: uri dest
      uri: {url: "{{ base }}/files/b.txt", dest: ${U}/u.txt, mode: '0600'}
    - name: uri dest not modified
      uri: {url: "{{ base }}/files/b.txt", dest: ${U}/u.txt, status_code: [200, 304]}
    - name: uri creates
      uri: {url: "{{ base }}/files/b.txt", creates: ${U}/u.txt}
    - name: uri check mode
      uri: {url: "{{ base }}/json"}
      check_mode: true
    - name: uri head
      uri: {url: "{{ base }}/files/b.txt", method: HEAD}
    - name: uri connection refused
      uri: {url: "http://${fleetBridgeAddress()}:9/", timeout: 5}
      ignore_errors: true
    - name: a clean end
      file: {path: "{{ item }}", state: absent}
      loop: [${G}, ${U}]
`;

/** The tasks of one module, by name, without the helpers around them. */
function tasksOf(results: ParityRun['theirs'], module: 'get_url' | 'uri'): ParityRun['theirs'] {
  return Object.fromEntries(Object.entries(results).filter(([name]) => name.startsWith(`${module} `)));
}

/** The error texts of urllib and curl differ; the failure and its kind do not. Checks both, then makes them equal. */
function sameFailure(theirs: Record<string, unknown>, ours: Record<string, unknown>, theirsText: RegExp, oursText: RegExp): void {
  expect(String(theirs['msg'])).toMatch(theirsText);
  expect(String(ours['msg'])).toMatch(oursText);
  theirs['msg'] = ours['msg'];
}

describe.skipIf(!fleetAvailable())('get_url and uri: parity with ansible-playbook on a fleet host', () => {
  let web: WebServers;
  let removeCurl: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    web = await startWebServers();
    removeCurl = await installControllerPackages(1, HOST_CURL_PACKAGES);
  }, 180_000);
  afterAll(async () => {
    await web?.close();
    if (!fleetAvailable()) return;
    await hostExec(1, ['rm', '-rf', G, U, CA]);
    await removeCurl?.();
  }, 120_000);

  it('downloads, requests, keeps and refuses the same, with the same registered fields', async () => {
    await hostExec(1, ['rm', '-rf', G, U]);
    await hostExecOk(1, ['sh', '-c', 'cat > "$1"', 'sh', CA], { stdin: web.caPem });
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h1', args: ['-e', `base=${web.http}`, '-e', `sbase=${web.https}`] });
    expect(Object.keys(run.theirs), run.theirsOutput.slice(-4000)).toHaveLength(41);

    const getUrlFields = ['changed', 'failed', 'msg', 'status_code', 'checksum_src', 'checksum_dest', 'dest', 'url', 'size', 'mode', 'owner', 'group', 'state', 'md5sum', 'uid', 'gid'];
    const theirsGet = pick(tasksOf(run.theirs, 'get_url'), getUrlFields);
    const oursGet = pick(tasksOf(run.ours, 'get_url'), getUrlFields);
    sameFailure(theirsGet['get_url https unknown CA']!, oursGet['get_url https unknown CA']!, /^Request failed: .*CERTIFICATE_VERIFY_FAILED/, /^Request failed: SSL certificate problem/);
    expect(oursGet, run.oursOutput.slice(-6000)).toEqual(theirsGet);
    expect(theirsGet['get_url not modified']!['msg']).toBe('HTTP Error 304: Not Modified');
    expect(theirsGet['get_url attributes of a kept file']!['msg']).toBe('file already exists but file attributes changed');
    expect(theirsGet['get_url folder dest named by the server']!['dest']).toBe(`${G}/sub/renamed-b.txt`);
    expect(String(run.ours['get_url forced new content with backup']!['backup_file'])).toMatch(new RegExp(`^${G}/a\\.txt\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    expect(run.ours['the files']!['stdout']).toBe(run.theirs['the files']!['stdout']);
    expect(run.ours['the files']!['stdout']).toBe(
      'a.txt 600 12\nauth.txt 644 6\nauth2.txt 644 12\nb.txt 644 12\nbig2.txt 644 70000\nsub/a.txt 644 6\nsub/renamed-b.txt 644 12\nbravo bravo\nalpha\n1',
    );

    const uriFields = [
      'changed', 'failed', 'skipped', 'msg', 'status', 'url', 'redirected', 'json', 'content', 'content_type', 'content_length', 'location',
      'last_modified', 'x_vp_echo', 'x_vp_status', 'set_cookie', 'cookies', 'cookies_string', 'path', 'mode', 'stdout',
    ];
    const theirsUri = pick(tasksOf(run.theirs, 'uri'), uriFields);
    const oursUri = pick(tasksOf(run.ours, 'uri'), uriFields);
    sameFailure(theirsUri['uri https unknown CA']!, oursUri['uri https unknown CA']!, /^Status code was -1 and not \[200\]: Request failed: .*CERTIFICATE_VERIFY_FAILED/, /^Status code was -1 and not \[200\]: Request failed: SSL certificate problem/);
    sameFailure(theirsUri['uri connection refused']!, oursUri['uri connection refused']!, /^Status code was -1 and not \[200\]: Request failed: .*Connection refused/, /^Status code was -1 and not \[200\]: Request failed: .*Couldn't connect/);
    // Skipped in check mode by both; the reason is worded by each runner.
    sameFailure(theirsUri['uri check mode']!, oursUri['uri check mode']!, /^remote module \(ansible.legacy.uri\) does not support check mode$/, /check mode/);
    expect(oursUri, run.oursOutput.slice(-6000)).toEqual(theirsUri);
    expect(theirsUri['uri json body']!['json']).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'ansible-httpget' }, body: '{"name": "vp", "items": [1, "two"], "enabled": true}' });
    expect((theirsUri['uri form body']!['json'] as { body: string }).body).toBe('name=a+b%26c&list=1&list=2&flag=True');
    expect(theirsUri['uri redirect not followed']!['location']).toBe(`${web.http}/redirect2/a.txt`);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
  }, 400_000);
});
