import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * npm: community.general.npm. The same npm commands as Ansible's module, in the same order: `npm list --json --long`
 * decides what is missing (it also runs in check mode), `npm outdated` what is old for latest, then one `npm
 * install`, `update`, `uninstall` or `ci` in `path` (created first, as Ansible does). The result is `changed` alone.
 */
const spec = defineSpec({
  description: 'Install, update or remove Node.js packages with npm, in a project folder (path) or globally.',
  options: {
    name: { type: 'str', description: 'The package (a name, or anything npm install takes); not given: the dependencies of path/package.json.' },
    path: { type: 'path', description: 'The project folder (created when missing); required unless global.' },
    version: { type: 'str', description: 'The version to install (name@version).' },
    global: { type: 'bool', default: false, description: 'Install globally (--global).' },
    production: { type: 'bool', default: false, description: 'Without devDependencies (--production).' },
    executable: { type: 'path', description: 'The npm to run (may carry arguments, split at spaces).' },
    registry: { type: 'str', description: 'The registry URL (--registry).' },
    state: { type: 'str', choices: ['present', 'absent', 'latest'], default: 'present', description: 'present installs what is missing, latest also updates what is outdated, absent uninstalls the named package.' },
    ignore_scripts: { type: 'bool', default: false, description: "Do not run the packages' scripts (--ignore-scripts)." },
    unsafe_perm: { type: 'bool', default: false, description: 'Run scripts as root too (--unsafe-perm).' },
    ci: { type: 'bool', default: false, description: 'Install exactly package-lock.json with npm ci (always reports a change).' },
    no_optional: { type: 'bool', default: false, description: 'Without optional dependencies (--no-optional).' },
    no_bin_links: { type: 'bool', default: false, description: 'Do not link package executables (--no-bin-links).' },
  },
  check(args) {
    if (!args.path && !args.global) return { param: 'path', message: 'path must be specified when not using global' };
    if (args.state === 'absent' && !args.name) return { param: 'name', message: 'uninstalling a package is only available for named packages' };
    return undefined;
  },
});

type NpmArgs = ArgsOf<typeof spec.options>;

/** `name@version` unless removing (Ansible's name_version). */
function nameVersion(args: NpmArgs): string | undefined {
  if (!args.name) return undefined;
  return args.version !== undefined && args.state !== 'absent' ? `${args.name}@${args.version}` : args.name;
}

/** Ansible's _exec: the command, then the flags, the package and the registry, in its order. */
export function npmArgv(args: NpmArgs, command: string[], withPackage: boolean): string[] {
  const argv = [...(args.executable ? args.executable.split(' ') : ['npm']), ...command];
  if (args.global) argv.push('--global');
  if (args.production && ['install', 'update', 'ci'].some((c) => argv.includes(c))) argv.push('--production');
  if (args.ignore_scripts) argv.push('--ignore-scripts');
  if (args.unsafe_perm) argv.push('--unsafe-perm');
  const pkg = nameVersion(args);
  if (pkg && withPackage) argv.push(pkg);
  if (args.registry) argv.push('--registry', args.registry);
  if (args.no_optional) argv.push('--no-optional');
  if (args.no_bin_links) argv.push('--no-bin-links');
  return argv;
}

/** Ansible's list(): the installed names (and name@version) and the missing ones, from `npm list --json --long`. */
export function installedAndMissing(listJson: string, wanted: string | undefined, name: string | undefined): { installed: string[]; missing: string[] } {
  const data = JSON.parse(listJson || '{}') as { dependencies?: Record<string, { missing?: boolean; invalid?: boolean; version?: string }> };
  const installed: string[] = [];
  const missing: string[] = [];
  if (!data.dependencies) return { installed, missing: [name ?? ''] };
  for (const [dep, props] of Object.entries(data.dependencies)) {
    if (props.missing || props.invalid) missing.push(dep);
    else {
      installed.push(dep);
      if (props.version) installed.push(`${dep}@${props.version}`);
    }
  }
  if (wanted && !installed.includes(wanted)) missing.push(name ?? wanted);
  return { installed, missing };
}

/** `npm outdated` prints a table only when something is outdated (Ansible counts every line, the heading too). */
function outdatedLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Runs npm in `path` (made first when missing, as Ansible does even in check mode). */
async function npmIn(ctx: ModuleContext, args: NpmArgs, argv: string[]): Promise<{ rc: number; stdout: string; stderr: string }> {
  if (!args.path) return ctx.exec(argv);
  const script = 'mkdir -p -- "$1" || exit 1; [ -d "$1" ] || { echo "path $1 is not a directory" >&2; exit 1; }; cd -- "$1" && shift && exec "$@"';
  return ctx.exec(['sh', '-c', script, 'sh', args.path, ...argv], { timeoutMs: 1_800_000 });
}

function commandFailure(argv: readonly string[], res: { rc: number; stdout: string; stderr: string }): ModuleReturn {
  return { failed: true, msg: res.stderr.trim() || `${argv.join(' ')} exited ${res.rc}`, data: { cmd: argv.join(' '), rc: res.rc, stdout: res.stdout, stderr: res.stderr } };
}

export const npmModule = actionModule(spec, {
  kind: 'action',
  name: 'npm',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const change = async (command: string): Promise<ModuleReturn | undefined> => {
      if (ctx.check) return undefined;
      const argv = npmArgv(args, [command], true);
      const res = await npmIn(ctx, args, argv);
      return res.rc === 0 ? undefined : commandFailure(argv, res);
    };
    if (args.ci) return (await change('ci')) ?? { changed: true };
    const listArgv = npmArgv(args, ['list', '--json', '--long'], false);
    const list = await npmIn(ctx, args, listArgv);
    let state: { installed: string[]; missing: string[] };
    try {
      state = installedAndMissing(list.stdout, nameVersion(args), args.name);
    } catch (e) {
      return { failed: true, msg: `Failed to parse NPM output with error ${(e as Error).message}` };
    }
    if (args.state === 'absent') {
      if (!state.installed.includes(args.name!)) return { changed: false };
      return (await change('uninstall')) ?? { changed: true };
    }
    let changed = false;
    if (state.missing.length) {
      changed = true;
      const failed = await change('install');
      if (failed) return failed;
    }
    if (args.state === 'latest') {
      const outdated = await npmIn(ctx, args, npmArgv(args, ['outdated'], true));
      if (outdatedLines(outdated.stdout).length) {
        changed = true;
        const failed = await change('update');
        if (failed) return failed;
      }
    }
    return { changed };
  },
});
