import type { Connection } from '../../src/connection/types.js';
import type { AnyModule, ModuleContext, PlannedModule } from '../../src/modules/types.js';
import { invokeModule, moduleContext, moduleRender, type InvokeResult, type InvokeSettings } from '../../src/runner/invoke-module.js';
import { SharedTaskScope } from '../../src/runner/task-scope.js';
import { parsedArgs } from './module-args.js';

/**
 * The shared module test harness: a module run the way the runner runs it (its spec parses the arguments, then
 * gather → plan → steps → finish on a real connection), and what it meant to do said as intent — the changes'
 * summaries and the noop reason — rather than as argv positions, so a test survives a change in how a command is
 * spelled and fails when what the module does changes.
 */

/** What a module meant to do: its changes in order (`start vnc@1.service`), or why there was nothing to do. */
export interface Intent {
  changes: string[];
  noop?: string;
}

export interface ModuleRun {
  result: InvokeResult;
  intent: Intent;
  /** What the module logged (level, line), as -v…-vvvv would show it. */
  logs: Array<[level: number, line: string]>;
}

export interface RunModuleOptions {
  check?: boolean;
  diff?: boolean;
  become?: boolean;
  vars?: Record<string, unknown>;
}

/** Settings as the runner would give them for `connection` (none: a controller-only context), with `over` on top. */
function settingsFor(connection: Connection | undefined, over: Partial<InvokeSettings>): InvokeSettings {
  return {
    hostName: connection?.hostName ?? 'localhost',
    ...(connection ? { conn: connection } : {}),
    check: false,
    diff: true,
    become: false,
    signal: new AbortController().signal,
    vars: {},
    render: (t) => t,
    findFile: (rel) => Promise.resolve(rel),
    log: () => undefined,
    task: new SharedTaskScope(),
    ...over,
  };
}

/** The runner's own ModuleContext for `connection`, for tests that call a module's hooks one by one. */
export function testContext(connection: Connection | undefined, over: Partial<InvokeSettings> = {}): ModuleContext {
  return moduleContext(settingsFor(connection, over));
}

/** Runs `mod` with `args` (as a task writes them) on `connection`, through the runner's invokeModule. */
export async function runModule(mod: AnyModule, args: Record<string, unknown>, connection: Connection, opts: RunModuleOptions = {}): Promise<ModuleRun> {
  const logs: ModuleRun['logs'] = [];
  const result = await invokeModule(
    mod,
    args,
    settingsFor(connection, {
      check: opts.check ?? false,
      diff: opts.diff ?? true,
      become: opts.become ?? false,
      vars: opts.vars ?? {},
      render: moduleRender(opts.vars ?? {}),
      log: (level, line) => logs.push([level, line]),
    }),
  );
  const intent: Intent = { changes: result.planned ?? [] };
  if (result.noop !== undefined) intent.noop = result.noop;
  return { result, intent, logs };
}

/** A planned module's intent from facts, with no host: the pure half of runModule, for table tests of plan(). */
export function planIntent<F>(mod: PlannedModule<never, F>, args: Record<string, unknown>, facts: F): Intent {
  const parsed = parsedArgs(mod as AnyModule, args) as never;
  const changes = mod.plan(parsed, facts).map((c) => c.summary);
  const noop = changes.length === 0 ? mod.noop?.(parsed, facts) : undefined;
  return noop === undefined ? { changes } : { changes, noop };
}
