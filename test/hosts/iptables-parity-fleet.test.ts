import { afterAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetInventoryIni, hostExec, hostExecOk } from '../fleet/fleet.js';
import { counts, pick, runBoth } from '../support/module-parity.js';

/**
 * ansible.builtin.iptables side by side with ansible-playbook on fleet host h1's real iptables and ip6tables: a user
 * chain created with its first rule, rules appended and inserted at a position, conntrack states, an IPv6 chain,
 * check mode, a built-in chain's policy set and restored, a flush, rule and chain removal. Safe for the shared host:
 * the test's chains are never jumped to (they filter nothing), and FORWARD (no forwarding inside a fleet host) gets
 * its policy back within the run. Every run ends with what it added removed, so both tools start from the same host.
 */
const HOST = 1;
const playbook = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: first rule creates the chain
      iptables: {chain: VPTEST, chain_management: true, source: 198.51.100.1, jump: RETURN, comment: vp test}
    - name: first rule again
      ansible.builtin.iptables: {chain: VPTEST, chain_management: true, source: 198.51.100.1, jump: RETURN, comment: vp test}
    - name: rule appended
      iptables: {chain: VPTEST, protocol: tcp, destination_port: 5999, ctstate: [NEW], jump: DROP}
    - name: rule inserted first
      iptables: {chain: VPTEST, action: insert, rule_num: 1, protocol: udp, destination_port: "6000", reject_with: icmp-port-unreachable}
    - name: rule inserted again
      iptables: {chain: VPTEST, action: insert, rule_num: 1, protocol: udp, destination_port: "6000", reject_with: icmp-port-unreachable}
    - name: ipv6 chain and rule
      iptables: {chain: VPTEST6, ip_version: ipv6, chain_management: true, source: "2001:db8::/32", jump: RETURN}
    - name: rule in check mode
      iptables: {chain: VPTEST, source: 198.51.100.9, jump: RETURN}
      check_mode: true
    - name: forward policy drop
      iptables: {chain: FORWARD, policy: DROP}
    - name: forward policy drop again
      iptables: {chain: FORWARD, policy: DROP}
    - name: forward policy accept
      iptables: {chain: FORWARD, policy: ACCEPT}
    - name: the chains on the host
      shell: iptables -S VPTEST; ip6tables -S VPTEST6; iptables -S FORWARD | head -n 1
      changed_when: false
    - name: chain flushed
      iptables: {chain: VPTEST, flush: true}
    - name: rule absent after the flush
      iptables: {chain: VPTEST, source: 198.51.100.1, jump: RETURN, comment: vp test, state: absent}
    - name: chain deleted
      iptables: {chain: VPTEST, chain_management: true, state: absent}
    - name: chain deleted again
      iptables: {chain: VPTEST, chain_management: true, state: absent}
    - name: ipv6 rule removed
      iptables: {chain: VPTEST6, ip_version: ipv6, source: "2001:db8::/32", jump: RETURN, state: absent}
    - name: ipv6 chain deleted
      iptables: {chain: VPTEST6, ip_version: ipv6, chain_management: true, state: absent}
`;

const cleanup = (): Promise<unknown> =>
  hostExec(HOST, ['sh', '-c', 'iptables -F VPTEST 2>/dev/null; iptables -X VPTEST 2>/dev/null; ip6tables -F VPTEST6 2>/dev/null; ip6tables -X VPTEST6 2>/dev/null; iptables -P FORWARD ACCEPT; true']);

describe.skipIf(!fleetAvailable())('iptables: parity with ansible-playbook on a fleet host', () => {
  afterAll(async () => {
    if (fleetAvailable()) await cleanup();
  });

  it('changes the same, registers the same fields, and leaves the same rules', async () => {
    await cleanup();
    const run = await runBoth(playbook, { inventory: { file: fleetInventoryIni() }, host: 'h1' });
    const fields = ['changed', 'failed', 'chain', 'table', 'rule', 'state', 'flush', 'ip_version', 'chain_management', 'stdout'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-4000)).toHaveLength(17);
    // What Ansible did, spelled out, so a change on either side shows here.
    expect(theirs['the chains on the host']!['stdout']).toBe(
      [
        '-N VPTEST',
        '-A VPTEST -p udp -m udp --dport 6000 -j REJECT --reject-with icmp-port-unreachable',
        '-A VPTEST -s 198.51.100.1/32 -m comment --comment "vp test" -j RETURN',
        '-A VPTEST -p tcp -m tcp --dport 5999 -m conntrack --ctstate NEW -j DROP',
        '-N VPTEST6',
        '-A VPTEST6 -s 2001:db8::/32 -j RETURN',
        '-P FORWARD ACCEPT',
      ].join('\n'),
    );
    expect(theirs['rule appended']!['rule']).toBe('-p tcp -j DROP --destination-port 5999 -m conntrack --ctstate NEW');
    expect([theirs['chain deleted']!['changed'], theirs['chain deleted again']!['changed']]).toEqual([true, false]);
    const ours = pick(run.ours, fields);
    expect(ours, run.oursOutput.slice(-6000)).toEqual(theirs);
    expect(counts(run.oursRecap)).toEqual(counts(run.theirsRecap));
    expect(await hostExecOk(HOST, ['sh', '-c', 'iptables -n -L VPTEST >/dev/null 2>&1 && echo VPTEST; ip6tables -n -L VPTEST6 >/dev/null 2>&1 && echo VPTEST6; iptables -S FORWARD | head -n 1'])).toBe('-P FORWARD ACCEPT\n');
  });
});
