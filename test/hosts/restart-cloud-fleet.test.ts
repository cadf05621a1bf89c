import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import type { FakeInstance } from '../cloud/fake-instances.js';
import { fleetAvailable, fleetHosts, fleetKey, fleetKnownHosts, fleetReset, fleetStop } from '../fleet/fleet.js';
import { rfbBanner, vncplay, writeVncInventory } from '../support/cli-helpers.js';

/**
 * restart.yml's last resort on a real host: h3 is powered off (its SSH does not answer), its "cloud" is the
 * wire-level ECS fake, and the fake's RebootInstance powers the host back on: a fleet reset (a clean root), then
 * vnc-setup.yml standing in for the disk a real reboot keeps; ECS reports Starting until both are done. The play
 * must reboot it through the provider, wait for SSH, restart VNC and see the RFB banner; a host whose SSH answers
 * is never rebooted.
 */

const ALIYUN = { id: 'LTAIfleetReboot001', secret: 'fleet-aliyun-SECRET-77aa00bb' };

describe.skipIf(!fleetAvailable())('restart.yml: reboot through the cloud when SSH does not answer', () => {
  let fake: FakeEcs;
  let inventory: string;
  let instance: FakeInstance;
  let env: NodeJS.ProcessEnv;
  let recovery: Promise<void> | undefined;
  const h3 = () => fleetHosts()[2]!;

  beforeAll(async () => {
    fake = await startFakeEcs({ [ALIYUN.id]: ALIYUN.secret });
    instance = fake.instances.add({ state: 'running' });
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-cloud-restart-'));
    inventory = await writeVncInventory(
      dir,
      [h3()],
      {
        vnc_password: 'restart1',
        vnc_cloud_provider: 'aliyun',
        vnc_cloud_region: 'cn-hangzhou',
        vnc_cloud_instance_id: instance.id,
        vnc_ssh_probe_timeout: 3,
        vnc_cloud_wait_timeout: 120,
      },
      { key: fleetKey(), knownHosts: fleetKnownHosts() },
    );
    env = {
      VNCPLAY_ALIYUN_ENDPOINT: fake.endpoint,
      ALIBABA_CLOUD_ACCESS_KEY_ID: ALIYUN.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ALIYUN.secret,
    };
    // The "instance" boots: the host comes back from a clean root and is provisioned as its image would be.
    fake.instances.onBegin = (i, state) => {
      if (state !== 'rebooting' && state !== 'pending') return;
      i.stuck = true;
      recovery = (async () => {
        await fleetReset(3);
        const setup = await vncplay(['playbooks/vnc-setup.yml', '-i', inventory]);
        if (setup.code !== 0) throw new Error(`vnc-setup after the reboot failed:\n${setup.stdout}\n${setup.stderr}`);
        i.stuck = false;
      })();
    };
    const setup = await vncplay(['playbooks/vnc-setup.yml', '-i', inventory]);
    expect(setup.code, setup.stdout).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await recovery?.catch(() => undefined);
    // Whatever happened, h3 is left up with its VNC set up, as the other fleet tests expect.
    if (!(await rfbBanner(h3().address, 22)).startsWith('SSH-')) await fleetReset(3);
    await fake?.close();
  }, 120_000);

  it('a powered-off host is rebooted through its provider, then VNC is restarted and answers', async () => {
    await fleetStop(3);
    const r = await vncplay(['playbooks/restart.yml', '-i', inventory], { env: { ...process.env, ...env }, timeoutMs: 300_000 });
    await recovery;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(fake.mutatingCalls().map((c) => [c.action, c.params['InstanceId'], c.params['ForceStop']])).toEqual([['RebootInstance', instance.id, 'true']]);
    expect(r.recap['h3']).toMatchObject({ failed: 0, unreachable: 0, ignored: 1 });
    expect(r.stdout).toMatch(/TASK \[Last resort \| reboot the host through its cloud provider\][^\n]*\n(changed|ok): \[h3\]/);
    expect(await rfbBanner(h3().address, 5901)).toMatch(/^RFB 003\.00[38]\n/);
    expect(r.stdout + r.stderr).not.toContain(ALIYUN.secret);
  }, 320_000);

  it('a host whose SSH answers is not rebooted', async () => {
    fake.calls.length = 0;
    const r = await vncplay(['playbooks/restart.yml', '-i', inventory], { env: { ...process.env, ...env }, timeoutMs: 300_000 });
    expect(r.code, r.stdout).toBe(0);
    expect(fake.calls).toEqual([]);
    expect(r.recap['h3']).toMatchObject({ failed: 0, ignored: 0 });
  }, 320_000);
});
