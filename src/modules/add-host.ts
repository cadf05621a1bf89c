import { ModuleError } from '../errors.js';
import { splitHostPort } from '../inventory/host-range.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * ansible.builtin.add_host: a host (and its groups and variables) added to the run's inventory, so later plays can
 * target it. As in Ansible it bypasses the host loop: it runs once, for the first host of the batch; the runner
 * applies the returned `inventory` update and decides `changed` (a new host, new variables or a new group).
 * `host` and `group` are Ansible's spellings too, but Ansible also keeps them as host variables (only name,
 * hostname, groupname and groups are not), so they are options of their own here, kept the same way.
 */
const spec = defineSpec({
  description: "Add a host (with groups and variables) to the run's inventory for later plays; runs once per batch.",
  options: {
    name: { type: 'str', aliases: ['hostname'], description: 'The host, optionally with :port (which becomes ansible_ssh_port).' },
    host: { type: 'str', description: 'The host, when name is not given (also kept as the variable `host`, as Ansible does).' },
    groups: { type: 'list', elements: 'str', aliases: ['groupname'], description: 'Groups to put the host in (created when missing): a list or "a,b".' },
    group: { type: 'raw', description: 'The groups, when groups is not given (also kept as the variable `group`, as Ansible does).' },
  },
  required_one_of: [['name', 'host']],
  extra: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', patternText: 'a valid variable name', description: 'Every other key is a variable of the new host.' },
});

/** Ansible's reading of `group`: a list, or a comma-separated string. */
function groupList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(',');
  throw new ModuleError('E_ADD_HOST_GROUPS', 'add_host: Groups must be specified as a list.');
}

export const addHostModule = actionModule(spec, {
  kind: 'action',
  name: 'add_host',
  where: 'controller',
  inCheckMode: 'run',
  bypassHostLoop: true,
  async run(args) {
    const { name: given, groups: listed, ...rest } = args;
    const hostVars: Record<string, unknown> = rest;
    const { pattern: name, port } = splitHostPort(given ?? args.host ?? '');
    if (port !== undefined) hostVars['ansible_ssh_port'] = port;
    const groups = [...new Set((listed ?? groupList(args.group)).map((g) => g.trim()))];
    return {
      changed: false,
      inventory: { kind: 'add_host', name, groups, vars: hostVars },
      data: { add_host: { host_name: name, groups, host_vars: hostVars } },
    };
  },
});
