import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * ansible.posix.firewalld side by side with ansible-playbook on fleet host h3's real firewalld: runtime, permanent and
 * both; a timed service; a rich rule; a source and an interface bound to a zone; a zone added and removed; check
 * mode; the refusals Ansible makes at run time; and the offline mode (firewalld stopped: only the on-disk
 * configuration changes). Safe for the shared host: the default zone is `trusted` (accept everything) while the
 * test runs, and every run ends with what it added removed, so both tools start from the same host.
 */
const HOST = 3;
const rich = 'rule family="ipv4" source address="198.51.100.7" port port="5901" protocol="tcp" accept';
const playbook = `
- hosts: h3
  gather_facts: false
  tasks:
    - name: service runtime
      firewalld: {service: http, state: enabled}
    - name: service runtime again
      firewalld: {service: http, state: enabled}
    - name: service with a timeout
      ansible.posix.firewalld: {service: https, state: enabled, timeout: 300}
    - name: port permanent and immediate
      firewalld: {port: 8443/tcp, permanent: true, immediate: true, state: enabled}
    - name: port again
      firewalld: {port: 8443/tcp, permanent: true, immediate: true, state: enabled}
    - name: port disabled permanently only
      firewalld: {port: 8443/tcp, permanent: true, state: disabled}
    - name: rich rule
      firewalld: {rich_rule: '${rich}', permanent: true, immediate: true, state: enabled}
    - name: rich rule again
      firewalld: {rich_rule: '${rich}', permanent: true, immediate: true, state: enabled}
    - name: source in zone internal
      firewalld: {source: 198.51.100.0/24, zone: internal, permanent: true, state: enabled}
    - name: interface into zone internal
      firewalld: {interface: vpfw0, zone: internal, permanent: true, state: enabled}
    - name: zone present
      firewalld: {zone: vpzone, permanent: true, state: present}
    - name: zone present again
      firewalld: {zone: vpzone, permanent: true, state: present}
    - name: service disabled in check mode
      firewalld: {service: http, state: disabled}
      check_mode: true
    - name: zone without permanent
      firewalld: {zone: vpzone, state: absent}
      ignore_errors: true
    - name: the configuration on the host
      shell: |
        firewall-cmd --zone=trusted --list-services; firewall-cmd --zone=trusted --list-ports
        firewall-cmd --permanent --zone=trusted --list-ports; firewall-cmd --permanent --zone=trusted --list-rich-rules
        firewall-cmd --permanent --zone=internal --list-sources; firewall-cmd --permanent --zone=internal --list-interfaces
        firewall-cmd --permanent --get-zones | tr ' ' '\\n' | grep -x vpzone
      changed_when: false
    - name: service removed
      firewalld: {service: http, state: disabled}
    - name: timed service removed
      firewalld: {service: https, state: disabled}
    - name: port removed at runtime
      firewalld: {port: 8443/tcp, state: disabled}
    - name: rich rule removed
      firewalld: {rich_rule: '${rich}', permanent: true, immediate: true, state: disabled}
    - name: source removed
      firewalld: {source: 198.51.100.0/24, zone: internal, permanent: true, state: disabled}
    - name: interface removed
      firewalld: {interface: vpfw0, zone: internal, permanent: true, state: disabled}
    - name: zone absent
      firewalld: {zone: vpzone, permanent: true, state: absent}
    - name: firewalld stopped
      systemd: {name: firewalld, state: stopped}
    - name: offline service
      firewalld: {service: http, permanent: true, state: enabled}
    - name: offline service again
      firewalld: {service: http, permanent: true, state: enabled}
    - name: offline immediate refused
      firewalld: {service: http, state: enabled}
      ignore_errors: true
    - name: offline service removed
      firewalld: {service: http, permanent: true, state: disabled}
    - name: firewalld started
      systemd: {name: firewalld, state: started}
`;

/** Whatever a run (or an interrupted one) may have left, removed with firewalld stopped. */
const OFFLINE_CLEANUP = [
  'firewall-offline-cmd --zone=trusted --remove-service-from-zone=http >/dev/null 2>&1',
  'firewall-offline-cmd --zone=trusted --remove-port=8443/tcp >/dev/null 2>&1',
  `firewall-offline-cmd --zone=trusted --remove-rich-rule='${rich}' >/dev/null 2>&1`,
  'firewall-offline-cmd --zone=internal --remove-source=198.51.100.0/24 >/dev/null 2>&1',
  'firewall-offline-cmd --zone=internal --remove-interface=vpfw0 >/dev/null 2>&1',
  'firewall-offline-cmd --delete-zone=vpzone >/dev/null 2>&1',
  'true',
].join('\n');
const SNAPSHOT = 'firewall-cmd --zone=trusted --list-all; firewall-cmd --permanent --zone=trusted --list-all; firewall-cmd --permanent --zone=internal --list-all; firewall-cmd --permanent --get-zones';

describe.skipIf(!fleetAvailable())('firewalld: parity with ansible-playbook on a fleet host', () => {
  let before = '';
  beforeAll(async () => {
    // The trusted zone starts from firewalld's shipped default: an earlier test's saved changes to it (a zone file
    // with `forward` set) would otherwise be the "before" that both tools' rewrites of the zone cannot match.
    await hostExecOk(HOST, ['sh', '-c', `systemctl stop firewalld 2>/dev/null\nrm -f /etc/firewalld/zones/trusted.xml /etc/firewalld/zones/trusted.xml.old\n${OFFLINE_CLEANUP}\nfirewall-offline-cmd --set-default-zone=trusted >/dev/null && systemctl start firewalld`]);
    before = await hostExecOk(HOST, ['sh', '-c', SNAPSHOT]);
  });
  afterAll(async () => {
    await hostExec(HOST, ['sh', '-c', `systemctl stop firewalld\n${OFFLINE_CLEANUP}\nfirewall-offline-cmd --set-default-zone=public >/dev/null`]);
  });

  it('changes the same, says the same, and leaves the same configuration', async () => {
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h3' });
    const theirs = pick(run.theirs, ['changed', 'failed', 'msg']);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(28);
    expect(counts(run.theirsRecap)).toEqual({ ok: 28, changed: 20, failed: 0, skipped: 0, ignored: 2 });
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['service runtime']).toEqual({ changed: true, failed: undefined, msg: 'Non-permanent operation, Changed service http to enabled' });
    expect(theirs['port disabled permanently only']!['msg']).toBe('Permanent operation, Changed port 8443/tcp to disabled');
    expect(theirs['source in zone internal']!['msg']).toBe('Permanent operation, Added 198.51.100.0/24 to zone internal');
    expect(theirs['zone present']!['msg']).toBe('Permanent operation, Added zone vpzone, Changed zone vpzone to present');
    expect(theirs['offline service']!['msg']).toBe('Permanent operation, Changed service http to enabled, (offline operation: only on-disk configs were altered)');
    expect(run.theirs['the configuration on the host']!['stdout']).toBe(
      ['http https', '8443/tcp', '', rich, '198.51.100.0/24', 'vpfw0', 'vpzone'].join('\n'),
    );
    const ours = pick(run.ours, ['changed', 'failed', 'msg']);
    // Refusals: Ansible's words inside vncplay's message (which names the module); check mode: Ansible gives no msg.
    for (const name of ['zone without permanent', 'offline immediate refused']) {
      expect(String(ours[name]!['msg'])).toContain(String(theirs[name]!['msg']));
      ours[name]!['msg'] = theirs[name]!['msg'];
    }
    expect(theirs['service disabled in check mode']!['msg']).toBeUndefined();
    delete ours['service disabled in check mode']!['msg'];
    delete theirs['service disabled in check mode']!['msg'];
    for (const name of ['firewalld stopped', 'firewalld started', 'the configuration on the host']) {
      delete ours[name];
      delete theirs[name];
    }
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(run.ours['the configuration on the host']!['stdout']).toBe(run.theirs['the configuration on the host']!['stdout']);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    // Both runs left the host as they found it, but for `forward`: firewalld's shipped trusted zone says `<forward/>`,
    // and a zone file firewalld rewrites (under either tool: the configurations above are the same) drops it.
    const withoutForward = (listing: string): string => listing.replace(/^ {2}forward: (yes|no)\n/gm, '');
    expect(withoutForward(await hostExecOk(HOST, ['sh', '-c', SNAPSHOT]))).toBe(withoutForward(before));
  }, 300_000); // firewalld reloads under both tools: 80-100 s on an idle machine, 150 s and more when it is busy
});
