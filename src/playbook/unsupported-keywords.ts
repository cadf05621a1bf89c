/**
 * Ansible keywords that are real but that vncplay does not implement, each with what to do instead. The loader
 * refuses them with this hint (E_UNSUPPORTED_KEY) rather than as unknown keys, and the editor schema names them
 * the same way rather than as typos.
 */

const connectionHint = 'the port comes from the inventory: ansible_port (host or group vars)';
/** Ansible keywords that are real but not implemented: a precise message beats "unknown keyword". */
export const unsupportedTaskKeys: Record<string, string> = {
  throttle: 'limit concurrency with --forks or the play\'s `serial`',
  port: connectionHint,
  timeout: 'use the module\'s own timeout parameter where it has one',
  diff: 'use --diff on the command line',
  debugger: 'remove it',
  collections: 'remove it: modules are looked up by short name or ansible.builtin.NAME',
};
export const unsupportedPlayKeys: Record<string, string> = {
  port: connectionHint,
  force_handlers: 'remove it: handlers of hosts that failed do not run',
  ignore_unreachable: 'remove it: an unreachable host leaves the play (exit code 3)',
  throttle: 'limit concurrency with --forks or `serial`',
  timeout: 'use the module\'s own timeout parameter where it has one',
  gather_subset: 'remove it: facts are gathered lazily, when a task uses them',
  gather_timeout: 'remove it: facts are gathered lazily, when a task uses them',
  fact_path: 'remove it: facts are gathered lazily, when a task uses them',
  debugger: 'remove it',
  diff: 'use --diff on the command line',
};
