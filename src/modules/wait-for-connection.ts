import { setTimeout as sleep } from 'node:timers/promises';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * ansible.builtin.wait_for_connection: until the host answers a command over a NEW connection (each attempt drops
 * the run's pooled one, so a host that is still booting, or was just rebooted, is reached afresh). It runs on the
 * controller: the runner opens no connection before it, so an unreachable host is what it waits for, not a failure.
 */
const spec = defineSpec({
  description: 'Wait until the host can be reached and runs a command again (a fresh connection each attempt); returns `elapsed`.',
  options: {
    connect_timeout: { type: 'int', default: 5, min: 1, description: 'Seconds one connection attempt may take.' },
    delay: { type: 'int', default: 0, min: 0, description: 'Seconds to wait before the first attempt.' },
    sleep: { type: 'int', default: 1, min: 0, description: 'Seconds between attempts.' },
    timeout: { type: 'int', default: 600, min: 0, description: 'Seconds to wait in all.' },
  },
});

export const waitForConnectionModule = actionModule(spec, {
  kind: 'action',
  name: 'wait_for_connection',
  where: 'controller',
  // Ansible skips it in check mode.
  inCheckMode: 'skip',
  async run(args, ctx) {
    const started = Date.now();
    const elapsed = (): number => Math.floor((Date.now() - started) / 1000);
    const pause = (s: number): Promise<unknown> => sleep(s * 1000, undefined, { signal: ctx.signal }).catch(() => undefined);
    const reconnect = ctx.reconnect;
    if (!reconnect) return { failed: true, msg: 'wait_for_connection needs a connection it can open', data: { elapsed: 0 } };
    if (args.delay > 0) await pause(args.delay);
    const end = Date.now() + args.timeout * 1000;
    let error = '';
    while (Date.now() < end && !ctx.signal.aborted) {
      try {
        await reconnect(args.connect_timeout * 1000);
        const res = await ctx.exec(['printf', 'pong']);
        if (res.rc === 0 && res.stdout === 'pong') return { changed: false, data: { elapsed: elapsed() } };
        error = `ping test failed: ${res.stderr.trim()}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      await pause(args.sleep);
    }
    return { failed: true, msg: `timed out waiting for ping module test: ${error}`, data: { elapsed: elapsed() } };
  },
});
