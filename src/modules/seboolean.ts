import { gatherKeyValues, SELINUX_DISABLED_MSG, SELINUX_STATUS_LINES, selinuxRuntime } from './selinux-common.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleReturn } from './types.js';

/**
 * seboolean: ansible.posix.seboolean. Reads the boolean from selinuxfs (/sys/fs/selinux/booleans/NAME: "current
 * pending") and sets it with setsebool (-P when persistent). On a host without SELinux it fails as Ansible does.
 */
const spec = defineSpec({
  description: 'Set an SELinux boolean, for the running system or persistently (setsebool).',
  options: {
    name: { type: 'str', required: true, description: 'The boolean.' },
    state: { type: 'bool', required: true, description: 'Its value.' },
    persistent: { type: 'bool', default: false, description: 'Also keep the value across reboots (setsebool -P).' },
    ignore_selinux_state: { type: 'bool', default: false, description: 'Run even when SELinux is disabled on the host.' },
  },
});

const GATHER = [
  ...SELINUX_STATUS_LINES,
  'dir=/sys/fs/selinux/booleans',
  'if [ -d "$dir" ]; then echo booleans=1; fi',
  'if [ -r "$dir/$1" ]; then echo "value=$(cut -d" " -f1 "$dir/$1")"; fi',
].join('\n');

export const sebooleanModule = actionModule(spec, {
  kind: 'action',
  name: 'seboolean',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const kv = await gatherKeyValues(ctx, GATHER, [args.name]);
    if (typeof kv === 'string') return { failed: true, msg: kv };
    if (!selinuxRuntime(kv).enabled && !args.ignore_selinux_state) return { failed: true, msg: SELINUX_DISABLED_MSG };
    if (!kv.has('booleans')) return { failed: true, msg: 'Failed to get list of boolean names' };
    if (!kv.has('value')) return { failed: true, msg: `SELinux boolean ${args.name} does not exist.` };
    const result = { name: args.name, persistent: args.persistent, state: args.state };
    // The persistent value is the policy store's; vncplay compares the running one, which setsebool -P sets too.
    const changed = (kv.get('value') === '1') !== args.state;
    if (changed && !ctx.check) {
      const res = await ctx.exec(['setsebool', ...(args.persistent ? ['-P'] : []), args.name, args.state ? 'on' : 'off']);
      if (res.rc !== 0) return { failed: true, msg: `Failed to set boolean ${args.name} to ${String(args.state)}: ${res.stderr.trim()}`, data: result };
    }
    return { changed, data: result };
  },
});
