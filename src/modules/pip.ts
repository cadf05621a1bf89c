import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * pip: Ansible's ansible.builtin.pip. The same commands as Ansible's module: the virtualenv made first when it has
 * no bin/activate, then one `pip install|uninstall` (pip decides; "Successfully installed/uninstalled" in its output
 * is the change, or a different `pip list --format=freeze` before and after for requirements files). Check mode
 * compares `pip list` with the names and their version specifiers, as Ansible does. Without virtualenv or
 * executable, pip runs as `python -m pip.__main__` with the host's Python (ansible_python_interpreter).
 */
const spec = defineSpec({
  description: 'Install, upgrade or remove Python packages with pip, optionally in a virtualenv it creates.',
  options: {
    name: { type: 'list', elements: 'str', description: 'Packages, with version specifiers (`vp-left>=1.0`), or URLs.' },
    version: { type: 'str', description: 'The version of the one package in name (`1.0` means ==1.0).' },
    requirements: { type: 'str', description: 'A requirements file (relative to chdir).' },
    virtualenv: { type: 'path', description: 'The virtualenv to install into, created when it has no bin/activate.' },
    virtualenv_site_packages: { type: 'bool', default: false, description: "The new virtualenv sees the system's site-packages." },
    virtualenv_command: { type: 'path', default: 'virtualenv', description: 'How to create the virtualenv (`python3 -m venv`).' },
    virtualenv_python: { type: 'str', description: 'The Python of the new virtualenv (virtualenv -p; not with venv).' },
    state: { type: 'str', choices: ['present', 'absent', 'latest', 'forcereinstall'], default: 'present', description: 'present, absent, latest (install -U) or forcereinstall.' },
    extra_args: { type: 'str', description: 'More pip arguments (`--no-index --find-links /srv/wheels`), split as a shell would.' },
    editable: { type: 'bool', default: false, description: 'Install in editable mode (-e).' },
    chdir: { type: 'path', description: 'The folder pip runs in (default: the temporary folder).' },
    executable: { type: 'path', description: 'The pip to run (a path or a name on PATH).' },
    umask: { type: 'str', pattern: '^[0-7]+$', patternText: 'an octal umask', description: 'The umask pip runs with (octal string).' },
  },
  required_one_of: [['name', 'requirements']],
  mutually_exclusive: [['name', 'requirements'], ['executable', 'virtualenv']],
  removedParams: { use_mirrors: "remove it: pip dropped its --use-mirrors option, and Ansible's pip has no such parameter" },
  check(args) {
    if (args.state === 'latest' && args.version !== undefined) return { param: 'version', message: 'version is incompatible with state=latest' };
    if (args.version !== undefined && (args.name?.length ?? 0) > 1) {
      return { param: 'version', message: "'version' argument is ambiguous when installing multiple package distributions", hint: "put the version next to each package in 'name'" };
    }
    const venv = /pyvenv|-m venv/.test(args.virtualenv_command);
    if (venv && args.virtualenv_python !== undefined) {
      return { param: 'virtualenv_python', message: 'virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command' };
    }
    return undefined;
  },
});

type PipArgs = ArgsOf<typeof spec.options>;

const STATE_COMMANDS: Record<PipArgs['state'], string[]> = {
  present: ['install'],
  absent: ['uninstall', '-y'],
  latest: ['install', '-U'],
  forcereinstall: ['install', '-U', '--force-reinstall'],
};

/** Python's shlex.split for extra_args: words, single and double quotes, backslashes. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let part = '';
      for (; j < text.length && text[j] !== '"'; j++) part += text[j] === '\\' && /["\\$`]/.test(text[j + 1] ?? '') ? text[++j] : text[j];
      word = (word ?? '') + part;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) word = (word ?? '') + text[++i];
    else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** PEP 503 name normalisation (Ansible's Package.canonicalize_name). */
export function canonicalName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** A requirement: name and version specifiers (`vp-left>=1.0,<2`), or undefined for a URL or path. */
export interface Requirement {
  name: string;
  specs: [op: string, version: string][];
}

export function parseRequirement(text: string, version?: string): Requirement | undefined {
  const withVersion = version === undefined ? text : `${text}${/^\d/.test(version.trimStart()) ? '==' : ' '}${version.trimStart()}`;
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$/.exec(withVersion);
  if (!m) return undefined;
  const specs: [string, string][] = [];
  for (const part of m[2]!.split(',').map((p) => p.trim()).filter(Boolean)) {
    const s = /^(===|==|!=|<=|>=|~=|<|>)\s*(\S+)$/.exec(part);
    if (!s) return undefined;
    specs.push([s[1]!, s[2]!]);
  }
  return { name: canonicalName(m[1]!), specs };
}

/** A plain release version compared part by part (1.10 > 1.9; a trailing .0 does not count). */
function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0) ? 1 : -1;
  return 0;
}

export function satisfies(req: Requirement, version: string): boolean {
  return req.specs.every(([op, want]) => {
    const c = compareVersions(version, want.replace(/\.\*$/, ''));
    switch (op) {
      case '==':
        return want.endsWith('.*') ? version.startsWith(want.slice(0, -1)) : c === 0;
      case '===':
        return version === want;
      case '!=':
        return c !== 0;
      case '<=':
        return c <= 0;
      case '>=':
        return c >= 0;
      case '<':
        return c < 0;
      case '>':
        return c > 0;
      default: // ~=: at least this version, same release series
        return c >= 0 && version.startsWith(want.split('.').slice(0, -1).join('.'));
    }
  });
}

/** Ansible's _is_present over `pip list --format=freeze` lines. */
export function isPresent(req: Requirement | undefined, freezeLines: readonly string[]): boolean {
  if (!req) return false;
  return freezeLines.some((line) => {
    if (!line.includes('==')) return false;
    const [name = '', version = ''] = line.split('==');
    return canonicalName(name) === req.name && satisfies(req, version);
  });
}

/** The host's Python for `python -m pip.__main__` (Ansible runs pip with its module's interpreter). */
function python(ctx: ModuleContext): string {
  const configured = ctx.vars['ansible_python_interpreter'];
  return typeof configured === 'string' && configured.startsWith('/') ? configured : '/usr/bin/python3';
}

/**
 * Runs argv in `chdir` with `umask` and, for a virtualenv, its bin/ first on PATH. The command is the positional
 * parameters; the first three say where and how.
 */
const RUN_SCRIPT = 'cd -- "$1" || exit 1; [ -z "$2" ] || umask "$2"; [ -z "$3" ] || PATH="$3:$PATH"; shift 3; exec "$@"';

async function runIn(ctx: ModuleContext, chdir: string, args: PipArgs, argv: readonly string[], pathPrefix = ''): Promise<{ rc: number; stdout: string; stderr: string }> {
  return ctx.exec(['sh', '-c', RUN_SCRIPT, 'sh', chdir, args.umask ?? '', pathPrefix, ...argv], { timeoutMs: 1_800_000 });
}

/** Ansible's _fail message. */
function failMessage(out: string, err: string): string {
  return `${out ? `stdout: ${out}` : ''}${err ? `\n:stderr: ${err}` : ''}`;
}

/** The pip to run: an executable, the virtualenv's pip3/pip, or the Python's pip module. */
async function pipCommand(ctx: ModuleContext, args: PipArgs, env: string | undefined): Promise<string[] | string> {
  if (args.executable !== undefined) {
    if (args.executable.startsWith('/')) return [args.executable];
    // As Ansible's get_bin_path: the name on PATH or in the sbin folders, run by its absolute path (`cmd` shows it).
    const found = await ctx.exec(['sh', '-c', 'PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin" command -v -- "$1"', 'sh', args.executable]);
    if (found.rc !== 0 || !found.stdout.trim().startsWith('/')) return `Unable to find any of ${args.executable} to use.  pip needs to be installed.`;
    return [found.stdout.trim()];
  }
  if (env === undefined) return [python(ctx), '-m', 'pip.__main__'];
  const res = await ctx.exec(['sh', '-c', 'for n in pip3 pip; do [ -x "$1/bin/$n" ] && { echo "$1/bin/$n"; exit 0; }; done; exit 1', 'sh', env]);
  if (res.rc !== 0) return `Unable to find pip in the virtualenv, ${env}, under any of these names: pip3, pip. Make sure pip is present in the virtualenv.`;
  return [res.stdout.trim()];
}

async function freeze(ctx: ModuleContext, args: PipArgs, pip: string[], chdir: string): Promise<{ cmd: string; out: string; err: string } | ModuleReturn> {
  let cmd = [...pip, 'list', '--format=freeze'];
  let res = await runIn(ctx, chdir, args, ['env', 'LANG=C', 'LC_ALL=C', 'LC_MESSAGES=C', ...cmd]);
  if (res.rc !== 0) {
    cmd = [...pip, 'freeze'];
    res = await runIn(ctx, chdir, args, cmd);
    if (res.rc !== 0) return { failed: true, msg: failMessage(res.stdout, res.stderr), data: { cmd } };
  }
  return { cmd: cmd.join(' '), out: res.stdout, err: res.stderr };
}

/** Ansible's setup_virtualenv: the command, --system-site-packages, -p for virtualenv itself, the folder. */
async function createVirtualenv(ctx: ModuleContext, args: PipArgs, env: string, chdir: string): Promise<{ out: string; err: string } | ModuleReturn> {
  const cmd = shellWords(args.virtualenv_command);
  const isVenv = /pyvenv|-m venv/.test(args.virtualenv_command);
  if (args.virtualenv_site_packages) cmd.push('--system-site-packages');
  if (!isVenv) cmd.push(`-p${args.virtualenv_python ?? python(ctx)}`);
  cmd.push(env);
  const res = await runIn(ctx, chdir, args, cmd);
  if (res.rc !== 0) return { failed: true, msg: failMessage(res.stdout, res.stderr), data: { cmd } };
  return { out: res.stdout, err: res.stderr };
}

export const pipModule = actionModule(spec, {
  kind: 'action',
  name: 'pip',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    const chdir = args.chdir ?? '/tmp';
    const env = args.virtualenv !== undefined && args.chdir !== undefined && !args.virtualenv.startsWith('/') ? `${args.chdir}/${args.virtualenv}` : args.virtualenv;
    let out = '';
    let err = '';
    let venvCreated = false;
    if (env !== undefined) {
      const exists = await ctx.exec(['test', '-e', `${env}/bin/activate`]);
      if (exists.rc !== 0) {
        if (ctx.check) return { changed: true };
        const made = await createVirtualenv(ctx, args, env, chdir);
        if (!('out' in made)) return made;
        venvCreated = true;
        out += made.out;
        err += made.err;
      }
    }
    const pip = await pipCommand(ctx, args, env);
    if (typeof pip === 'string') return { failed: true, msg: pip };
    const cmd = [...pip, ...STATE_COMMANDS[args.state]];
    const names = args.name ?? [];
    const requirements = names.map((n, i) => (i === 0 ? parseRequirement(n, args.version) : parseRequirement(n)));
    const packages = names.map((n, i) => (i === 0 && args.version !== undefined ? `${n}${/^\d/.test(args.version.trimStart()) ? '==' : ' '}${args.version.trimStart()}` : n));
    let extra = args.extra_args;
    if (args.editable && !shellWords(extra ?? '').includes('-e')) extra = [...shellWords(extra ?? ''), '-e'].join(' ');
    if (extra) cmd.push(...shellWords(extra));
    if (names.length) cmd.push(...packages);
    else cmd.push('-r', args.requirements!);
    if (ctx.check) {
      if (extra || args.requirements !== undefined || args.state === 'latest' || !names.length) return { changed: true };
      const listed = await freeze(ctx, args, pip, chdir);
      if (!('out' in listed)) return listed;
      const lines = listed.out.split('\n').filter((l) => l && !l.startsWith('You are using') && !l.startsWith('You should consider'));
      const changed = requirements.some((req) => {
        const present = isPresent(req, lines);
        return (args.state === 'present' && !present) || (args.state === 'absent' && present);
      });
      return { changed, data: { cmd: listed.cmd, stdout: out + listed.out, stderr: err + listed.err } };
    }
    const hasVcs = names.some((n) => /^(git|hg|svn|bzr)\+/.test(n));
    let before: string | undefined;
    if (args.requirements !== undefined || hasVcs) {
      const listed = await freeze(ctx, args, pip, chdir);
      if (!('out' in listed)) return listed;
      before = listed.out;
    }
    const res = await runIn(ctx, chdir, args, cmd, env !== undefined ? `${env}/bin` : '');
    out += res.stdout;
    err += res.stderr;
    const notInstalled = res.rc === 1 && args.state === 'absent' && /not installed/.test(res.stdout + res.stderr);
    if (res.rc !== 0 && !notInstalled) return { failed: true, msg: failMessage(out, err), data: { cmd } };
    let changed: boolean;
    if (args.state === 'absent') changed = res.stdout.includes('Successfully uninstalled');
    else if (before === undefined) changed = res.stdout.includes('Successfully installed');
    else {
      const after = await freeze(ctx, args, pip, chdir);
      if (!('out' in after)) return after;
      changed = before !== after.out;
    }
    return {
      changed: changed || venvCreated,
      data: {
        cmd, name: args.name ?? null, version: args.version ?? null, state: args.state, requirements: args.requirements ?? null,
        virtualenv: env ?? null, stdout: out, stderr: err,
      },
    };
  },
});
