import { parseArgs } from '../../src/modules/spec/parse.js';
import type { ActionModule, AnyModule, PlannedModule } from '../../src/modules/types.js';

/** The arguments type a module's hooks receive. */
export type HookArgs<M extends AnyModule> = M extends PlannedModule<infer A, infer _F> ? A : M extends ActionModule<infer A> ? A : never;

/**
 * Arguments as a playbook writes them, parsed by the module's spec the way the runner parses rendered arguments,
 * for tests that call a module's hooks (gather/plan/report/run) directly. Throws on what the runner would refuse.
 */
export function parsedArgs<M extends AnyModule>(mod: M, raw: Record<string, unknown>): HookArgs<M> {
  const parsed = parseArgs(mod.spec, raw, { owner: mod.name, rendered: true });
  if (parsed.issues.length > 0) throw new Error(parsed.issues.map((i) => i.message).join('; '));
  return parsed.args as HookArgs<M>;
}
