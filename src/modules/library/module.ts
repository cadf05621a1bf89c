import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModuleError } from '../../errors.js';
import { truthy } from '../../playbook/filters.js';
import { splitlines } from '../py-text.js';
import { actionModule } from '../spec/define.js';
import { defineSpec } from '../spec/types.js';
import type { ActionModule, DiffEntry, ModuleContext, ModuleReturn } from '../types.js';
import { hasKubernetesCoreAction, kubernetesCoreArgs } from './kubernetes-action.js';
import { ansiballzWrapper, buildModuleZip, modulePythonName, moduleStyle, oldStyleArgs, type ModuleStyle, type PayloadRoots } from './payload.js';

/**
 * A module that is a file in a library/ folder (a role's, the playbook's, ansible.cfg's `library`): run on the host
 * as Ansible runs it (payload.ts), its JSON answer becoming the task's result. This spec takes any argument: the
 * loader checks the literal ones by the module's own AnsibleModule spec when it can read it (argspec.ts), and the
 * module checks the rendered ones itself when it runs, as under Ansible.
 */
const spec = defineSpec({
  description: 'A module file shipped in a library/ folder, run on the host as Ansible runs it.',
  options: {},
  extra: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', patternText: 'an argument name', description: "The module's own arguments (it checks them itself when it runs)." },
});

/** The ansible-core version vncplay answers like; modules read it as _ansible_version. */
const ANSIBLE_VERSION = '2.14.18';

/** The `_ansible_*` arguments Ansible's ActionBase._update_module_args adds to every module call. */
function internalArgs(name: string, ctx: ModuleContext): Record<string, unknown> {
  return {
    _ansible_check_mode: ctx.check,
    _ansible_no_log: false,
    _ansible_debug: false,
    _ansible_diff: ctx.diff,
    _ansible_verbosity: 0,
    _ansible_version: ANSIBLE_VERSION,
    _ansible_module_name: name,
    _ansible_syslog_facility: 'LOG_USER',
    _ansible_selinux_special_fs: ['fuse', 'nfs', 'vboxsf', 'ramfs', '9p', 'vfat'],
    _ansible_string_conversion_action: 'warn',
    _ansible_socket: null,
    _ansible_shell_executable: '/bin/sh',
    _ansible_keep_remote_files: false,
    _ansible_tmpdir: null,
    _ansible_remote_tmp: '~/.ansible/tmp',
  };
}

/**
 * $1 the argument file's text, then the interpreter and its options (none: the file runs itself); the module on
 * stdin. The module runs as Ansible runs a non-AnsiballZ module: `[interpreter] MODULE ARGSFILE`, in a private
 * temporary folder removed afterwards.
 */
const RUN_FILE = `d=$(mktemp -d) || exit 1
trap 'rm -rf -- "$d"' EXIT
cat > "$d/module" && printf '%s' "$1" > "$d/args" && chmod 700 "$d/module" || exit 1
shift
"$@" "$d/module" "$d/args"`;

/** The host's Python: ansible_python_interpreter, else the one Ansible's discovery finds on Debian and Red Hat. */
function pythonOf(ctx: ModuleContext): string {
  const configured = ctx.vars['ansible_python_interpreter'];
  return typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : '/usr/bin/python3';
}

/**
 * The command line a `#!` line asks for, as Ansible's _get_shebang rewrites it: a Python is the host's Python, any
 * other interpreter NAME may be replaced by `ansible_NAME_interpreter`. No `#!`: the file runs itself.
 */
function interpreterOf(content: Buffer, ctx: ModuleContext): string[] {
  const first = content.subarray(0, 1024).toString('utf8').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return [];
  const [program = '', ...options] = first.slice(2).trim().split(/\s+/);
  const base = path.basename(program);
  if (base.startsWith('python')) return [pythonOf(ctx), ...options];
  const configured = ctx.vars[`ansible_${base}_interpreter`];
  return [typeof configured === 'string' && configured !== '' ? configured : program, ...options];
}

/**
 * The module's answer as Ansible's _parse_returned_data reads it: the JSON object between the first line starting
 * with `{` and the last line ending with `}` (noise around it is dropped); anything else is Ansible's MODULE FAILURE.
 */
export function parseModuleOutput(stdout: string, stderr: string, rc: number): Record<string, unknown> {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith('{'));
  const endFromStart = start < 0 ? -1 : [...lines].reverse().findIndex((l) => l.trim().endsWith('}'));
  if (start >= 0 && endFromStart >= 0) {
    try {
      const parsed: unknown = JSON.parse(lines.slice(start, lines.length - endFromStart).join('\n'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // not JSON after all: a module failure below
    }
  }
  return {
    failed: true,
    msg: 'MODULE FAILURE\nSee stdout/stderr for the exact error',
    module_stdout: stdout,
    module_stderr: stderr,
    rc,
    ...(stderr.includes('Traceback') ? { exception: stderr } : {}),
  };
}

/** A module's diff (one mapping or a list of them) as the reporters take it. */
function diffEntries(raw: unknown): DiffEntry[] {
  const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return items.flatMap((d: unknown) => {
    if (typeof d !== 'object' || d === null) return [];
    const r = d as Record<string, unknown>;
    const side = (v: unknown): string | Record<string, unknown> | undefined =>
      typeof v === 'string' ? v : typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
    const before = side(r['before']);
    const after = side(r['after']);
    return [{
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(typeof r['before_header'] === 'string' ? { beforeHeader: r['before_header'] } : {}),
      ...(typeof r['after_header'] === 'string' ? { afterHeader: r['after_header'] } : {}),
    }];
  });
}

/**
 * The task's result from the module's answer, as Ansible's TaskExecutor makes it: `_ansible_*` keys dropped,
 * stdout_lines/stderr_lines added, `failed` from a non-zero `rc` when the module does not say, `ansible_facts` set on
 * the host (and kept in the result).
 */
export function moduleReturnOf(answer: Record<string, unknown>): ModuleReturn {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(answer)) if (!k.startsWith('_ansible_')) data[k] = v;
  for (const stream of ['stdout', 'stderr'] as const) {
    if (stream in data && !(`${stream}_lines` in data)) data[`${stream}_lines`] = splitlines(typeof data[stream] === 'string' ? (data[stream] as string) : '');
  }
  const rc = data['rc'];
  const failed = 'failed' in data ? truthy(data['failed']) : rc !== undefined && rc !== 0 && rc !== '0';
  const { changed, skipped, msg, diff, failed: _failed, ...rest } = data;
  const facts = data['ansible_facts'];
  const ret: ModuleReturn = { changed: truthy(changed), failed, data: rest };
  if (truthy(skipped)) ret.skipped = true;
  if (typeof msg === 'string') ret.msg = msg;
  else if (msg !== undefined) rest['msg'] = msg;
  const diffs = diffEntries(diff);
  if (diffs.length > 0) ret.diff = diffs;
  if (typeof facts === 'object' && facts !== null && !Array.isArray(facts)) ret.facts = { ...(facts as Record<string, unknown>), ansible_facts: facts };
  return ret;
}

async function runModuleFile(file: string, name: string, style: ModuleStyle, content: Buffer, params: Record<string, unknown>, roots: PayloadRoots, ctx: ModuleContext) {
  if (style === 'new') {
    const pythonName = modulePythonName(file, name);
    const zip = await zipOf(file, pythonName, content, roots);
    return ctx.exec([pythonOf(ctx), '-'], { stdin: ansiballzWrapper(name, pythonName, zip, params) });
  }
  const argsText = style === 'old' ? oldStyleArgs(params) : JSON.stringify(params);
  return ctx.exec(['sh', '-c', RUN_FILE, 'module', argsText, ...(style === 'binary' ? [] : interpreterOf(content, ctx))], { stdin: content });
}

/** The module's `warnings` and `deprecations` (AnsibleModule.warn/deprecate), shown as Ansible's callback shows them. */
function showWarnings(answer: Record<string, unknown>, ctx: ModuleContext): void {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  for (const w of list(answer['warnings'])) ctx.log(0, `[WARNING]: ${String(w)}`);
  for (const d of list(answer['deprecations'])) {
    const msg = typeof d === 'object' && d !== null ? (d as Record<string, unknown>)['msg'] : d;
    ctx.log(0, `[DEPRECATION WARNING]: ${String(msg)}`);
  }
}

const zips = new Map<string, Promise<string>>();

/**
 * The payload zip of a module file, built once per process for its content and search folders (a process that
 * runs several playbooks sees an edited module).
 */
function zipOf(file: string, pythonName: string, content: Buffer, roots: PayloadRoots): Promise<string> {
  const key = JSON.stringify([file, pythonName, createHash('sha256').update(content).digest('hex'), roots]);
  let zip = zips.get(key);
  if (!zip) {
    zip = buildModuleZip(file, pythonName, roots);
    // A failure (a syntax error being fixed) is not remembered.
    zip.catch(() => zips.delete(key));
    zips.set(key, zip);
  }
  return zip;
}

const modules = new Map<string, ActionModule>();

/**
 * The module for a module file `file` (a library/ file, or a collection's module) that tasks call `name` (what
 * Ansible passes as _ansible_module_name: the task's key as written); `roots` are where its payload's files are found:
 * the folders whose files are ansible.module_utils.* for it (roles' and the playbook's module_utils/, then
 * ansible.cfg's) and the collection roots.
 */
export function libraryModule(file: string, name: string, roots: () => PayloadRoots): ActionModule {
  const cacheKey = `${file}\0${name}`;
  const known = modules.get(cacheKey);
  if (known) return known;
  // What kubernetes.core's action plugin does on the controller before its modules run. Ansible 2.14 finds the
  // plugin by the name as written: a short name (`k8s`, redirected to the module) runs with the normal action.
  const kubernetesAction = name.startsWith('kubernetes.core.') && hasKubernetesCoreAction(file);
  const mod: ActionModule = actionModule(spec, {
    kind: 'action',
    name,
    where: 'host',
    // The module decides: AnsibleModule answers "skipped" in check mode when it does not support it.
    inCheckMode: 'run',
    async run(args, ctx): Promise<ModuleReturn> {
      const content = await readFile(file).catch((err: Error) => {
        throw new ModuleError('E_LIBRARY_READ', `cannot read the module file ${file}: ${err.message}`);
      });
      const style = moduleStyle(content);
      if (style === 'powershell') throw new ModuleError('E_LIBRARY_STYLE', `${file} is a PowerShell module: vncplay runs modules on Linux hosts only`, { pos: { file, line: 1, col: 1 } });
      ctx.log(1, `${name}: ${style === 'new' ? 'AnsiballZ (Python)' : style} module ${file}; its arguments are checked by the module itself`);
      const params = { ...(kubernetesAction ? await kubernetesCoreArgs(name, args, ctx) : args), ...internalArgs(name, ctx) };
      const res = await runModuleFile(file, name, style, content, params, roots(), ctx);
      const answer = parseModuleOutput(res.stdout, res.stderr, res.rc);
      showWarnings(answer, ctx);
      return moduleReturnOf(answer);
    },
  });
  modules.set(cacheKey, mod);
  return mod;
}
