import type { ModuleContext } from './types.js';

/**
 * What libselinux's is_selinux_enabled() and security_getenforce() answer, read from selinuxfs (vncplay runs no
 * Python on the host): SELinux is enabled when /sys/fs/selinux/enforce exists (selinuxfs mounted, a policy loaded).
 */
export interface SelinuxRuntime {
  enabled: boolean;
  enforcing: boolean;
}

/** Shell lines printing `selinux_enabled=0|1` and `selinux_enforce=0|1`, for a module's one gather command. */
export const SELINUX_STATUS_LINES = [
  'if [ -e /sys/fs/selinux/enforce ]; then echo selinux_enabled=1; echo "selinux_enforce=$(cat /sys/fs/selinux/enforce)"; else echo selinux_enabled=0; fi',
];

/** key=value lines of a gather command's output. */
export function keyValues(stdout: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !kv.has(line.slice(0, eq))) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return kv;
}

export function selinuxRuntime(kv: Map<string, string>): SelinuxRuntime {
  return { enabled: kv.get('selinux_enabled') === '1', enforcing: kv.get('selinux_enforce') === '1' };
}

/** Ansible's answer on a host without SELinux (seboolean, seport, sefcontext …) unless ignore_selinux_state. */
export const SELINUX_DISABLED_MSG = 'SELinux is disabled on this host.';

/** Runs a fixed script with positional parameters and returns its key=value output, or the failure text. */
export async function gatherKeyValues(ctx: ModuleContext, script: string, params: readonly string[]): Promise<Map<string, string> | string> {
  const res = await ctx.exec(['sh', '-c', script, 'sh', ...params]);
  if (res.rc !== 0) return res.stderr.trim() || `reading the SELinux state failed (rc ${res.rc})`;
  return keyValues(res.stdout);
}
