import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import { vncplay } from '../support/cli-helpers.js';

/**
 * restart.yml's security-group pre-check for cloud hosts, against the wire-level ECS fake (Aliyun's SDK signs and
 * sends real requests): a group without the rule for a display's port stops the host before anything on it is
 * touched, and nothing is changed in the group (security_group runs in check mode); a group with the rule lets the
 * play go on to the host's own pre-checks. The host is the controller (local connection): the refusal must come
 * before any host command, and the admitted run is only followed up to the next pre-check.
 */
const ALIYUN = { id: 'LTAIsgPrecheck00001', secret: 'sg-precheck-SECRET-0c1d2e' };

describe('restart.yml refuses a cloud host whose security group does not admit the VNC port', () => {
  let fake: FakeEcs;
  let inventory: string;
  let env: NodeJS.ProcessEnv;
  let groupId: string;

  beforeAll(async () => {
    fake = await startFakeEcs({ [ALIYUN.id]: ALIYUN.secret });
    const group = fake.addGroup({ name: 'vnc-hosts' });
    group.permissions.push(fake.permission({ Direction: 'ingress', IpProtocol: 'tcp', PortRange: '22/22', SourceCidrIp: '0.0.0.0/0' }));
    groupId = group.id;
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-restart-sg-'));
    inventory = path.join(dir, 'inventory.ini');
    await writeFile(
      inventory,
      [
        '[vnc]',
        `cloudvnc ansible_connection=local vnc_cloud_provider=aliyun vnc_cloud_region=cn-hangzhou vnc_cloud_security_group_id=${groupId} vnc_cloud_vnc_cidr=198.51.100.0/24`,
        '',
      ].join('\n'),
    );
    env = { VNCPLAY_ALIYUN_ENDPOINT: fake.endpoint, ALIBABA_CLOUD_ACCESS_KEY_ID: ALIYUN.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ALIYUN.secret };
  });

  afterAll(async () => {
    await fake?.close();
  });

  const taskResults = (run: Awaited<ReturnType<typeof vncplay>>, name: string) =>
    run.events.filter((e) => e.type === 'task_result' && e.task.name === name);

  it('a group without the rule: refused before anything else, the group untouched', async () => {
    const run = await vncplay(['playbooks/restart.yml', '-i', inventory, '--json', '-e', '{"vnc_displays": [1, 2]}'], { env });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain(`aliyun security group ${groupId} does not admit tcp 5901 from 198.51.100.0/24`);
    expect(run.stdout).toContain('does not admit tcp 5902 from 198.51.100.0/24');
    expect(run.recap['cloudvnc']).toMatchObject({ failed: 1 });
    // Nothing after the refusal ran (the host's own checks, the stop).
    expect(taskResults(run, 'Pre-check | the systemd unit exists')).toHaveLength(0);
    expect(taskResults(run, 'Stop the VNC server')).toHaveLength(0);
    expect(fake.mutatingCalls()).toHaveLength(0);
  });

  it('a group with the rule: the check passes, unchanged, and the play goes on', async () => {
    const group = fake.groups.get(groupId)!;
    for (const port of ['5901/5901', '5902/5902']) {
      group.permissions.push(fake.permission({ Direction: 'ingress', IpProtocol: 'tcp', PortRange: port, SourceCidrIp: '198.51.100.0/24' }));
    }
    const run = await vncplay(['playbooks/restart.yml', '-i', inventory, '--json', '-e', '{"vnc_displays": [1, 2]}'], { env });
    const check = taskResults(run, 'Pre-check | the security group has the rule for each display\'s port');
    expect(check).toHaveLength(1);
    expect(check[0]).toMatchObject({ changed: false, failed: false });
    const refusal = taskResults(run, 'Pre-check | the security group admits every display\'s port');
    expect(refusal.length).toBeGreaterThan(0);
    expect(refusal.every((e) => e.type === 'task_result' && e.status === 'skipped')).toBe(true);
    expect(taskResults(run, 'Pre-check | the systemd unit exists')).toHaveLength(1);
    expect(fake.mutatingCalls()).toHaveLength(0);
  });
});
