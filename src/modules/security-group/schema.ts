import type { ArgSchema } from '../types.js';

const stringList = { type: 'array', items: { type: 'string' } } as const;

/** One ingress/egress rule; exactly-one-source and per-provider limits are checked in validate(). */
const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['proto'],
  properties: {
    proto: { type: 'string', description: 'tcp, udp, icmp or all (also -1, 6, 17, 1, TCP, ALL)' },
    ports: {
      anyOf: [{ type: ['string', 'integer'] }, { type: 'array', items: { type: ['string', 'integer'] } }],
      description: '"5901", "5900-5999", "5900/5999", "ALL" or a list of them; omitted = all ports',
    },
    cidr: { anyOf: [{ type: 'string' }, stringList], description: 'IPv4 (or IPv6) range, or a list: one rule each' },
    cidr_ipv6: { anyOf: [{ type: 'string' }, stringList] },
    group_id: { anyOf: [{ type: 'string' }, stringList], description: 'another security group as the peer' },
    description: { type: 'string' },
    policy: { enum: ['accept', 'drop'], description: 'Aliyun and Tencent only; AWS rules always accept' },
    priority: { type: 'integer', minimum: 1, maximum: 100, description: 'Aliyun only, default 1' },
  },
} as const;

export const securityGroupSchema: ArgSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  description: 'Converge an AWS, Aliyun or Tencent Cloud security group and its rules (runs on the controller, once per group).',
  additionalProperties: false,
  required: ['provider', 'region'],
  properties: {
    provider: { enum: ['aws', 'aliyun', 'tencent'] },
    region: { type: 'string', minLength: 1 },
    group_id: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    vpc_id: { type: 'string' },
    description: { type: 'string' },
    state: { enum: ['present', 'absent'], default: 'present' },
    rules: { type: 'array', items: ruleSchema, description: 'ingress rules; omitted = ingress left as it is' },
    rules_egress: { type: 'array', items: ruleSchema, description: 'egress rules; omitted = egress left as it is' },
    purge_rules: { type: 'boolean', default: true },
    purge_rules_egress: { type: 'boolean', default: true },
    access_key: { type: 'string', description: 'normally from the provider\'s standard credential places' },
    secret_key: { type: 'string' },
    session_token: { type: 'string' },
  },
};
