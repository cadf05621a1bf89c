import { aptSpec, runApt } from './apt.js';
import { dnfSpec, runDnf } from './dnf.js';
import { parseFacts, FACTS_SCRIPT } from './setup.js';
import { parseArgs, issuesText } from './spec/parse.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type ModuleSpec, type Options } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * package: Ansible's ansible.builtin.package. Picks the host's manager from `ansible_pkg_mgr` (or `use:`), finding
 * it out with one command when facts were not gathered (Ansible runs a minimal setup for that), and hands the task's
 * arguments to that manager's module. vncplay has apt; any other manager is named in the error.
 */
const spec = defineSpec({
  description: "Install or remove packages with the host's own package manager (ansible_pkg_mgr): apt on Debian and Ubuntu, dnf on Fedora and EL 8+.",
  options: {
    name: { type: 'list', elements: 'str', required: true, description: 'Package names (with a version where the manager supports it: name=1.0).' },
    state: { type: 'str', default: 'present', description: 'present, absent or latest (the manager may accept more).' },
    use: { type: 'str', default: 'auto', description: 'The manager to use; auto takes ansible_pkg_mgr.' },
  },
  extra: {
    pattern: '^[A-Za-z_][A-Za-z0-9_-]*$',
    patternText: 'a parameter name',
    description: "Other parameters go to the manager's module as they are (update_cache for apt and dnf).",
  },
});

/** A manager's module as package calls it: the task's other arguments, parsed by that module's own spec. */
type Backend = (rest: Record<string, unknown>, ctx: ModuleContext, manager: string) => Promise<ModuleReturn>;

function backend<O extends Options>(managerSpec: ModuleSpec<O>, run: (args: ArgsOf<O>, ctx: ModuleContext) => Promise<ModuleReturn>): Backend {
  return async (rest, ctx, manager) => {
    const parsed = parseArgs(managerSpec, rest, { owner: manager, rendered: true });
    if (parsed.issues.length) return { failed: true, msg: issuesText(`package (via ${manager})`, parsed.issues) };
    return run(parsed.args, ctx);
  };
}

/** The managers package can hand a task to, by ansible_pkg_mgr value. */
const MANAGERS: Record<string, Backend> = { apt: backend(aptSpec, runApt), dnf: backend(dnfSpec, runDnf) };

/** The host's ansible_pkg_mgr from its facts, when they were gathered. */
export function knownManager(vars: Record<string, unknown>): string | undefined {
  const direct = vars['ansible_pkg_mgr'];
  if (typeof direct === 'string' && direct) return direct;
  const facts = vars['ansible_facts'];
  if (facts && typeof facts === 'object') {
    const v = (facts as Record<string, unknown>)['pkg_mgr'];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

/** ansible_pkg_mgr found out with the setup script (Ansible runs a minimal setup for it). */
export async function detectManager(ctx: ModuleContext): Promise<string> {
  const res = await ctx.exec(['sh', '-c', FACTS_SCRIPT]);
  if (res.rc !== 0) return 'auto';
  return String(parseFacts(res.stdout)['pkg_mgr'] ?? 'auto');
}

export const packageModule = actionModule(spec, {
  kind: 'action',
  name: 'package',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const { use, ...rest } = args;
    const manager = use !== 'auto' ? use : (knownManager(ctx.vars) ?? (await detectManager(ctx)));
    if (manager === 'auto' || manager === 'unknown') {
      return { failed: true, msg: 'Could not detect which package manager to use. Try gathering facts or setting the "use" option.' };
    }
    if (!Object.hasOwn(MANAGERS, manager)) {
      return {
        failed: true,
        msg: `package: the host's package manager is \`${manager}\`, and \`${manager}\` is an Ansible module vncplay does not implement yet (vncplay's package supports: ${Object.keys(MANAGERS).join(', ')})`,
      };
    }
    return MANAGERS[manager]!(rest, ctx, manager);
  },
});
