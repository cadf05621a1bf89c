import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_ENV } from '../../src/modules/security-group/index.js';
import { startFakeEc2, type FakeEc2 } from '../cloud/fake-ec2.js';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import { startFakeTencentVpc, type FakeTencentVpc } from '../cloud/fake-vpc-tencent.js';
import { pointSdksAtFakes } from '../cloud/sdk-environment.js';
import { playYaml } from '../support/runner-helpers.js';

/**
 * End to end through runPlaybook: one task shape, looped over the three providers, on `hosts: localhost` and on
 * three hosts at once; the fakes count what reached the "cloud".
 */

const CREDS = {
  aws: { id: 'AKIAE2ETEST00000001', secret: 'e2e-aws-SECRET-5b1f0c9a', idVar: 'AWS_ACCESS_KEY_ID', secretVar: 'AWS_SECRET_ACCESS_KEY' },
  aliyun: { id: 'LTAIe2eTest0000001', secret: 'e2e-aliyun-SECRET-33aa07', idVar: 'ALIBABA_CLOUD_ACCESS_KEY_ID', secretVar: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' },
  tencent: { id: 'AKIDe2eTest0000001', secret: 'e2e-tencent-SECRET-d0e1f2', idVar: 'TENCENTCLOUD_SECRET_ID', secretVar: 'TENCENTCLOUD_SECRET_KEY' },
} as const;

let restoreEnvironment: () => void;
let fakes: { aws: FakeEc2; aliyun: FakeEcs; tencent: FakeTencentVpc };

beforeAll(async () => {
  fakes = {
    aws: await startFakeEc2({ [CREDS.aws.id]: CREDS.aws.secret }),
    aliyun: await startFakeEcs({ [CREDS.aliyun.id]: CREDS.aliyun.secret }),
    tencent: await startFakeTencentVpc({ [CREDS.tencent.id]: CREDS.tencent.secret }),
  };
  restoreEnvironment = pointSdksAtFakes(CREDS, ENDPOINT_ENV, { aws: fakes.aws.endpoint, aliyun: fakes.aliyun.endpoint, tencent: fakes.tencent.endpoint });
});

afterAll(async () => {
  restoreEnvironment();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

const playbook = (hosts: string, extra = '') => `
- hosts: ${hosts}
  gather_facts: false
  vars:
    vnc_allowed_cidrs: [198.51.100.0/24, 203.0.113.7]
  tasks:
    - name: restrict VNC to the office
      security_group:
        provider: "{{ item.provider }}"
        region: "{{ item.region }}"
        name: vnc-e2e
        description: VNC from the office only
        rules:
          - { proto: tcp, ports: "5900-5999", cidr: "{{ vnc_allowed_cidrs }}", description: office }
        rules_egress:
          - { proto: all, cidr: 0.0.0.0/0 }
      loop:
        - { provider: aws, region: eu-central-1 }
        - { provider: aliyun, region: cn-hangzhou }
        - { provider: tencent, region: ap-guangzhou }
      loop_control:
        label: "{{ item.provider }}"
${extra}`;

const mutating = () => Object.values(fakes).reduce((n, f) => n + f.mutatingCalls().length, 0);

describe('security_group through runPlaybook', () => {
  it('converges all three providers with one task shape, then reports changed=0', async () => {
    const first = await playYaml(playbook('localhost'), { inventory: 'localhost ansible_connection=local\n', diff: true });
    expect(first.exitCode, JSON.stringify(first.results('restrict VNC to the office'))).toBe(0);
    expect(first.stats['localhost']).toMatchObject({ changed: 1, failed: 0 });
    const items = first.results('restrict VNC to the office')[0]!.result!['results'] as Record<string, unknown>[];
    expect(items.map((i) => i['changed'])).toEqual([true, true, true]);
    expect(fakes.aws.groups.size + fakes.aliyun.groups.size + fakes.tencent.groups.size).toBe(3);
    // The list of ranges became one rule per range on every provider.
    expect([...fakes.aws.groups.values()][0]!.ingress.map((r) => r.cidr)).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    expect([...fakes.aliyun.groups.values()][0]!.permissions.filter((p) => p.Direction === 'ingress')).toHaveLength(2);
    expect([...fakes.tencent.groups.values()][0]!.ingress.map((p) => p.CidrBlock)).toEqual(['198.51.100.0/24', '203.0.113.7/32']);

    const before = mutating();
    const second = await playYaml(playbook('localhost'), { inventory: 'localhost ansible_connection=local\n' });
    expect(second.exitCode).toBe(0);
    expect(second.stats['localhost']).toMatchObject({ changed: 0, ok: 1 });
    expect(mutating()).toBe(before);

    const all = JSON.stringify([first.events, second.events]);
    for (const c of Object.values(CREDS)) expect(all).not.toContain(c.secret);
  });

  it('--check --diff shows the rule to remove and calls nothing that mutates', async () => {
    const g = [...fakes.aws.groups.values()][0]!;
    g.ingress.push({ proto: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' });
    const before = mutating();
    const r = await playYaml(playbook('localhost'), { inventory: 'localhost ansible_connection=local\n', check: true, diff: true });
    expect(r.exitCode).toBe(0);
    expect(mutating()).toBe(before);
    const diffs = JSON.stringify(r.events.filter((e) => e.type === 'task_result'));
    expect(diffs).toContain('tcp 22 from 0.0.0.0/0');
    expect(r.stats['localhost']).toMatchObject({ changed: 1 });
  });

  it('makes each mutating call once when three hosts run the task', async () => {
    const before = fakes.aws.mutatingCalls().length;
    const r = await playYaml(playbook('all'), { inventory: 'h1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\n' });
    expect(r.exitCode).toBe(0);
    // Only the sneaked-in SSH rule on AWS needed removing: one revoke, whatever the host count.
    expect(fakes.aws.mutatingCalls().slice(before).map((c) => c.action)).toEqual(['RevokeSecurityGroupIngress']);
  });

  it('reads the group once for all hosts of a task, and afresh for the next task', async () => {
    const task = (name: string) => `
    - name: ${name}
      security_group:
        provider: aws
        region: eu-central-1
        name: vnc-per-task
        rules: [{ proto: tcp, ports: 5901, cidr: 198.51.100.0/24 }]`;
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:${task('converge')}${task('look')}${task('look again')}
`;
    // Calls the fake saw by the time each task starts (every call of the task before it has returned by then).
    const callsAtStart = new Map<string, number>();
    const r = await playYaml(yaml, {
      inventory: 'h1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\n',
      onEvent: (e) => {
        if (e.type === 'task_start' && !callsAtStart.has(e.task.name)) {
          // Between 'look' and 'look again' someone opens SSH to the world behind the playbook's back.
          if (e.task.name === 'look again') {
            const g = [...fakes.aws.groups.values()].find((x) => x.name === 'vnc-per-task')!;
            g.ingress.push({ proto: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' });
          }
          callsAtStart.set(e.task.name, fakes.aws.calls.length);
        }
      },
    });
    expect(r.exitCode).toBe(0);
    const during = (name: string, next?: string) => fakes.aws.calls.slice(callsAtStart.get(name), next ? callsAtStart.get(next) : undefined).map((c) => c.action);
    // Three hosts, one task: one read of the group, each change made once.
    expect(during('look', 'look again')).toEqual(['DescribeSecurityGroups']);
    // The next task does not plan from the last task's read: it sees the new rule and removes it, once.
    expect(during('look again')).toEqual(['DescribeSecurityGroups', 'RevokeSecurityGroupIngress']);
    expect(r.results('look').map((e) => e.status)).toEqual(['ok', 'ok', 'ok']);
    expect(r.results('look again').map((e) => e.status)).toEqual(['changed', 'changed', 'changed']);
  });

  it('an auth failure fails the task with the request id, and the secret is nowhere in the event stream', async () => {
    const right = process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET']!;
    process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = 'e2e-wrong-SECRET-value-4242';
    try {
        const r = await playYaml(playbook('localhost'), { inventory: 'localhost ansible_connection=local\n' });
      expect(r.exitCode).toBe(2);
      const res = r.results('restrict VNC to the office')[0]!;
      expect(res.failed).toBe(true);
      const rid = fakes.aliyun.calls.at(-1)!.requestId;
      const all = JSON.stringify(r.events);
      expect(all).toContain(rid);
      expect(all).toContain('SignatureDoesNotMatch');
      for (const s of ['e2e-wrong-SECRET-value-4242', right]) expect(all).not.toContain(s);
    } finally {
      process.env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'] = right;
    }
  });
});
