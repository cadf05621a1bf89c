import { keyValues, SELINUX_DISABLED_MSG, SELINUX_STATUS_LINES, selinuxRuntime } from './selinux-common.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleReturn } from './types.js';

/**
 * seport: community.general.seport, over policycoreutils' `semanage port` (Ansible uses its seobject library).
 * On a host without SELinux it fails as Ansible does.
 */
const spec = defineSpec({
  description: 'Give network ports an SELinux type (semanage port).',
  options: {
    ports: { type: 'list', elements: 'str', required: true, description: 'Ports or ranges (8080, 8000-8010).' },
    proto: { type: 'str', choices: ['tcp', 'udp'], required: true, description: 'The protocol.' },
    setype: { type: 'str', required: true, description: 'The SELinux type (http_port_t).' },
    state: { type: 'str', choices: ['absent', 'present'], default: 'present', description: 'present gives the ports the type, absent takes it away.' },
    reload: { type: 'bool', default: true, description: 'Reload the policy after the change (without: semanage -N).' },
    local: { type: 'bool', default: false, description: 'Only look at local modifications (semanage port -l -C).' },
    ignore_selinux_state: { type: 'bool', default: false, description: 'Run even when SELinux is disabled on the host.' },
  },
});

const GATHER = [
  ...SELINUX_STATUS_LINES,
  'command -v semanage >/dev/null 2>&1 || { echo semanage=missing; exit 0; }',
  'semanage port -l -n $([ "$1" = 1 ] && echo -C) | sed "s/^/port=/"',
].join('\n');

/** `semanage port -l` lines: `http_port_t  tcp  80, 81, 443`; the ports of `setype`/`proto`. */
export function portsOfType(lines: readonly string[], setype: string, proto: string): Set<string> {
  const ports = new Set<string>();
  for (const line of lines) {
    const m = /^(\S+)\s+(tcp|udp|dccp|sctp)\s+(.*)$/.exec(line.trim());
    if (m && m[1] === setype && m[2] === proto) for (const p of m[3]!.split(',')) ports.add(p.trim());
  }
  return ports;
}

export const seportModule = actionModule(spec, {
  kind: 'action',
  name: 'seport',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const res = await ctx.exec(['sh', '-c', GATHER, 'sh', args.local ? '1' : '0']);
    if (res.rc !== 0) return { failed: true, msg: res.stderr.trim() || `reading the SELinux state failed (rc ${res.rc})` };
    const kv = keyValues(res.stdout);
    if (!selinuxRuntime(kv).enabled && !args.ignore_selinux_state) return { failed: true, msg: SELINUX_DISABLED_MSG };
    if (kv.get('semanage') === 'missing') return { failed: true, msg: "seport needs policycoreutils' semanage on the host (package policycoreutils-python-utils)" };
    const listing = res.stdout.split('\n').filter((l) => l.startsWith('port=')).map((l) => l.slice('port='.length));
    const have = portsOfType(listing, args.setype, args.proto);
    const result = { ports: args.ports, proto: args.proto, setype: args.setype, state: args.state };
    const todo = args.ports.filter((p) => (args.state === 'present' ? !have.has(p) : have.has(p)));
    if (todo.length && !ctx.check) {
      for (const port of todo) {
        const op = args.state === 'present' ? ['-a', '-t', args.setype] : ['-d', '-t', args.setype];
        let out = await ctx.exec(['semanage', 'port', ...(args.reload ? [] : ['-N']), ...op, '-p', args.proto, port]);
        // A port another type already has is modified, as seobject's add does.
        if (out.rc !== 0 && args.state === 'present' && /already defined/.test(out.stderr)) {
          out = await ctx.exec(['semanage', 'port', ...(args.reload ? [] : ['-N']), '-m', '-t', args.setype, '-p', args.proto, port]);
        }
        if (out.rc !== 0) return { failed: true, msg: `semanage port failed for ${port}: ${out.stderr.trim()}`, data: result };
      }
    }
    return { changed: todo.length > 0, data: result };
  },
});
