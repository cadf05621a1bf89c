import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_ENV } from '../../src/modules/security-group/index.js';
import { startFakeEc2, type FakeEc2 } from '../cloud/fake-ec2.js';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import { startFakeTencentVpc, type FakeTencentVpc } from '../cloud/fake-vpc-tencent.js';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, fleetReset, hostExec, hostExecOk } from '../fleet/fleet.js';
import { vncplay, writeVncInventory } from '../support/cli-helpers.js';

/** From inside fleet host `from`, try to read the RFB banner of `to`:5901; '' when refused or dropped. */
async function bannerFrom(from: number, toAddress: string): Promise<string> {
  const probe = `import socket,sys
s=socket.socket(); s.settimeout(2)
try:
    s.connect((sys.argv[1], 5901)); print(s.recv(12).decode(), end='')
except Exception as e:
    print('', end='')`;
  return (await hostExec(from, ['python3', '-c', probe, toAddress])).stdout;
}

const CREDS = {
  aws: { id: 'AKIAHARDEN000000001', secret: 'harden-aws-SECRET-1111', idVar: 'AWS_ACCESS_KEY_ID', secretVar: 'AWS_SECRET_ACCESS_KEY' },
  aliyun: { id: 'LTAIharden00000001', secret: 'harden-aliyun-SECRET-2222', idVar: 'ALIBABA_CLOUD_ACCESS_KEY_ID', secretVar: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' },
  tencent: { id: 'AKIDharden0000001', secret: 'harden-tencent-SECRET-3333', idVar: 'TENCENTCLOUD_SECRET_ID', secretVar: 'TENCENTCLOUD_SECRET_KEY' },
} as const;

describe.skipIf(!fleetAvailable())('playbooks/harden.yml on the fleet', () => {
  let inventory: string;
  let fakes: { aws: FakeEc2; aliyun: FakeEcs; tencent: FakeTencentVpc };
  let cloudEnv: NodeJS.ProcessEnv;
  const [h1, h2] = fleetAvailable() ? fleetHosts() : [];

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-harden-'));
    inventory = await writeVncInventory(
      dir,
      [h1!],
      { vnc_password: 'harden-long-password', vnc_allowed_cidrs: [`${h2!.address}/32`] },
      { key: fleetKey(), knownHosts: fleetKnownHosts() },
    );
    const setup = await vncplay(['playbooks/vnc-setup.yml', '-i', inventory]);
    expect(setup.code, setup.stdout).toBe(0);
    fakes = {
      aws: await startFakeEc2({ [CREDS.aws.id]: CREDS.aws.secret }),
      aliyun: await startFakeEcs({ [CREDS.aliyun.id]: CREDS.aliyun.secret }),
      tencent: await startFakeTencentVpc({ [CREDS.tencent.id]: CREDS.tencent.secret }),
    };
    cloudEnv = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    for (const p of ['aws', 'aliyun', 'tencent'] as const) {
      cloudEnv[CREDS[p].idVar] = CREDS[p].id;
      cloudEnv[CREDS[p].secretVar] = CREDS[p].secret;
      cloudEnv[ENDPOINT_ENV[p]] = fakes[p].endpoint;
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
    // Firewall tables, sshd drop-in and TigerVNC policy all go with a clean upper layer.
    await fleetReset(1);
  });

  it('converges, re-runs with changed=0, and only the allowed source reaches VNC', async () => {
    expect(await bannerFrom(3, h1!.address)).toMatch(/^RFB 003\.00[38]/);
    const first = await vncplay(['playbooks/harden.yml', '-i', inventory]);
    expect(first.code, first.stdout).toBe(0);
    expect(first.recap['h1']!.changed).toBeGreaterThan(0);
    expect(first.stdout).toMatch(/WARNING: vnc_password has 20 characters; VncAuth uses only the first 8/);
    const second = await vncplay(['playbooks/harden.yml', '-i', inventory]);
    expect(second.code, second.stdout).toBe(0);
    expect(second.recap['h1']).toMatchObject({ changed: 0, failed: 0 });

    expect(await bannerFrom(2, h1!.address)).toMatch(/^RFB 003\.00[38]/);
    expect(await bannerFrom(3, h1!.address)).toBe('');
    // sshd took the drop-in, and vncplay still gets in (SSH kept open for the controller).
    const effective = await hostExecOk(1, ['sshd', '-T']);
    expect(effective).toMatch(/^passwordauthentication no$/m);
    expect(effective).toMatch(/^permitrootlogin without-password$/m);
    expect(await hostExecOk(1, ['cat', '/etc/tigervnc/vncserver-config-mandatory'])).toMatch(/^\$SecurityTypes = "TLSVnc";$/m);
    expect((await hostExecOk(1, ['stat', '-c', '%a %U', '/home/vncplay/.vnc/passwd'])).trim()).toBe('600 vncplay');
  });

  it('a broken sshd setting is refused by validate and the old config stays', async () => {
    const before = await hostExec(1, ['sha1sum', '/etc/ssh/sshd_config.d/00-vncplay-harden.conf']);
    const pb = path.join(path.dirname(inventory), 'bad-sshd.yml');
    await writeFile(
      pb,
      `- hosts: vnc
  gather_facts: false
  tasks:
    - copy:
        dest: /etc/ssh/sshd_config.d/00-vncplay-harden.conf
        content: "PasswordAuthentication maybe\\n"
        validate: sshd -t -f %s
`,
    );
    const r = await vncplay([pb, '-i', inventory]);
    expect(r.code).toBe(2);
    expect((await hostExec(1, ['sha1sum', '/etc/ssh/sshd_config.d/00-vncplay-harden.conf'])).stdout).toBe(before.stdout);
  });

  it.each(['aws', 'aliyun', 'tencent'] as const)('restricts VNC in the %s security group with the same task', async (provider) => {
    const extra = JSON.stringify({
      cloud_provider: provider,
      cloud_region: provider === 'aws' ? 'eu-central-1' : provider === 'aliyun' ? 'cn-hangzhou' : 'ap-guangzhou',
      cloud_security_group_name: `vnc-harden-${provider}`,
      ...(provider === 'tencent' ? {} : { cloud_vpc_id: 'vpc-harden' }),
    });
    const first = await vncplay(['playbooks/harden.yml', '-i', inventory, '-e', extra, '--json'], { env: cloudEnv });
    expect(first.code, first.stdout.slice(-3000)).toBe(0);
    const sg = first.events.find((e) => e.type === 'task_result' && e.task.module === 'security_group');
    expect(sg?.type === 'task_result' && sg.status).toBe('changed');
    const mutatingAfterFirst = fakes[provider].mutatingCalls().length;
    expect(mutatingAfterFirst).toBeGreaterThan(0);
    const again = await vncplay(['playbooks/harden.yml', '-i', inventory, '-e', extra], { env: cloudEnv });
    expect(again.code).toBe(0);
    expect(again.recap['h1']).toMatchObject({ changed: 0 });
    expect(fakes[provider].mutatingCalls().length).toBe(mutatingAfterFirst);
    for (const secret of Object.values(CREDS).map((c) => c.secret)) {
      expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain(secret);
    }
  });
});
