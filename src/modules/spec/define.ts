import type { ActionModule, PlannedModule } from '../types.js';
import { specSchema } from './json-schema.js';
import type { ArgsOf, ModuleSpec, Options } from './types.js';

/** What a module written against a spec declares: everything but what the spec produces. */
type Declared<M> = Omit<M, 'schema' | 'secretArgs' | 'spec'>;

/** The parameter names (aliases too) whose values never appear in output. */
function noLogNames(spec: ModuleSpec): string[] {
  return Object.entries(spec.options).flatMap(([name, p]) => (p.no_log ? [name, ...(p.aliases ?? [])] : []));
}

function derived(spec: ModuleSpec): Pick<ActionModule, 'schema' | 'secretArgs'> {
  const secret = noLogNames(spec);
  return { schema: specSchema(spec), ...(secret.length > 0 ? { secretArgs: secret } : {}) };
}

/** An action module whose `run` receives the arguments parsed by `spec` (typed ArgsOf<spec>). */
export function actionModule<const O extends Options>(spec: ModuleSpec<O>, m: Declared<ActionModule<ArgsOf<O>>>): ActionModule<ArgsOf<O>> {
  return { ...m, spec, ...derived(spec) };
}

/** A planned module whose hooks receive the arguments parsed by `spec` (typed ArgsOf<spec>). */
export function plannedModule<const O extends Options, Facts>(spec: ModuleSpec<O>, m: Declared<PlannedModule<ArgsOf<O>, Facts>>): PlannedModule<ArgsOf<O>, Facts> {
  return { ...m, spec, ...derived(spec) };
}
