import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * ansible.builtin.group_by: the task's host put into a group named by `key` (spaces become dashes, as in Ansible),
 * created under `parents` when missing; per host, so `key: "os_{{ ansible_distribution }}"` groups the hosts by
 * their facts. The runner applies the returned `inventory` update and decides `changed`; a new group's group_vars
 * files (beside the inventory and the playbook) apply to its hosts from the next task on, as in Ansible.
 */
const spec = defineSpec({
  description: "Put the host into a group named by key (created when missing), for later plays' host patterns.",
  options: {
    key: { type: 'str', required: true, description: 'The group name (usually a template over facts).' },
    parents: { type: 'list', elements: 'str', default: ['all'], description: 'Parent groups of a new group.' },
  },
});

export const groupByModule = actionModule(spec, {
  kind: 'action',
  name: 'group_by',
  where: 'controller',
  inCheckMode: 'run',
  async run(args) {
    const group = args.key.replace(/ /g, '-');
    const parents = args.parents.map((p) => p.replace(/ /g, '-'));
    return {
      changed: false,
      inventory: { kind: 'group_by', group, parents },
      data: { add_group: group, parent_groups: parents },
    };
  },
});
