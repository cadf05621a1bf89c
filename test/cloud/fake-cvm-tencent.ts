import { fakeCloud, type FakeCloud, type FaultKind, FaultQueue, listen, type RecordedCall } from './fake-server.js';
import { InstanceFleet, type LifeState } from './fake-instances.js';
import { TcError, tencentApiHandler } from './fake-vpc-tencent.js';

/**
 * Fake Tencent Cloud CVM API 3.0 (version 2017-03-12), wire-compatible with the VPC fake: POST / with a JSON body,
 * X-TC-Action, verified TC3-HMAC-SHA256, errors inside an HTTP 200 answer. Calls: DescribeInstances,
 * StartInstances, StopInstances, RebootInstances, on fake-instances.ts's life cycle with CVM's state names.
 */

export interface FakeTencentCvm extends FakeCloud {
  readonly instances: InstanceFleet;
}

const CVM_STATE: Record<LifeState, string> = {
  pending: 'STARTING',
  running: 'RUNNING',
  rebooting: 'REBOOTING',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
  terminated: 'TERMINATING',
};

/** CVM refuses a start, stop or reboot from the wrong state with one code per state. */
const REFUSED: Record<LifeState, string> = {
  pending: 'UnsupportedOperation.InstanceStateStarting',
  running: 'UnsupportedOperation.InstanceStateRunning',
  rebooting: 'UnsupportedOperation.InstanceStateRebooting',
  stopping: 'UnsupportedOperation.InstanceStateStopping',
  stopped: 'UnsupportedOperation.InstanceStateStopped',
  terminated: 'UnsupportedOperation.InstanceStateTerminating',
};

/** The errors an injected fault answers with (a duplicate means nothing to CVM: the call goes through). */
const FAULTS: Partial<Record<FaultKind, [string, string]>> = {
  throttle: ['RequestLimitExceeded', 'Your current request times exceeds the frequency limit.'],
  auth: ['AuthFailure.SecretIdNotFound', 'The SecretId is not found.'],
};

export async function startFakeTencentCvm(accounts: Record<string, string>): Promise<FakeTencentCvm> {
  const calls: RecordedCall[] = [];
  const faults = new FaultQueue();
  const fleet = new InstanceFleet();

  const dispatch = (action: string, params: Record<string, unknown>): Record<string, unknown> => {
    const ids = (params['InstanceIds'] as string[] | undefined) ?? [];
    if (action === 'DescribeInstances') {
      const shown = [...fleet.instances.values()].filter((i) => ids.length === 0 || ids.includes(i.id));
      for (const i of shown) fleet.observe(i);
      return {
        TotalCount: shown.length,
        InstanceSet: shown.map((i) => ({
          InstanceId: i.id,
          InstanceName: i.id,
          InstanceState: CVM_STATE[i.state],
          PrivateIpAddresses: [i.privateIp],
          PublicIpAddresses: i.state === 'running' ? [i.publicIp] : null,
          Placement: { Zone: 'ap-guangzhou-3' },
        })),
      };
    }
    const found = ids.map((id) => {
      const i = fleet.instances.get(id);
      if (!i) throw new TcError('InvalidInstanceId.NotFound', `The instance \`${id}\` does not exist.`);
      return i;
    });
    const from: LifeState = action === 'StartInstances' ? 'stopped' : 'running';
    const bad = found.find((i) => i.state !== from);
    if (bad) throw new TcError(REFUSED[bad.state], `The instance \`${bad.id}\` is ${CVM_STATE[bad.state]}.`);
    const forced = params['StopType'] === 'HARD';
    for (const i of found) {
      if (action === 'StartInstances') fleet.begin(i, 'pending');
      else if (action === 'StopInstances') fleet.begin(i, 'stopping', forced);
      else if (action === 'RebootInstances') fleet.begin(i, 'rebooting', forced);
      else throw new TcError('InvalidAction', `The requested action \`${action}\` does not exist.`);
    }
    return {};
  };

  const handle = tencentApiHandler(accounts, calls, faults, FAULTS, dispatch);

  const srv = await listen(handle);
  return {
    ...fakeCloud(srv, calls, faults),
    instances: fleet,
  };
}
