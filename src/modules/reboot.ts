import { setTimeout as sleep } from 'node:timers/promises';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleContext } from './types.js';

/**
 * ansible.builtin.reboot, as Ansible's action plugin does it: read the boot id, run `shutdown -r`, wait
 * post_reboot_delay, then — on a NEW connection each attempt (ctx.reconnect drops the run's pooled one, so the
 * following tasks use the new one too) — wait for another boot id, then for test_command to succeed. Attempts back
 * off as Ansible's do (1, 2, 4, 8, then 12 s, plus up to 1 s), within reboot_timeout each.
 */
const spec = defineSpec({
  description: 'Reboot the host, wait for it to come back (a new boot id, then test_command), and return `rebooted` and `elapsed`.',
  options: {
    msg: { type: 'str', default: 'Reboot initiated by Ansible', description: 'Message shown to logged-in users before the reboot.' },
    pre_reboot_delay: { type: 'int', default: 0, aliases: ['pre_reboot_delay_sec'], description: "Seconds before the reboot, in whole minutes (shutdown's delay; less than 60 is now)." },
    post_reboot_delay: { type: 'int', default: 0, aliases: ['post_reboot_delay_sec'], description: 'Seconds to wait after the reboot command before checking the host.' },
    reboot_timeout: { type: 'int', default: 600, min: 1, aliases: ['reboot_timeout_sec'], description: 'Seconds to wait for the host to come back, for each of the two checks.' },
    connect_timeout: { type: 'int', min: 1, aliases: ['connect_timeout_sec'], description: "Seconds one connection attempt may take (default: the connection's own timeout)." },
    test_command: { type: 'str', default: 'whoami', description: 'Command that must succeed on the rebooted host.' },
    boot_time_command: { type: 'str', default: 'cat /proc/sys/kernel/random/boot_id', description: 'Command whose output changes with every boot.' },
    reboot_command: { type: 'str', description: 'Command that reboots the host, instead of `shutdown -r DELAY "MSG"`.' },
    search_paths: { type: 'list', elements: 'str', default: ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin'], description: 'Where to look for shutdown.' },
  },
});

const ATTEMPT_LIMIT_S = 12;

/** Runs `check` until it resolves, backing off between attempts; the last error when `timeoutS` is over. */
async function untilSuccess(check: () => Promise<void>, timeoutS: number, what: string, signal: AbortSignal): Promise<string | undefined> {
  const end = Date.now() + timeoutS * 1000;
  for (let fails = 0; Date.now() < end; fails++) {
    try {
      await check();
      return undefined;
    } catch {
      if (signal.aborted) break;
      const jitter = Math.random();
      await sleep(Math.min(2 ** fails, ATTEMPT_LIMIT_S) * 1000 + jitter * 1000, undefined, { signal }).catch(() => undefined);
    }
  }
  return `Timed out waiting for ${what} (timeout=${timeoutS})`;
}

async function shell(ctx: ModuleContext, line: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return ctx.exec(['sh', '-c', line]);
}

/** shutdown where search_paths has it (Ansible looks there, not on PATH). */
function shutdownArgv(search: readonly string[]): string {
  return `for d in ${search.map((d) => `'${d.replaceAll("'", `'\\''`)}'`).join(' ')}; do [ -x "$d/shutdown" ] && exec "$d/shutdown" "$@"; done; echo "Unable to find command shutdown in search paths" >&2; exit 127`;
}

export const rebootModule = actionModule(spec, {
  kind: 'action',
  name: 'reboot',
  where: 'host',
  // Ansible reports the reboot as done in check mode, without running anything.
  inCheckMode: 'run',
  async run(args, ctx) {
    if (ctx.conn?.kind === 'local') {
      return { failed: true, msg: 'Running reboot with local connection would reboot the control node.', data: { elapsed: 0, rebooted: false } };
    }
    if (ctx.check) return { changed: true, data: { elapsed: 0, rebooted: true } };
    const reconnect = ctx.reconnect;
    if (!reconnect) return { failed: true, msg: 'reboot needs a connection it can open again', data: { rebooted: false } };
    const before = await shell(ctx, args.boot_time_command);
    if (before.rc !== 0) {
      return { failed: true, msg: `Failed to get last boot time information. rc=${before.rc}, stdout=${before.stdout}, stderr=${before.stderr}`, data: { reboot: false } };
    }
    const previous = before.stdout.trim();
    const started = Date.now();
    const elapsed = (): number => Math.floor((Date.now() - started) / 1000);
    const argv =
      args.reboot_command !== undefined
        ? ['sh', '-c', args.reboot_command]
        : ['sh', '-c', shutdownArgv(args.search_paths), 'sh', '-r', String(Math.floor(Math.max(args.pre_reboot_delay, 0) / 60)), args.msg];
    // The host may close the connection before the command answers: that is the reboot starting, not a failure.
    const res = await ctx.exec(argv, { timeoutMs: 30_000 }).catch(() => ({ rc: 0, stdout: '', stderr: '' }));
    if (res.rc !== 0) {
      return { failed: true, msg: `Reboot command failed. Error was: '${res.stdout.trim()}, ${res.stderr.trim()}'`, data: { rebooted: false, elapsed: elapsed() } };
    }
    if (args.post_reboot_delay > 0) await sleep(args.post_reboot_delay * 1000, undefined, { signal: ctx.signal }).catch(() => undefined);
    const timeoutMs = args.connect_timeout !== undefined ? args.connect_timeout * 1000 : undefined;
    const booted = await untilSuccess(
      async () => {
        await reconnect(timeoutMs);
        const now = (await shell(ctx, args.boot_time_command)).stdout.trim();
        if (now === '' || now === previous) throw new Error('boot time has not changed');
      },
      args.reboot_timeout,
      'last boot time check',
      ctx.signal,
    );
    const tested =
      booted ??
      (await untilSuccess(
        async () => {
          const r = await shell(ctx, args.test_command).catch(async (e: unknown) => {
            await reconnect(timeoutMs);
            throw e;
          });
          if (r.rc !== 0) throw new Error(`Test command failed: ${r.stderr} ${r.stdout}`);
        },
        args.reboot_timeout,
        'post-reboot test command',
        ctx.signal,
      ));
    if (tested !== undefined) return { failed: true, msg: tested, data: { rebooted: true, elapsed: elapsed() } };
    return { changed: true, data: { rebooted: true, elapsed: elapsed() } };
  },
});
