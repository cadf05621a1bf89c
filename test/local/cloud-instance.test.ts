import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudInstance, INSTANCE_ENDPOINT_ENV, setInstancePollPolicy, type PollPolicy } from '../../src/modules/cloud-instance/index.js';
import type { Provider } from '../../src/modules/cloud-instance/types.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { StepOutcome } from '../../src/modules/types.js';
import { startFakeTencentCvm, type FakeTencentCvm } from '../cloud/fake-cvm-tencent.js';
import { startFakeEc2, type FakeEc2 } from '../cloud/fake-ec2.js';
import { startFakeEcs, type FakeEcs } from '../cloud/fake-ecs.js';
import type { FakeInstance, LifeState } from '../cloud/fake-instances.js';
import { testContext } from '../support/module-harness.js';
import { parsedArgs } from '../support/module-args.js';
import { playYaml } from '../support/runner-helpers.js';
import { pointSdksAtFakes, type PlantedCredentials } from '../cloud/sdk-environment.js';

/**
 * cloud_instance against wire-level fakes of EC2, ECS and CVM: the official SDKs sign and send real requests and
 * parse real answers; the fakes move instances through their providers' transitional states, one state per poll.
 */

const CREDS: Record<Provider, PlantedCredentials> = {
  aws: { id: 'AKIAINSTTEST0000001', secret: 'inst-aws-SECRET-1a2b3c4d', idVar: 'AWS_ACCESS_KEY_ID', secretVar: 'AWS_SECRET_ACCESS_KEY' },
  aliyun: { id: 'LTAIinstTest000001', secret: 'inst-aliyun-SECRET-5e6f7a', idVar: 'ALIBABA_CLOUD_ACCESS_KEY_ID', secretVar: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET' },
  tencent: { id: 'AKIDinstTest000001', secret: 'inst-tencent-SECRET-8b9c0d', idVar: 'TENCENTCLOUD_SECRET_ID', secretVar: 'TENCENTCLOUD_SECRET_KEY' },
};
const REGION: Record<Provider, string> = { aws: 'eu-central-1', aliyun: 'cn-hangzhou', tencent: 'ap-guangzhou' };
/** Each provider's names for the transitional state a start goes through, and for the settled ones. */
const WIRE: Record<Provider, { starting: string; stopping: string; running: string }> = {
  aws: { starting: 'pending', stopping: 'stopping', running: 'running' },
  aliyun: { starting: 'Starting', stopping: 'Stopping', running: 'Running' },
  tencent: { starting: 'STARTING', stopping: 'STOPPING', running: 'RUNNING' },
};
const START: Record<Provider, string> = { aws: 'StartInstances', aliyun: 'StartInstance', tencent: 'StartInstances' };
const STOP: Record<Provider, string> = { aws: 'StopInstances', aliyun: 'StopInstance', tencent: 'StopInstances' };
const REBOOT: Record<Provider, string> = { aws: 'RebootInstances', aliyun: 'RebootInstance', tencent: 'RebootInstances' };

let restoreEnvironment: () => void;
let savedPoll: PollPolicy;
let fakes: { aws: FakeEc2; aliyun: FakeEcs; tencent: FakeTencentCvm };

beforeAll(async () => {
  fakes = {
    aws: await startFakeEc2({ [CREDS.aws.id]: CREDS.aws.secret }),
    aliyun: await startFakeEcs({ [CREDS.aliyun.id]: CREDS.aliyun.secret }),
    tencent: await startFakeTencentCvm({ [CREDS.tencent.id]: CREDS.tencent.secret }),
  };
  restoreEnvironment = pointSdksAtFakes(CREDS, INSTANCE_ENDPOINT_ENV, { aws: fakes.aws.endpoint, aliyun: fakes.aliyun.endpoint, tencent: fakes.tencent.endpoint });
  // The real backoff shape, shorter pauses: what the tests check is the number of polls and the states seen.
  savedPoll = setInstancePollPolicy({ firstDelayMs: 20, maxDelayMs: 200 });
});

afterAll(async () => {
  setInstancePollPolicy(savedPoll);
  restoreEnvironment();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

beforeEach(() => {
  for (const f of Object.values(fakes)) f.calls.length = 0;
});

const ac = new AbortController();

interface TaskRun {
  changed: boolean;
  planned: string[];
  data: Record<string, unknown>;
  msg?: string;
}

/** One task the way the runner runs a planned module; `check` plans and never runs the steps. */
async function runTask(raw: Record<string, unknown>, check = false): Promise<TaskRun> {
  const args = parsedArgs(cloudInstance, raw);
  // A task of its own: its own scope, so its SDK client is made for it (the tests change credentials between cases).
  const ctx = testContext(undefined, { signal: ac.signal });
  const facts = await cloudInstance.gather(args, ctx);
  const changes = cloudInstance.plan(args, facts);
  const planned = changes.map((c) => c.summary);
  if (check || changes.length === 0) return { changed: changes.length > 0, planned, data: cloudInstance.report!(args, facts) };
  const outcomes: StepOutcome[] = [];
  for (const c of changes) for (const s of c.steps) if (s.kind === 'call') outcomes.push({ step: s, value: await s.run(ac.signal) });
  const ret = await cloudInstance.finish!(args, facts, outcomes, ctx);
  const out: TaskRun = { changed: ret.changed ?? false, planned, data: ret.data ?? {} };
  if (ret.msg) out.msg = ret.msg;
  return out;
}

const providers: Provider[] = ['aws', 'aliyun', 'tencent'];

function addInstance(p: Provider, state: LifeState, extra: Partial<FakeInstance> = {}): FakeInstance {
  return fakes[p].instances.add({ state, ...extra }, p === 'tencent' ? 'ins' : 'i');
}
const actions = (p: Provider) => fakes[p].calls.map((c) => c.action);
const mutating = (p: Provider) => fakes[p].mutatingCalls().map((c) => c.action);
const describes = (p: Provider) => actions(p).filter((a) => a === 'DescribeInstances').length;

describe.each(providers)('cloud_instance on %s', (p) => {
  const base = () => ({ provider: p, region: REGION[p] });

  it('starts a stopped instance and waits through the starting state to running, with its addresses', async () => {
    const inst = addInstance(p, 'stopped');
    const r = await runTask({ ...base(), instance_id: inst.id, state: 'running' });
    expect(r.changed).toBe(true);
    expect(mutating(p)).toEqual([START[p]]);
    // gather + the step's own read + the two polls the fake holds the starting state for + the one that sees running.
    expect(describes(p)).toBeGreaterThanOrEqual(4);
    expect(r.data['instance']).toEqual({
      id: inst.id,
      state: 'running',
      provider_state: WIRE[p].running,
      private_ips: [inst.privateIp],
      public_ips: [inst.publicIp],
    });
    expect(inst.state).toBe('running');

    // Idempotent: the same task again reads and changes nothing.
    fakes[p].calls.length = 0;
    const again = await runTask({ ...base(), instance_id: inst.id, state: 'running' });
    expect(again.changed).toBe(false);
    expect(again.planned).toEqual([]);
    expect(mutating(p)).toEqual([]);
    expect((again.data['instance'] as Record<string, unknown>)['state']).toBe('running');
  });

  it('stops a running instance (forced when asked) and is idempotent on a stopped one', async () => {
    const inst = addInstance(p, 'running');
    const r = await runTask({ ...base(), instance_id: inst.id, state: 'stopped', force: true });
    expect(r.changed).toBe(true);
    expect(mutating(p)).toEqual([STOP[p]]);
    expect(inst.lastForced).toBe(true);
    expect((r.data['instance'] as Record<string, unknown>)['state']).toBe('stopped');
    expect((r.data['instance'] as Record<string, unknown>)['public_ips']).toEqual([]);

    fakes[p].calls.length = 0;
    const again = await runTask({ ...base(), instance_id: inst.id, state: 'stopped' });
    expect(again.changed).toBe(false);
    expect(mutating(p)).toEqual([]);
  });

  it('restarted always reboots a running instance and starts a stopped one', async () => {
    const running = addInstance(p, 'running');
    const r = await runTask({ ...base(), instance_id: running.id, state: 'restarted' });
    expect(r.changed).toBe(true);
    expect(mutating(p)).toEqual([REBOOT[p]]);
    // EC2 shows a rebooting instance as running (the reboot happens inside it); the others report it settled.
    expect(running.state).toBe(p === 'aws' ? 'rebooting' : 'running');
    expect(running.lastForced).toBe(false);

    fakes[p].calls.length = 0;
    const twice = await runTask({ ...base(), instance_id: running.id, state: 'restarted' });
    expect(twice.changed).toBe(true);
    expect(mutating(p)).toEqual([REBOOT[p]]);

    fakes[p].calls.length = 0;
    const stopped = addInstance(p, 'stopped');
    const s = await runTask({ ...base(), instance_id: stopped.id, state: 'restarted' });
    expect(s.changed).toBe(true);
    expect(mutating(p)).toEqual([START[p]]);
    expect(stopped.state).toBe('running');
  });

  it('waits out a stop under way before starting (the provider refuses to start a stopping instance)', async () => {
    const inst = addInstance(p, 'stopping');
    const r = await runTask({ ...base(), instance_id: inst.id, state: 'running' });
    expect(r.changed).toBe(true);
    expect(mutating(p)).toEqual([START[p]]);
    expect(fakes[p].calls.filter((c) => c.errorCode)).toEqual([]);
    expect(inst.state).toBe('running');
  });

  it('check mode reports the change it would make and calls no mutating action', async () => {
    const inst = addInstance(p, 'running');
    const r = await runTask({ ...base(), instance_id: inst.id, state: 'stopped' }, true);
    expect(r.changed).toBe(true);
    expect(r.planned).toEqual([`stop ${p} instance ${inst.id} in ${REGION[p]}: ${WIRE[p].running} → stopped`]);
    expect(mutating(p)).toEqual([]);
    expect(inst.state).toBe('running');
    expect((r.data['instance'] as Record<string, unknown>)['state']).toBe('running');
  });

  it('an unknown instance fails naming provider, region, id and the provider code; nothing is called', async () => {
    const code = p === 'aws' ? 'InvalidInstanceID.NotFound' : 'InvalidInstanceId.NotFound';
    const missing = p === 'tencent' ? 'ins-00000000' : 'i-0000000000000dead';
    await expect(runTask({ ...base(), instance_id: missing, state: 'running' })).rejects.toThrow(
      `${p} instance ${missing} in ${REGION[p]} not found (${code})`,
    );
    expect(mutating(p)).toEqual([]);
  });

  it('a state that never comes fails within wait_timeout, naming the last state seen', async () => {
    const inst = addInstance(p, 'stopped', { stuck: true });
    const started = Date.now();
    await expect(runTask({ ...base(), instance_id: inst.id, state: 'running', wait_timeout: 1 })).rejects.toThrow(
      `${p} instance ${inst.id} in ${REGION[p]} did not reach running within 1s; last state seen: ${WIRE[p].starting}`,
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(3000);
    expect(mutating(p)).toEqual([START[p]]);
  });

  it('the hosts of one task share one SDK client; the next task makes its own (no cache outlives the task)', async () => {
    const inst = addInstance(p, 'running');
    const args = parsedArgs(cloudInstance, { ...base(), instance_id: inst.id, state: 'running' });
    const task = testContext(undefined, { signal: ac.signal });
    const [h1, h2] = await Promise.all([cloudInstance.gather(args, task), cloudInstance.gather(args, task)]);
    expect(h2.adapter).toBe(h1.adapter);
    const next = await cloudInstance.gather(args, testContext(undefined, { signal: ac.signal }));
    expect(next.adapter).not.toBe(h1.adapter);
  });

  it('wait: false returns after the call, with the transitional state', async () => {
    const inst = addInstance(p, 'stopped');
    const r = await runTask({ ...base(), instance_id: inst.id, state: 'running', wait: false });
    expect(r.changed).toBe(true);
    expect((r.data['instance'] as Record<string, unknown>)['provider_state']).toBe(WIRE[p].starting);
  });
});

describe('cloud_instance in a playbook', () => {
  it('runs per provider from one task shape, registers instance, and hides secret_key', async () => {
    const ids = providers.map((p) => addInstance(p, 'stopped').id);
    const yaml = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: start
      cloud_instance:
        provider: "{{ item.0 }}"
        region: "{{ item.1 }}"
        instance_id: "{{ item.2 }}"
        access_key: "{{ keys[item.0].id }}"
        secret_key: "{{ keys[item.0].secret }}"
      loop: ${JSON.stringify(providers.map((p, i) => [p, REGION[p], ids[i]]))}
      register: started
  vars:
    keys: ${JSON.stringify(Object.fromEntries(providers.map((p) => [p, { id: CREDS[p].id, secret: CREDS[p].secret }])))}
`;
    const r = await playYaml(yaml, { inventory: 'localhost ansible_connection=local\n' });
    expect(r.exitCode, JSON.stringify(r.results('start'))).toBe(0);
    const items = r.results('start')[0]!.result!['results'] as Record<string, unknown>[];
    expect(items.map((i) => (i['instance'] as Record<string, unknown>)['state'])).toEqual(['running', 'running', 'running']);
    expect(items.map((i) => i['changed'])).toEqual([true, true, true]);
    const shown = JSON.stringify(r.events);
    for (const p of providers) expect(shown).not.toContain(CREDS[p].secret);

    const check = await playYaml(yaml, { inventory: 'localhost ansible_connection=local\n', check: true });
    expect(check.stats['localhost']).toMatchObject({ changed: 0, failed: 0 });
  });

  it('bad parameters are load errors at the offending value', async () => {
    const dir = (await playYaml('- hosts: localhost\n  gather_facts: false\n  tasks: []\n', { inventory: 'localhost ansible_connection=local\n' })).dir;
    const file = path.join(dir, 'bad.yml');
    await writeFile(
      file,
      ['- hosts: localhost', '  tasks:', '    - cloud_instance:', '        provider: gcp', '        region: us-east1', '        instance_id: i-1', '        state: rebooted', ''].join('\n'),
    );
    const err = await loadPlaybook(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    const text = String((err as { format?: () => string }).format?.() ?? err);
    expect(text).toContain('bad.yml:4:19: error[E_ENUM]: `provider` must be one of `aws`, `aliyun`, `tencent`, got the string "gcp"');
    expect(text).toContain('bad.yml:7:16: error[E_ENUM]: `state` must be one of `running`, `stopped`, `restarted`, got the string "rebooted"');
  });
});
