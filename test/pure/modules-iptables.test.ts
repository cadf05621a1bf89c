import { describe, expect, it } from 'vitest';
import { constructRule, iptablesModule, planIptables } from '../../src/modules/firewall/ansible-iptables.js';
import type { Change } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

// ansible.builtin.iptables: the rule argv in Ansible's construct_rule order, and the commands from what -L/-C said
// (the fleet parity test runs both tools on a real host).
const args = (raw: Record<string, unknown>): ReturnType<typeof parsedArgs<typeof iptablesModule>> => parsedArgs(iptablesModule, raw);
const argvs = (changes: Change[]): string[][] => changes.flatMap((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv : [])));

describe('iptables rule construction (Ansible order)', () => {
  it.each([
    [{ chain: 'INPUT', protocol: 'tcp', destination_port: 22, ctstate: ['NEW'], jump: 'ACCEPT', comment: 'ssh in' }, '-p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW -m comment --comment ssh in'],
    [{ chain: 'INPUT', source: '!10.0.0.0/8', in_interface: 'eth0', jump: 'DROP' }, '! -s 10.0.0.0/8 -j DROP -i eth0'],
    [{ chain: 'INPUT', protocol: 'tcp', match: ['state'], ctstate: ['ESTABLISHED', 'RELATED'], jump: 'ACCEPT' }, '-p tcp -m state -j ACCEPT --state ESTABLISHED,RELATED'],
    [{ chain: 'INPUT', protocol: 'tcp', destination_ports: ['80', '443', '8000:8080'], reject_with: 'tcp-reset' }, '-p tcp -m multiport --dports 80,443,8000:8080 -j REJECT --reject-with tcp-reset'],
    [{ chain: 'INPUT', protocol: 'icmp', icmp_type: 'echo-request', limit: '5/sec', jump: 'ACCEPT' }, '-p icmp -j ACCEPT -m limit --limit 5/sec --icmp-type echo-request'],
  ])('%j → %s', (raw, rule) => {
    expect(constructRule(args(raw)).join(' ')).toBe(rule);
  });

  it('logging options imply jump LOG in the command, not in the registered rule (as Ansible)', () => {
    const a = args({ chain: 'INPUT', log_prefix: 'vp: ' });
    expect(iptablesModule.report!(a, { chainPresent: true })['rule']).toBe('--log-prefix vp: ');
    expect(argvs(planIptables(a, { chainPresent: true, rulePresent: false }))).toEqual([['iptables', '-t', 'filter', '-A', 'INPUT', '-j', 'LOG', '--log-prefix', 'vp: ']]);
  });
});

describe('iptables plan', () => {
  it('a rule: appended or inserted at rule_num when -C says absent, nothing when present; removed with -D', () => {
    const a = args({ chain: 'INPUT', protocol: 'tcp', destination_port: '8080', jump: 'ACCEPT', action: 'insert', rule_num: '2', ip_version: 'ipv6' });
    expect(argvs(planIptables(a, { chainPresent: true, rulePresent: false }))).toEqual([['ip6tables', '-t', 'filter', '-I', 'INPUT', '2', '-p', 'tcp', '-j', 'ACCEPT', '--destination-port', '8080']]);
    expect(planIptables(a, { chainPresent: true, rulePresent: true })).toEqual([]);
    const gone = args({ chain: 'INPUT', protocol: 'tcp', destination_port: '8080', jump: 'ACCEPT', state: 'absent' });
    expect(argvs(planIptables(gone, { chainPresent: true, rulePresent: true }))).toEqual([['iptables', '-t', 'filter', '-D', 'INPUT', '-p', 'tcp', '-j', 'ACCEPT', '--destination-port', '8080']]);
  });

  it('chain_management creates a missing chain before its first rule and deletes it', () => {
    const a = args({ chain: 'VPTEST', chain_management: true, jump: 'RETURN', source: '198.51.100.1' });
    expect(argvs(planIptables(a, { chainPresent: false, rulePresent: false }))).toEqual([
      ['iptables', '-t', 'filter', '-N', 'VPTEST'],
      ['iptables', '-t', 'filter', '-A', 'VPTEST', '-s', '198.51.100.1', '-j', 'RETURN'],
    ]);
    const del = args({ chain: 'VPTEST', chain_management: true, state: 'absent' });
    expect(argvs(planIptables(del, { chainPresent: true }))).toEqual([['iptables', '-t', 'filter', '-X', 'VPTEST']]);
    expect(planIptables(del, { chainPresent: false })).toEqual([]);
  });

  it('policy from the chain header; flush always changes', () => {
    const p = args({ chain: 'FORWARD', policy: 'DROP' });
    expect(argvs(planIptables(p, { chainPresent: true, policy: 'ACCEPT' }))).toEqual([['iptables', '-t', 'filter', '-P', 'FORWARD', 'DROP']]);
    expect(planIptables(p, { chainPresent: true, policy: 'DROP' })).toEqual([]);
    expect(() => planIptables(args({ chain: 'VPTEST', policy: 'DROP' }), { chainPresent: true })).toThrow(/Can't detect current policy/);
    expect(argvs(planIptables(args({ flush: true, table: 'nat' }), { chainPresent: false }))).toEqual([['iptables', '-t', 'nat', '-F']]);
  });
});

describe('iptables arguments', () => {
  it.each([
    [{ protocol: 'tcp' }, /Either chain or flush parameter must be specified/],
    [{ chain: 'INPUT', log_prefix: 'x', jump: 'DROP' }, /Logging options can only be used with the LOG jump target/],
    [{ chain: 'INPUT', flush: true, policy: 'DROP' }, /mutually exclusive/],
    [{ chain: 'INPUT', table: 'nope' }, /table/],
    [{ chain: 'INPUT', rule_num: 'first' }, /rule_num/],
  ])('%j is refused', (raw, want) => {
    expect(checkArgs(iptablesModule, raw)).toMatch(want);
  });
});
