import { describe, expect, it } from 'vitest';
import { fromPermissions as awsRules, toPermission } from '../../src/modules/security-group/aws.js';
import { fromPermissions as aliyunRules } from '../../src/modules/security-group/aliyun.js';
import {
  formatRule,
  normCidr4,
  normCidr6,
  expandRuleArg,
  normaliseRuleArg,
  parsePorts,
  parseProto,
  ruleKey,
} from '../../src/modules/security-group/normalize.js';
import { fromPolicies as tencentRules, toPolicy } from '../../src/modules/security-group/tencent.js';
import { backoffDelay, defaultRetryPolicy, isTransient, scrub } from '../../src/modules/security-group/retry.js';
import type { NormRule } from '../../src/modules/security-group/types.js';

describe('port spellings', () => {
  it.each([
    ['5901', { from: 5901, to: 5901 }],
    [5901, { from: 5901, to: 5901 }],
    ['5900-5999', { from: 5900, to: 5999 }],
    ['5900/5999', { from: 5900, to: 5999 }],
    [' 5900 - 5999 ', { from: 5900, to: 5999 }],
    ['ALL', null],
    ['all', null],
    ['-1/-1', null],
    ['-1', null],
    ['1/65535', null],
    ['0-65535', null],
    [undefined, null],
  ])('%s → %j', (raw, want) => {
    expect(parsePorts(raw as string | number | undefined)).toEqual(want);
  });

  it.each(['5999-5900', '70000', 'vnc', '1-2-3', '59o1'])('rejects %s', (raw) => {
    expect(parsePorts(raw)).toBeUndefined();
  });
});

describe('protocol spellings', () => {
  it.each([
    ['tcp', 'tcp'],
    ['TCP', 'tcp'],
    ['6', 'tcp'],
    ['17', 'udp'],
    ['ICMP', 'icmp'],
    ['-1', 'all'],
    ['ALL', 'all'],
    ['ICMPv6', 'icmpv6'],
    ['gre', undefined],
  ])('%s → %s', (raw, want) => {
    expect(parseProto(raw)).toBe(want);
  });
});

describe('CIDR normalisation', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3/32'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.7.200/24', '192.168.7.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['203.0.113.9/31', '203.0.113.8/31'],
  ])('v4 %s → %s', (raw, want) => {
    expect(normCidr4(raw)).toBe(want);
  });
  it.each(['10.1.2.3/33', '10.1.2/24', '300.1.1.1/8', '10.0.0.0/8/1', '10.0.0.0/x'])('v4 rejects %s', (raw) => {
    expect(normCidr4(raw)).toBeUndefined();
  });
  it.each([
    ['2001:DB8:0:0::1/64', '2001:db8::/64'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['2001:db8:0:1:0:0:0:1/128', '2001:db8:0:1::1/128'],
    ['fe80:0:0:1::/48', 'fe80::/48'],
  ])('v6 %s → %s', (raw, want) => {
    expect(normCidr6(raw)).toBe(want);
  });
});

describe('rule lists', () => {
  it('expands list-valued peers and ports into one rule each (Ansible cidr_ip lists)', () => {
    const out = expandRuleArg({ proto: 'tcp', ports: [5901, '5905-5906'], cidr: ['10.0.0.0/8', '192.0.2.1'], description: 'd' });
    expect(out).toEqual([
      { proto: 'tcp', description: 'd', cidr: '10.0.0.0/8', ports: 5901 },
      { proto: 'tcp', description: 'd', cidr: '10.0.0.0/8', ports: '5905-5906' },
      { proto: 'tcp', description: 'd', cidr: '192.0.2.1', ports: 5901 },
      { proto: 'tcp', description: 'd', cidr: '192.0.2.1', ports: '5905-5906' },
    ]);
    expect(expandRuleArg({ proto: 'tcp', cidr: [] })).toEqual([]);
    expect(expandRuleArg({ proto: 'icmp', group_id: 'sg-1' })).toEqual([{ proto: 'icmp', group_id: 'sg-1' }]);
  });
});

describe('user rules', () => {
  it('normalises a VNC rule the same whichever way it is written', () => {
    const spellings = [
      { proto: 'tcp', ports: '5900-5999', cidr: '10.20.30.40/16' },
      { proto: 'TCP', ports: '5900/5999', cidr: '10.20.0.0/16' },
      { proto: '6', ports: '5900-5999', cidr: '10.20.255.255/16', description: 'office' },
    ];
    const keys = spellings.map((s) => {
      const r = normaliseRuleArg(s, 'aws', 'rules[0]');
      if ('error' in r) throw new Error(r.error);
      return ruleKey(r.rule);
    });
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe('tcp 5900-5999 10.20.0.0/16 accept');
  });

  it.each([
    [{ proto: 'tcp', ports: '22' }, 'exactly one of cidr'],
    [{ proto: 'tcp', ports: '22', cidr: '10.0.0.0/8', group_id: 'sg-1' }, 'exactly one of cidr'],
    [{ proto: 'gre', cidr: '10.0.0.0/8' }, 'proto must be'],
    [{ proto: 'tcp', ports: '99999', cidr: '10.0.0.0/8' }, 'not a port'],
    [{ proto: 'icmp', ports: '22', cidr: '10.0.0.0/8' }, 'only apply to tcp and udp'],
    [{ proto: 'tcp', cidr: '10.0.0.300/8' }, 'not a valid CIDR'],
    [{ proto: 'tcp', cidr: '10.0.0.0/8', policy: 'drop' as const }, 'AWS security groups only allow'],
    [{ proto: 'tcp', cidr: '10.0.0.0/8', priority: 5 }, 'priority is an Aliyun setting'],
  ])('rejects %j', (arg, msg) => {
    const r = normaliseRuleArg(arg, 'aws', 'rules[0]');
    expect('error' in r && r.error).toContain(msg);
  });

  it('treats an IPv6 range under cidr as cidr_ipv6 and ICMP to it as ICMPv6', () => {
    const r = normaliseRuleArg({ proto: 'icmp', cidr: '2001:DB8::/32' }, 'tencent', 'rules[0]');
    expect('rule' in r && r.rule).toMatchObject({ proto: 'icmpv6', peer: { kind: 'cidr6', value: '2001:db8::/32' } });
  });

  it('gives Aliyun rules priority 1 by default, and only Aliyun', () => {
    const a = normaliseRuleArg({ proto: 'tcp', ports: 22, cidr: '10.0.0.0/8' }, 'aliyun', 'r');
    const t = normaliseRuleArg({ proto: 'tcp', ports: 22, cidr: '10.0.0.0/8' }, 'tencent', 'r');
    expect('rule' in a && a.rule.priority).toBe(1);
    expect('rule' in t && t.rule.priority).toBeNull();
  });
});

const vnc: NormRule = { proto: 'tcp', from: 5900, to: 5999, peer: { kind: 'cidr', value: '10.0.0.0/8' }, policy: 'accept', priority: null };

describe('provider shapes read back to the same rule', () => {
  it('AWS groups several peers under one permission; we split them', () => {
    const rules = awsRules([
      {
        IpProtocol: 'tcp',
        FromPort: 5900,
        ToPort: 5999,
        IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '192.168.1.0/24', Description: 'vpn' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:DB8::/32' }],
        UserIdGroupPairs: [{ GroupId: 'sg-bastion' }],
      },
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.9.0.0/16' }] },
      { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: 'pl-1' }] },
    ]);
    expect(rules.map((r) => formatRule(r, 'ingress'))).toEqual([
      'tcp 5900-5999 from 10.0.0.0/8 accept',
      'tcp 5900-5999 from 192.168.1.0/24 accept (vpn)',
      'tcp 5900-5999 from 2001:db8::/32 accept',
      'tcp 5900-5999 from group:sg-bastion accept',
      'all all from 0.0.0.0/0 accept',
      'tcp all from 10.9.0.0/16 accept',
      'icmp all from 10.0.0.0/8 accept',
    ]);
  });

  it('Aliyun "5900/5999" and Tencent "5900-5999" are the same rule as AWS 5900..5999', () => {
    const ali = aliyunRules(
      [{ direction: 'ingress', ipProtocol: 'TCP', portRange: '5900/5999', sourceCidrIp: '10.0.0.0/8', policy: 'Accept', priority: '1', securityGroupRuleId: 'sgr-1' }],
      'ingress',
    );
    const tc = tencentRules([{ PolicyIndex: 0, Protocol: 'TCP', Port: '5900-5999', CidrBlock: '10.0.0.0/8', Ipv6CidrBlock: '', SecurityGroupId: '', Action: 'ACCEPT' }]);
    expect(ruleKey({ ...ali[0]!, priority: null })).toBe(ruleKey(vnc));
    expect(ruleKey(tc[0]!)).toBe(ruleKey(vnc));
    expect(ali[0]!.handle).toBe('sgr-1');
    expect(tc[0]!.handle).toBe('0');
  });

  it('writes each provider its own spelling', () => {
    expect(toPermission(vnc)).toEqual({ IpProtocol: 'tcp', FromPort: 5900, ToPort: 5999, IpRanges: [{ CidrIp: '10.0.0.0/8' }] });
    expect(toPermission({ ...vnc, proto: 'all', from: null, to: null })).toEqual({ IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/8' }] });
    expect(toPolicy(vnc)).toEqual({ Protocol: 'TCP', Port: '5900-5999', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' });
    expect(toPolicy({ ...vnc, proto: 'icmp', from: null, to: null })).toEqual({ Protocol: 'ICMP', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' });
  });
});

describe('retry helper pieces', () => {
  it('classifies throttling and 5xx as transient, auth and validation as not', () => {
    for (const c of ['RequestLimitExceeded', 'Throttling.User', 'Throttling', 'RequestLimitExceeded.UinLimitExceeded', 'ServiceUnavailable']) {
      expect(isTransient(c)).toBe(true);
    }
    expect(isTransient('Whatever', 502)).toBe(true);
    for (const c of ['AuthFailure', 'InvalidAccessKeyId.NotFound', 'InvalidParameterValue', 'SignatureDoesNotMatch']) {
      expect(isTransient(c, 400)).toBe(false);
    }
  });

  it('keeps every backoff within [0, min(cap, base·2^n)]', () => {
    const top = { ...defaultRetryPolicy, random: () => 0.999999 };
    expect(backoffDelay(0, top)).toBeLessThan(250);
    expect(backoffDelay(3, top)).toBeLessThan(2000);
    expect(backoffDelay(20, top)).toBeLessThan(10_000);
    expect(backoffDelay(5, { ...defaultRetryPolicy, random: () => 0 })).toBe(0);
  });

  it('scrubs secrets and signatures out of messages', () => {
    expect(scrub('key wJalrXUtnFEMI/K7MDENG and Signature=abc123', ['wJalrXUtnFEMI/K7MDENG'])).toBe('key *** and Signature=***');
  });
});
