import { describe, expect, it } from 'vitest';
import { securityGroup } from '../../src/modules/security-group/index.js';
import { normaliseRuleArg } from '../../src/modules/security-group/normalize.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';
import type { NormRule, ScalarRuleArg as RuleArg, SecurityGroupArgs, SecurityGroupFacts } from '../../src/modules/security-group/types.js';
import type { Change } from '../../src/modules/types.js';
import { SharedTaskScope } from '../../src/runner/task-scope.js';

/** Facts in, Changes out: the plan is data, so no cloud and no fake server here. */

const rule = (arg: RuleArg, provider: SecurityGroupArgs['provider'] = 'aws'): NormRule => {
  const r = normaliseRuleArg(arg, provider, 't');
  if ('error' in r) throw new Error(r.error);
  return r.rule;
};

const allEgress = rule({ proto: 'all', cidr: '0.0.0.0/0' });

function facts(over: Partial<SecurityGroupFacts> = {}): SecurityGroupFacts {
  return {
    provider: 'aws',
    region: 'eu-west-1',
    initialRules: { ingress: [], egress: [allEgress] },
    read: { task: new SharedTaskScope(), groupKey: 'k', serial: 1 },
    ...over,
  };
}

const base: SecurityGroupArgs = { provider: 'aws', region: 'eu-west-1', name: 'vnc' };
/** Arguments as a task writes them, parsed as the runner parses them. */
const sg = (raw: SecurityGroupArgs): ReturnType<typeof parsedArgs<typeof securityGroup>> => parsedArgs(securityGroup, { ...raw });
const vncFromOffice: RuleArg = { proto: 'tcp', ports: '5900-5999', cidr: '198.51.100.0/24', description: 'office' };

const summaries = (cs: Change[]) => cs.map((c) => c.summary);
const stepLabels = (cs: Change[]) => cs.flatMap((c) => c.steps.map((s) => (s.kind === 'call' ? s.label : s.kind)));

describe('security_group plan', () => {
  it('creates a missing group, then adds rules and purges the default egress when egress is listed', () => {
    const cs = securityGroup.plan(sg({ ...base, rules: [vncFromOffice], rules_egress: [] }), facts());
    expect(summaries(cs)).toEqual([
      "create aws:eu-west-1 security group 'vnc'",
      "ingress: add 1 rule(s) on aws:eu-west-1 security group 'vnc'",
      "egress: remove 1 rule(s) on aws:eu-west-1 security group 'vnc'",
    ]);
    expect(stepLabels(cs)).toEqual(['create vnc', 'authorize 1 ingress rule(s)', 'revoke 1 egress rule(s)']);
    expect(cs[1]!.diff).toMatchObject({ before: '', after: 'ingress tcp 5900-5999 from 198.51.100.0/24 accept (office)\n' });
  });

  it('leaves a direction alone when its list is omitted', () => {
    const cs = securityGroup.plan(sg({ ...base, rules: [vncFromOffice] }), facts());
    expect(summaries(cs).some((s) => s.startsWith('egress'))).toBe(false);
  });

  it('is a no-op when the group already matches in another spelling', () => {
    const group = {
      id: 'sg-1',
      name: 'vnc',
      description: '',
      ingress: [rule({ proto: '6', ports: '5900/5999', cidr: '198.51.100.77/24' })],
      egress: [allEgress],
    };
    expect(securityGroup.plan(sg({ ...base, rules: [vncFromOffice] }), facts({ group }))).toEqual([]);
  });

  it('purges unlisted rules by default and keeps them with purge_rules: false', () => {
    const ssh = rule({ proto: 'tcp', ports: 22, cidr: '0.0.0.0/0' });
    const group = { id: 'sg-1', name: 'vnc', description: '', ingress: [rule(vncFromOffice), ssh], egress: [] };
    const purged = securityGroup.plan(sg({ ...base, rules: [vncFromOffice] }), facts({ group }));
    expect(summaries(purged)).toEqual(["ingress: remove 1 rule(s) on aws:eu-west-1 security group 'vnc' (sg-1)"]);
    expect(purged[0]!.diff?.before).toContain('tcp 22 from 0.0.0.0/0');
    expect(purged[0]!.diff?.after).not.toContain('tcp 22');
    expect(securityGroup.plan(sg({ ...base, rules: [vncFromOffice], purge_rules: false }), facts({ group }))).toEqual([]);
  });

  it('orders remove before add where the provider deletes by index (Tencent)', () => {
    const old = rule({ proto: 'tcp', ports: 5901, cidr: '10.0.0.0/8' }, 'tencent');
    const group = { id: 'sg-t', name: 'vnc', description: '', ingress: [{ ...old, handle: '0' }], egress: [] };
    const args: SecurityGroupArgs = { provider: 'tencent', region: 'ap-guangzhou', name: 'vnc', rules: [{ proto: 'tcp', ports: 5902, cidr: '10.0.0.0/8' }] };
    const cs = securityGroup.plan(sg(args), facts({ provider: 'tencent', region: 'ap-guangzhou', group, initialRules: { ingress: [], egress: [] }, revokeFirst: true }));
    expect(stepLabels(cs)).toEqual(['revoke 1 ingress rule(s)', 'authorize 1 ingress rule(s)']);
  });

  it('deletes an existing group under state: absent and does nothing when it is already gone', () => {
    const group = { id: 'sg-1', name: 'vnc', description: '', ingress: [rule(vncFromOffice)], egress: [] };
    const cs = securityGroup.plan(sg({ ...base, state: 'absent' }), facts({ group }));
    expect(summaries(cs)).toEqual(["delete aws:eu-west-1 security group 'vnc' (sg-1)"]);
    expect(cs[0]!.diff?.before).toContain('5900-5999');
    expect(securityGroup.plan(sg({ ...base, state: 'absent' }), facts())).toEqual([]);
  });

  it('Aliyun: same rule at another priority or policy is a different rule', () => {
    const args: SecurityGroupArgs = { provider: 'aliyun', region: 'cn-hangzhou', name: 'vnc', rules: [{ ...vncFromOffice, priority: 10 }] };
    const group = { id: 'sg-a', name: 'vnc', description: '', ingress: [rule(vncFromOffice, 'aliyun')], egress: [] };
    const cs = securityGroup.plan(sg(args), facts({ provider: 'aliyun', group, initialRules: { ingress: [], egress: [] } }));
    expect(cs[0]!.summary).toBe("ingress: add 1, remove 1 rule(s) on aliyun:cn-hangzhou security group 'vnc' (sg-a)");
  });

  it('validate() explains bad arguments before anything runs', () => {
    expect(checkArgs(securityGroup, { provider: 'aws', region: 'x' })).toMatch(/one of `group_id`, `name` is required/);
    // Said once: the module's name, then the rule (it was `security_group: security_group: rules[0]: …`).
    expect(checkArgs(securityGroup, { ...base, rules: [{ proto: 'tcp', ports: '5900-5999' }] })).toBe('security_group: rules[0]: give exactly one of cidr, cidr_ipv6, group_id');
    expect(checkArgs(securityGroup, { ...base, access_key: 'AKIA' })).toMatch(/go together/);
    expect(checkArgs(securityGroup, { ...base, rules: [vncFromOffice] })).toBeUndefined();
    // Every bad rule, each at its own position (the rule, or the rule's key).
    const { issues } = parseArgs(securityGroup.spec, { ...base, rules: [vncFromOffice, { proto: 'tcp', cidr: '10.0.0.0/33' }], rules_egress: [{ proto: 'gre', cidr: '0.0.0.0/0' }] }, { owner: 'security_group', rendered: true });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [['rules', 1, 'cidr'], "rules[1]: '10.0.0.0/33' is not a valid CIDR"],
      [['rules_egress', 0, 'proto'], "rules_egress[0]: proto must be tcp, udp, icmp or all (got 'gre')"],
    ]);
  });

  it('marks the secret arguments', () => {
    expect(securityGroup.secretArgs).toEqual(['secret_key', 'session_token']);
    expect(securityGroup.where).toBe('controller');
  });
});
