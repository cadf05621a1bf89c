import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachHost, buildRepo, detachHost, serveRepo, type ServedRepo } from '../fleet/deb-repo.js';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, hostExec, hostExecOk } from '../fleet/fleet.js';
import { ansiblePlaybook, vncplay, writeVncInventory, type CliRun } from '../support/cli-helpers.js';

/**
 * The facts roles read (setup's distribution/pkg_mgr/interfaces/selinux, package_facts, service_facts) on a real
 * fleet host, side by side with ansible-playbook's. python3-apt comes from the test repository: Ansible's
 * package_facts needs it, vncplay's does not.
 */
const HOST = 2;
const RESULTS = '/tmp/vncplay-facts-results.json';

const PLAYBOOK = `
- hosts: vnc
  gather_facts: true
  tasks:
    - name: package facts
      # The hosts have rpm and python3-rpm too (the dnf tests): with python3-apt as well, Ansible 2.14's auto reads apt or
      # rpm at random (its managers are a set of classes); cron-parity-fleet compares auto where only python3-rpm is there.
      package_facts: { manager: apt }
    - name: service facts
      service_facts:
    - name: collect
      copy:
        dest: ${RESULTS}
        content: >-
          {{ {
          'distribution': ansible_distribution,
          'distribution_version': ansible_distribution_version,
          'distribution_major_version': ansible_distribution_major_version,
          'distribution_minor_version': ansible_distribution_minor_version,
          'distribution_release': ansible_distribution_release,
          'os_family': ansible_os_family,
          'namespaced': ansible_facts.os_family,
          'pkg_mgr': ansible_pkg_mgr,
          'service_mgr': ansible_service_mgr,
          'selinux': ansible_selinux,
          'interfaces': ansible_interfaces,
          'eth0': ansible_eth0,
          'lo': ansible_lo,
          'default_ipv4': ansible_default_ipv4,
          'default_ipv6': ansible_default_ipv6,
          'all_ipv4_addresses': ansible_all_ipv4_addresses,
          'all_ipv6_addresses': ansible_all_ipv6_addresses,
          'packages': ansible_facts.packages,
          'packages_var': packages['openssh-server'],
          'services': ansible_facts.services,
          'facts_kept': ansible_facts.distribution
          } | to_json }}
`;

type Facts = Record<string, unknown>;

/** Drops the keys of a dict. */
function without(v: unknown, keys: string[]): unknown {
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !keys.includes(k)));
}

describe.skipIf(!fleetAvailable())('facts on the fleet, against ansible-playbook', () => {
  let dir: string;
  let repo: ServedRepo;
  const runs: Record<string, { run: CliRun; facts: Facts }> = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-facts-fleet-'));
    repo = await serveRepo(await buildRepo([]));
    await attachHost(HOST, repo, { ansibleDeps: true });
    const host = fleetHosts().find((h) => h.index === HOST)!;
    const inventory = await writeVncInventory(
      dir,
      [host],
      { ansible_python_interpreter: '/usr/bin/python3', ansible_ssh_common_args: `-o UserKnownHostsFile=${fleetKnownHosts()} -o StrictHostKeyChecking=yes` },
      { key: fleetKey(), knownHosts: fleetKnownHosts() },
    );
    const playbook = path.join(dir, 'facts.yml');
    await writeFile(playbook, PLAYBOOK);
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const r = await run(['-i', inventory, playbook], { cwd: dir });
      const written = await hostExec(HOST, ['cat', RESULTS]);
      if (written.code !== 0) throw new Error(`${tool} did not get to the end:\n${r.stdout}\n${r.stderr}`);
      runs[tool] = { run: r, facts: JSON.parse(written.stdout) as Facts };
      await hostExecOk(HOST, ['rm', '-f', RESULTS]);
    }
  }, 300_000);

  afterAll(async () => {
    await hostExec(HOST, ['rm', '-f', RESULTS]);
    await detachHost(HOST, { ansibleDeps: true });
    await repo?.close();
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('runs with the same recap', () => {
    expect(runs['ansible']!.run.code, runs['ansible']!.run.stdout).toBe(0);
    expect(runs['vncplay']!.run.code, runs['vncplay']!.run.stdout + runs['vncplay']!.run.stderr).toBe(0);
    expect(runs['vncplay']!.run.recap).toEqual(runs['ansible']!.run.recap);
  });

  it('gathers the same distribution, family, managers, selinux and addresses', () => {
    const ours = runs['vncplay']!.facts;
    const theirs = runs['ansible']!.facts;
    for (const k of [
      'distribution', 'distribution_version', 'distribution_major_version', 'distribution_minor_version', 'distribution_release',
      'os_family', 'namespaced', 'pkg_mgr', 'service_mgr', 'selinux', 'default_ipv6', 'all_ipv4_addresses', 'all_ipv6_addresses', 'facts_kept',
    ]) {
      expect({ [k]: ours[k] }).toEqual({ [k]: theirs[k] });
    }
    expect(ours['pkg_mgr']).toBe('apt');
    // Ansible reads macaddress, mtu, speed and the interface list from /sys/class/net, which inside an nspawn host
    // shows the controller's network namespace (its eth0 has the controller's MAC). Everything ip(8) says is equal.
    const ipOnly = ['macaddress', 'mtu', 'speed', 'pciid', 'promisc', 'module'];
    expect(without(ours['eth0'], ipOnly)).toEqual(without(theirs['eth0'], ipOnly));
    expect(without(ours['lo'], ipOnly)).toEqual(without(theirs['lo'], ipOnly));
    expect(without(ours['default_ipv4'], ipOnly)).toEqual(without(theirs['default_ipv4'], ipOnly));
    expect(ours['interfaces']).toEqual(expect.arrayContaining(['lo', 'eth0']));
    expect(theirs['interfaces']).toEqual(expect.arrayContaining(ours['interfaces'] as string[]));
  });

  it("says the host's own MAC and MTU (from its namespace)", async () => {
    const link = await hostExecOk(HOST, ['ip', '-o', 'link', 'show', 'eth0']);
    const mac = /link\/ether (\S+)/.exec(link)?.[1];
    const mtu = Number(/mtu (\d+)/.exec(link)?.[1]);
    expect(runs['vncplay']!.facts['eth0']).toMatchObject({ macaddress: mac, mtu });
    expect(runs['vncplay']!.facts['default_ipv4']).toMatchObject({ macaddress: mac, mtu });
  });

  it('package_facts lists the same packages with the same name, version, arch, category and source', () => {
    const strip = (p: unknown): unknown =>
      Object.fromEntries(Object.entries(p as Record<string, Record<string, unknown>[]>).map(([k, list]) => [k, list.map((e) => without(e, ['origin']))]));
    const ours = strip(runs['vncplay']!.facts['packages']) as Record<string, unknown>;
    const theirs = strip(runs['ansible']!.facts['packages']) as Record<string, unknown>;
    expect(Object.keys(ours).length).toBeGreaterThan(100);
    expect(ours).toEqual(theirs);
    const entry = (tool: string): unknown => (runs[tool]!.facts['packages_var'] as unknown[]).map((e) => without(e, ['origin']));
    expect(entry('vncplay')).toEqual(entry('ansible'));
  });

  it('service_facts gives the same services, states and statuses', () => {
    const ours = runs['vncplay']!.facts['services'] as Record<string, unknown>;
    expect(Object.keys(ours).length).toBeGreaterThan(20);
    expect(ours).toMatchObject({ 'ssh.service': { name: 'ssh.service', state: 'running', status: 'enabled', source: 'systemd' } });
    expect(ours).toEqual(runs['ansible']!.facts['services']);
  });
});
