import type { Options } from '../spec/types.js';

const peers = { type: 'list', elements: 'str' } as const;

/** One ingress/egress rule; exactly-one-source and per-provider limits are the module's check (index.ts). */
const ruleOptions = {
  proto: { type: 'str', required: true, description: 'tcp, udp, icmp or all (also -1, 6, 17, 1, TCP, ALL).' },
  ports: { type: 'list', elements: 'str', description: '"5901", "5900-5999", "5900/5999", "ALL" or a list of them; omitted = all ports.' },
  cidr: { ...peers, description: 'IPv4 (or IPv6) range, or a list: one rule each.' },
  cidr_ipv6: { ...peers, description: 'IPv6 range, or a list: one rule each.' },
  group_id: { ...peers, description: 'Another security group as the peer, or a list.' },
  description: { type: 'str', description: 'Shown in the provider console.' },
  policy: { type: 'str', choices: ['accept', 'drop'], description: 'Aliyun and Tencent only; AWS rules always accept.' },
  priority: { type: 'int', min: 1, max: 100, description: 'Aliyun only, default 1.' },
} as const satisfies Options;

const nonEmpty = { pattern: '\\S', patternText: 'a non-empty string' } as const;

export const securityGroupOptions = {
  provider: { type: 'str', required: true, choices: ['aws', 'aliyun', 'tencent'], description: 'The cloud.' },
  region: { type: 'str', required: true, ...nonEmpty, description: "The provider's region (eu-west-1, cn-hangzhou, ap-guangzhou)." },
  group_id: { type: 'str', ...nonEmpty, description: 'An existing group, by id.' },
  name: { type: 'str', ...nonEmpty, description: 'The group, by name: created when missing.' },
  vpc_id: { type: 'str', description: 'The VPC a group found or created by name belongs to.' },
  description: { type: 'str', description: 'Description of a group created by name.' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'absent deletes the group.' },
  rules: { type: 'list', elements: 'dict', options: ruleOptions, description: 'Ingress rules; omitted = ingress left as it is.' },
  rules_egress: { type: 'list', elements: 'dict', options: ruleOptions, description: 'Egress rules; omitted = egress left as it is.' },
  purge_rules: { type: 'bool', default: true, description: 'Remove ingress rules not in `rules`.' },
  purge_rules_egress: { type: 'bool', default: true, description: 'Remove egress rules not in `rules_egress`.' },
  access_key: { type: 'str', description: "Normally from the provider's standard credential places." },
  secret_key: { type: 'str', no_log: true, description: 'Goes with access_key.' },
  session_token: { type: 'str', no_log: true, description: 'Temporary credentials.' },
} as const satisfies Options;
