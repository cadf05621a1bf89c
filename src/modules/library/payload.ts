import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ModuleError } from '../../errors.js';

/**
 * How Ansible runs a module file (executor/module_common.py `_find_module_utils` decides its style):
 * - `new` (Python that imports ansible.module_utils): an AnsiballZ payload — a zip of the module and every
 *   ansible.module_utils file it imports, recursively, unpacked and run by the host's Python with the arguments
 *   set in basic._ANSIBLE_ARGS;
 * - `want_json` (the text WANT_JSON anywhere, any language) and `binary`: the arguments as a JSON file, its path as
 *   the only argument;
 * - `old` (any other text): the arguments as `key=value` words in a file, its path as the only argument.
 * PowerShell modules are refused (no Windows hosts).
 */
export type ModuleStyle = 'new' | 'want_json' | 'binary' | 'old';

/** Ansible's NEW_STYLE_PYTHON_MODULE_RE. */
const NEW_STYLE = /(?:from +\.{2,} *module_utils.* +import |from +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.* +import |import +ansible_collections\.[^.]+\.[^.]+\.plugins\.module_utils.*|from +ansible\.module_utils.* +import |import +ansible\.module_utils\.)/;
const POWERSHELL = /#Requires -Module|#Requires -Version|#AnsibleRequires -OSVersion|#AnsibleRequires -Powershell|#AnsibleRequires -CSharpUtil|#POWERSHELL_COMMON/;

export function moduleStyle(content: Buffer): ModuleStyle | 'powershell' {
  if (content.subarray(0, 8192).includes(0)) return 'binary';
  const text = content.toString('utf8');
  if (text.includes('#<<INCLUDE_ANSIBLE_MODULE_COMMON>>') || NEW_STYLE.test(text)) return 'new';
  if (POWERSHELL.test(text)) return 'powershell';
  if (text.includes('WANT_JSON')) return 'want_json';
  return 'old';
}

/**
 * Runs with the controller's python3: reads the module and every `ansible.module_utils.X` it imports (absolute or
 * relative, recursively, as Ansible's recursive_finder does), each found in the given folders in order (the roles'
 * module_utils/ first, the controller's ansible-core last), and prints the zip (base64) AnsiballZ would carry.
 * A missing import inside a `try:` is left out (Ansible's optional imports); any other is an error.
 */
const BUILD_ZIP = String.raw`
import ast, base64, io, json, os, sys, zipfile
module_file, module_name, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
def fail(kind, msg, line=0, col=0):
    print(json.dumps({"error": kind, "msg": msg, "line": line, "col": col})); sys.exit(0)
def find(parts):
    for root in roots:
        base = os.path.join(root, *parts)
        for f in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(f): return f
        if os.path.isdir(base): return ""
    return None
def imports(tree, package, importer):
    # (candidate names, longest first; inside a try:; line; who imports)
    out = []
    def visit(node, optional):
        for child in ast.iter_child_nodes(node):
            opt = optional or isinstance(child, ast.Try)
            if isinstance(child, ast.Import):
                out.extend(([a.name.split(".")], opt, child.lineno, importer) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1] if child.level <= len(package) else []
                    mod = base + (child.module.split(".") if child.module else [])
                else:
                    mod = child.module.split(".") if child.module else []
                out.extend(([mod + [a.name], mod], opt, child.lineno, importer) for a in child.names)
            visit(child, opt)
    visit(tree, False)
    return out
try:
    module_src = open(module_file, "rb").read()
    tree = ast.parse(module_src, module_file)
except SyntaxError as e:
    fail("syntax", "%s" % e.msg, e.lineno or 0, e.offset or 0)
files = {}
wanted = [([["ansible", "module_utils", "basic"]], False, 0, "")] + imports(tree, [], "ansible.modules." + module_name)
while wanted:
    candidates, optional, line, importer = wanted.pop()
    candidates = [c for c in candidates if c[:2] == ["ansible", "module_utils"] and len(c) > 2]
    if not candidates:
        continue
    rel = next((c[2:] for c in candidates if find(c[2:]) is not None), None)
    if rel is None and candidates[-1][2] == "six":
        rel = ["six"]  # six.moves.* are not files (Ansible special-cases six too)
    if rel is None:
        if optional: continue
        looked = ", ".join("'%s'" % ".".join(c) for c in candidates)
        fail("missing", "Could not find imported module support code for %s.  Looked for ([%s])" % (importer, looked), line if importer.startswith("ansible.modules.") else 0)
    for i in range(1, len(rel) + 1):
        pkg = rel[:i]
        f = find(pkg)
        is_pkg = f == "" or f.endswith("__init__.py")
        key = "/".join(["ansible", "module_utils"] + pkg) + ("/__init__.py" if is_pkg else ".py")
        if key in files: continue
        data = open(f, "rb").read() if f else b""
        files[key] = data
        try:
            t = ast.parse(data, f or key)
        except SyntaxError as e:
            fail("syntax", "%s in %s" % (e.msg, f), e.lineno or 0, e.offset or 0)
        package = ["ansible", "module_utils"] + (pkg if is_pkg else pkg[:-1])
        wanted += imports(t, package, ".".join(["ansible", "module_utils"] + pkg))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    init = b"from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n"
    z.writestr("ansible/__init__.py", init)
    z.writestr("ansible/module_utils/__init__.py", init)
    z.writestr("ansible/modules/__init__.py", b"")
    z.writestr("ansible/modules/MODULE.py", module_src)
    for name in sorted(files):
        if name != "ansible/module_utils/__init__.py": z.writestr(name, files[name])
print(json.dumps({"zip": base64.b64encode(buf.getvalue()).decode()}))
`;

interface ZipAnswer {
  zip?: string;
  error?: 'syntax' | 'missing' | 'collection';
  msg?: string;
  line?: number;
  col?: number;
}

/** Python interpreters on the controller that may have ansible-core: python3, then the one ansible-playbook runs with. */
function controllerPythons(): string[] {
  const candidates = ['python3'];
  try {
    const shebang = /^#!\s*(\S+)/.exec(readFileSync('/usr/bin/ansible-playbook', 'utf8'))?.[1];
    if (shebang !== undefined) candidates.push(shebang);
  } catch {
    // no Debian ansible-playbook: python3 only
  }
  candidates.push('/usr/bin/python3');
  return [...new Set(candidates)];
}

function run(program: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(program, args, { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, stdout, stderr, missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' });
    });
  });
}

let ansibleModuleUtils: Promise<string | undefined> | undefined;

/** The controller's ansible/module_utils folder (the installed ansible-core's), found once per process. */
export function controllerModuleUtils(): Promise<string | undefined> {
  ansibleModuleUtils ??= (async () => {
    for (const python of controllerPythons()) {
      const res = await run(python, ['-c', 'import os, ansible.module_utils as m; print(os.path.dirname(m.__file__))']);
      if (res.ok && res.stdout.trim() !== '') return res.stdout.trim();
    }
    return undefined;
  })();
  return ansibleModuleUtils;
}

/**
 * The zip of a new-style module and the module_utils it imports (base64), built once per module file and search
 * path. Fails with the module's own position for a syntax error, and names ansible-core when the module needs
 * ansible.module_utils and the controller has none.
 */
export async function buildModuleZip(file: string, name: string, moduleUtilsFolders: readonly string[], ansibleCore = controllerModuleUtils()): Promise<string> {
  const controller = await ansibleCore;
  const roots = [...moduleUtilsFolders, ...(controller !== undefined ? [controller] : [])];
  const res = await run('python3', ['-c', BUILD_ZIP, file, name, ...roots]);
  if (res.missing) throw new ModuleError('E_LIBRARY_PYTHON', `running the Python module ${file} needs python3 on the controller (to collect the module_utils it imports)`, { hint: 'install python3 (apt-get install python3)' });
  let answer: ZipAnswer;
  try {
    answer = JSON.parse(res.stdout) as ZipAnswer;
  } catch {
    throw new ModuleError('E_LIBRARY_PAYLOAD', `could not collect the module_utils of ${file}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  if (answer.zip !== undefined) return answer.zip;
  const pos = { file, line: answer.line ?? 0, col: answer.col ?? 0 };
  // Ansible's own words (module_common's recursive_finder), at the module's line and column.
  if (answer.error === 'syntax') throw new ModuleError('E_LIBRARY_SYNTAX', `Unable to import ${name} due to ${answer.msg ?? 'invalid syntax'}`, { pos, hint: `${file} is not valid Python: fix it there` });
  if (answer.error === 'missing' && controller === undefined) {
    throw new ModuleError('E_LIBRARY_ANSIBLE_CORE', `the module ${file} imports ansible.module_utils, which comes with ansible-core, and the controller has none`, {
      pos,
      hint: 'install ansible-core on the controller (apt-get install ansible-core, or pip install ansible-core) so python3 can import ansible.module_utils',
    });
  }
  throw new ModuleError('E_LIBRARY_IMPORT', answer.msg ?? `cannot build the payload of ${file}`, {
    ...(answer.line ? { pos } : {}),
    hint: "a module_utils file is looked for in the roles' and the playbook's module_utils/, ansible.cfg's module_utils, then the controller's ansible-core",
  });
}

/** The Python program the host runs (on stdin): AnsiballZ's invoke_module, with the arguments set in basic. */
export function ansiballzWrapper(name: string, zip: string, params: Record<string, unknown>): string {
  // A JSON string literal is a valid Python string literal.
  const json = JSON.stringify(JSON.stringify({ ANSIBLE_MODULE_ARGS: params }));
  return `import base64, os, runpy, shutil, sys, tempfile
def _vncplay_main():
    try:
        os.getcwd()
    except OSError:
        os.chdir(os.path.expanduser('~'))
    if sys.path and sys.path[0] == '':
        del sys.path[0]
    temp = tempfile.mkdtemp(prefix='ansible_${name}_payload_')
    try:
        zipped = os.path.join(temp, 'ansible_${name}_payload.zip')
        with open(zipped, 'wb') as f:
            f.write(base64.b64decode(ZIPDATA))
        sys.path.insert(0, zipped)
        from ansible.module_utils import basic
        basic._ANSIBLE_ARGS = PARAMS.encode('utf-8')
        runpy.run_module(mod_name='ansible.modules.MODULE', init_globals=dict(_module_fqn='ansible.modules.${name}', _modlib_path=zipped), run_name='__main__', alter_sys=True)
        print('{"msg": "New-style module did not handle its own exit", "failed": true}')
        sys.exit(1)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
ZIPDATA = ${JSON.stringify(zip)}
PARAMS = ${json}
_vncplay_main()
`;
}

/** An old-style module's argument file: `key=value` words, each value quoted as Python's shlex.quote does. */
export function oldStyleArgs(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${shlexQuote(pythonText(v))} `)
    .join('');
}

/** str(v) as Python writes it for the values a module argument can hold. */
function pythonText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Python's shlex.quote. */
export function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
