import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachHost, buildRepo, hostDebs, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetHosts, fleetInventoryIni, fleetKey, fleetKnownHosts, fleetReset, hostExec, hostExecOk } from '../fleet/fleet.js';
import { repoRoot, rfbBanner, vncplay, writeVncInventory } from '../support/cli-helpers.js';
import { counts, pick, runBoth, type ParityRun } from '../support/module-parity.js';

/**
 * docker_container against a real Docker daemon (Debian's docker.io, installed into h3 from the local repository
 * for this file and gone with the host's reset afterwards) and an image built offline on the host from its own
 * TigerVNC (test/fleet/xvnc-image.sh): the same play under ansible-playbook (community.docker) and vncplay gives
 * the same ok/changed/failed per task and the same container fields; the container serves an RFB banner.
 */
const HOST = 3;
const IMAGE = 'vncplay/xvnc:test';
const ENGINE_DEBS = ['docker.io', 'containerd', 'runc', 'tini'];
/** community.docker's modules need python3-requests on the host (for the ansible-playbook side of the parity run). */
const ANSIBLE_DOCKER_DEBS = ['python3-requests', 'python3-certifi', 'python3-chardet', 'python3-charset-normalizer', 'python3-idna', 'python3-six', 'python3-urllib3'];

/** The container's command, written as a string (split as a shell would) in one task and as a list in another. */
const XVNC = '/usr/bin/Xtigervnc :1 -rfbport 5901 -SecurityTypes None -geometry 800x600';

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: clean slate
      docker_container: { name: vnc-a, state: absent }
    - name: create and start
      community.docker.docker_container:
        name: vnc-a
        image: ${IMAGE}
        command: ${XVNC}
        published_ports: ["5901:5901"]
        env: { VNC_TEST: "1" }
        restart_policy: unless-stopped
      register: r_create
    - name: the RFB banner answers
      wait_for: { port: 5901, search_regex: '^RFB 003', timeout: 20 }
    - name: the same again
      docker_container:
        name: vnc-a
        image: ${IMAGE}
        command: ${JSON.stringify(XVNC.split(' '))}
        ports: ["5901:5901"]
        env: { VNC_TEST: "1" }
      register: r_same
    - name: check mode, another env
      docker_container: { name: vnc-a, image: ${IMAGE}, env: { VNC_TEST: "2" } }
      check_mode: true
      register: r_check
    - name: restart
      docker_container: { name: vnc-a, image: ${IMAGE}, restart: true }
      register: r_restart
    - name: another command recreates
      docker_container:
        name: vnc-a
        image: ${IMAGE}
        command: ${XVNC.replace('800x600', '1024x768')}
        ports: ["5901:5901"]
      register: r_recreate
    - name: stop
      docker_container: { name: vnc-a, state: stopped }
      register: r_stop
    - name: stop again
      docker_container: { name: vnc-a, state: stopped }
      register: r_stop_again
    # docker create succeeds, docker start cannot run the command: failed, and (as Ansible's fail_json) not changed.
    - name: created but failing to start
      docker_container: { name: vnc-c, image: ${IMAGE}, command: /no/such/program }
      register: r_bad_start
      ignore_errors: true
    - name: remove the one that did not start
      docker_container: { name: vnc-c, state: absent }
      register: r_remove_bad
    # From a registry that refuses at once (Docker Hub would be a 20 s DNS timeout on the isolated hosts).
    - name: a missing image
      docker_container: { name: vnc-b, image: "127.0.0.1:1/vncplay/no-such-image:1" }
      register: r_missing
      ignore_errors: true
    - name: an unknown container, stopped, no image
      docker_container: { name: vnc-none, state: stopped }
      register: r_unknown
      ignore_errors: true
    - name: remove
      docker_container: { name: vnc-a, state: absent }
      register: r_remove
    - name: remove again
      docker_container: { name: vnc-a, state: absent }
      register: r_remove_again
`;

/** The registered fields playbooks read from `container`. */
function containerFields(results: ParityRun['ours']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [task, r] of Object.entries(results)) {
    const c = r['container'] as { State?: { Running?: boolean }; Config?: { Cmd?: unknown; Env?: string[] }; HostConfig?: { RestartPolicy?: { Name?: string } } } | undefined;
    if (!c) continue;
    // The docker CLI writes "no" for a container created without a policy, the Engine API (Ansible) leaves "".
    const restart = c.HostConfig?.RestartPolicy?.Name || 'no';
    out[task] = { running: c.State?.Running, cmd: c.Config?.Cmd, env: c.Config?.Env?.filter((e) => e.startsWith('VNC_')), restart };
  }
  return out;
}

describe.skipIf(!fleetAvailable())('docker_container on a real Docker daemon', () => {
  let repo: ServedRepo;
  const host = () => fleetHosts()[HOST - 1]!;

  beforeAll(async () => {
    // A clean root first: the published port 5901 must be free, and a test file that ran before on this fleet may
    // have left a VNC session on :1.
    await fleetReset(HOST);
    repo = await serveRepo(await buildRepo([], [], await hostDebs([...ENGINE_DEBS, ...ANSIBLE_DOCKER_DEBS])));
    await attachHost(HOST, repo);
    await installDocker();
    const script = await readFile(path.join(repoRoot, 'test/fleet/xvnc-image.sh'), 'utf8');
    await hostExecOk(HOST, ['sh', '-s', IMAGE], { stdin: script, timeoutMs: 120_000 });
  }, 300_000);

  afterAll(async () => {
    await repo?.close();
    await removeDocker();
    // The daemon, its images and the apt sources: a clean root again.
    await fleetReset(HOST);
  }, 120_000);

  async function installDocker(): Promise<void> {
    const script = [
      'set -e',
      // nspawn mounts the cgroup v1 controllers read-only: runc could not create a container's cgroups. Made
      // writable for this test only (the remount, like the host's root, is gone with the reset).
      'for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d"; done',
      // and /proc/sys read-only: dockerd sets forwarding and the bridge's sysctls.
      'mount --bind /proc/sys /proc/sys && mount -o remount,bind,rw /proc/sys',
      'mkdir -p /etc/docker',
      `printf '%s\\n' "$1" > /etc/docker/daemon.json`,
      `printf '%s\\n' "$2" > ${RUNC_WRAPPER} && chmod 755 ${RUNC_WRAPPER}`,
      `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${[...ENGINE_DEBS, ...ANSIBLE_DOCKER_DEBS].join(' ')} >/dev/null`,
      'systemctl restart docker',
      'docker info --format "{{.Driver}}"',
    ];
    await hostExecOk(HOST, ['sh', '-c', script.join('\n'), 'sh', DAEMON_JSON, RUNC_NO_KEYRING], { timeoutMs: 240_000 });
  }

  /** What the reset does not undo: the bridge lives in the host's network namespace, cgroups in the machine's tree. */
  async function removeDocker(): Promise<void> {
    const script = [
      'docker rm -f $(docker ps -aq) >/dev/null 2>&1',
      'systemctl stop docker.socket docker containerd >/dev/null 2>&1',
      'ip link delete docker0 2>/dev/null',
      'for d in /sys/fs/cgroup/*/docker; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done',
      'true',
    ];
    await hostExec(HOST, ['sh', '-c', script.join('\n')], { timeoutMs: 120_000 });
  }

  it('the same play as ansible-playbook: same changed/failed per task, same container fields, a banner', async () => {
    const run = await runBoth(PLAYBOOK, { inventory: { file: fleetInventoryIni() }, host: host().name, args: ['--limit', host().name] });
    const fields = ['changed', 'failed'];
    const theirs = pick(run.theirs, fields);
    expect(pick(run.ours, fields), run.oursOutput).toEqual(theirs);
    // Failed after a step ran (a pull that fails; a create, then a start that fails): not changed, as in Ansible.
    for (const task of ['a missing image', 'created but failing to start']) expect(theirs[task]).toEqual({ changed: false, failed: true });
    expect(theirs['remove the one that did not start']).toEqual({ changed: true, failed: undefined });
    expect(counts(run.oursRecap as Record<string, unknown>)).toEqual(counts(run.theirsRecap));
    expect(containerFields(run.ours)).toEqual(containerFields(run.theirs));
    expect(run.ours['create and start']!['changed']).toBe(true);
    expect(run.ours['the same again']!['changed']).toBe(false);
    expect(run.ours['a missing image']!['msg']).toMatch(/127\.0\.0\.1:1\/vncplay\/no-such-image:1/);
    expect(run.ours['an unknown container, stopped, no image']!['msg']).toMatch(/when image is not specified/);
    const recreated = run.ours['another command recreates']!['container'] as { Id: string };
    const created = run.ours['create and start']!['container'] as { Id: string };
    expect(recreated.Id).not.toBe(created.Id);
    const left = await hostExec(HOST, ['docker', 'ps', '-a', '--format', '{{.Names}}']);
    expect(left.stdout.trim()).toBe('');
  }, 300_000);

  it('restart.yml with vnc_manager docker restarts the container vnc-1 and waits for its banner', async () => {
    await hostExecOk(HOST, ['docker', 'run', '-d', '--name', 'vnc-1', '--restart', 'unless-stopped', '-p', '5901:5901', IMAGE, ...XVNC.split(' ')]);
    const startedAt = async () => (await hostExecOk(HOST, ['docker', 'inspect', '--format', '{{.State.StartedAt}}', 'vnc-1'])).trim();
    const before = await startedAt();
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-restart-docker-'));
    const inventory = await writeVncInventory(dir, [host()], { vnc_manager: 'docker' }, { key: fleetKey(), knownHosts: fleetKnownHosts() });
    const run = await vncplay(['playbooks/restart.yml', '-i', inventory]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.recap[host().name]).toMatchObject({ changed: 1, failed: 0 });
    const restarted = await startedAt();
    expect(restarted).not.toBe(before);
    expect(await rfbBanner(host().address, 5901)).toMatch(/^RFB 003\.00[38]\n/);
    // A container that is missing is refused at the pre-check, before anything is restarted.
    const missing = await vncplay(['playbooks/restart.yml', '-i', inventory, '-e', '{"vnc_displays": [1, 2]}']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toMatch(/Pre-check \| the containers exist[\s\S]*vnc-2/);
    expect(await startedAt()).toBe(restarted);
  }, 180_000);
});

/**
 * dockerd inside an nspawn host: overlay2 cannot stack on the host's overlayfs root, so vfs; no iptables rules, so
 * the host's network namespace (which outlives a reset) keeps its firewall as it was, and published ports go through
 * docker-proxy.
 */
const RUNC_WRAPPER = '/usr/local/sbin/runc-no-keyring';
const DAEMON_JSON = JSON.stringify({
  'storage-driver': 'vfs',
  iptables: false,
  runtimes: { 'runc-no-keyring': { path: RUNC_WRAPPER } },
  'default-runtime': 'runc-no-keyring',
});
/** runc with --no-new-keyring: nspawn's seccomp filter refuses keyctl, so a container's session keyring cannot be made. */
const RUNC_NO_KEYRING = [
  '#!/bin/sh',
  'for a; do shift; set -- "$@" "$a"; case $a in create|run) set -- "$@" --no-new-keyring;; esac; done',
  'exec /usr/sbin/runc "$@"',
].join('\n');
