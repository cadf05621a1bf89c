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
 * Runs with the controller's python3, as Ansible's recursive_finder and _add_module_to_zip: reads the module and every
 * `ansible.module_utils.X` and `ansible_collections.NS.COLL.plugins.module_utils.X` it imports (absolute or relative,
 * recursively; ModuleDepFinder's candidates: `from a.b import c` is the module a.b.c, else the name c in a.b), and
 * prints the zip (base64) AnsiballZ would carry: the module stored as its Python name (argv 2: ansible.modules.NAME
 * or ansible_collections.NS.COLL.plugins.modules.NAME), the packages above each file with their `__init__.py`.
 * ansible.module_utils files are looked for in the folders of argv 3 (a JSON list: the roles' module_utils/ first,
 * the controller's ansible-core last); a collection's files in the first folder of argv 4 (JSON: the collection
 * roots, each holding ansible_collections/) that has the collection. An import below the module's top level
 * (inside try:, if:, a function) that is missing is left out (Ansible's optional imports); any other is an error.
 */
const BUILD_ZIP = String.raw`
import ast, base64, io, json, os, sys, zipfile
module_file, module_fqn = sys.argv[1], sys.argv[2]
mu_roots, collection_roots = json.loads(sys.argv[3]), json.loads(sys.argv[4])
def fail(kind, msg, line=0, col=0):
    print(json.dumps({"error": kind, "msg": msg, "line": line, "col": col})); sys.exit(0)
def find_legacy(parts):
    # parts below ansible.module_utils: (file or "" for a folder without __init__.py, is a package)
    for root in mu_roots:
        base = os.path.join(root, *parts)
        if os.path.isfile(os.path.join(base, "__init__.py")): return os.path.join(base, "__init__.py"), True
        if os.path.isfile(base + ".py"): return base + ".py", False
        if os.path.isdir(base): return "", True
    return None
def find_collection(parts):
    # parts from ansible_collections; the levels above module_utils are empty packages, as Ansible makes them
    if len(parts) < 6: return "", True
    for root in collection_roots:
        coll = os.path.join(root, "ansible_collections", parts[1], parts[2])
        if not os.path.isdir(coll): continue
        base = os.path.join(coll, *parts[3:])
        if os.path.isfile(os.path.join(base, "__init__.py")): return os.path.join(base, "__init__.py"), True
        if os.path.isfile(base + ".py"): return base + ".py", False
        if os.path.isdir(base): return "", True  # a folder without __init__.py: Ansible's collection loader makes it a package
        return None
    return None
def locate(parts):
    if parts[:2] == ("ansible", "module_utils") and len(parts) > 2:
        if parts[2] == "six": parts = ("ansible", "module_utils", "six")  # six.moves.* are not files
        found = find_legacy(parts[2:])
    elif parts[0] == "ansible_collections" and (len(parts) < 6 or parts[3:5] == ("plugins", "module_utils")):
        found = find_collection(parts)
    else:
        return None
    return None if found is None else (parts,) + found
def imports(tree, fqn, is_pkg):
    # (candidate names, longest first; optional; line) for each module_utils import
    out = []
    def wanted(name):
        return name.startswith("ansible.module_utils.") or (name.startswith("ansible_collections.") and (name.endswith(".plugins.module_utils") or ".plugins.module_utils." in name))
    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                out.extend(([tuple(a.name.split(".")), tuple(a.name.split(".")[:-1])], not top, child.lineno) for a in child.names if wanted(a.name))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = fqn.split(".")
                    base = parts[: (-child.level + 1 or None) if is_pkg else -child.level]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                if wanted(mod + ".") or mod == "ansible.module_utils":
                    out.extend(([tuple(mod.split(".") + [a.name]), tuple(mod.split("."))], not top, child.lineno) for a in child.names)
            visit(child, False)
    visit(tree, True)
    return out
try:
    module_src = open(module_file, "rb").read()
    tree = ast.parse(module_src, module_file)
except SyntaxError as e:
    fail("syntax", "%s" % e.msg, e.lineno or 0, e.offset or 0)
release = {"__version__": "", "__author__": ""}
for root in reversed(mu_roots):  # the controller's ansible-core is the last folder: its release.py
    if os.path.basename(os.path.dirname(root)) == "ansible" and os.path.isfile(os.path.join(os.path.dirname(root), "release.py")):
        exec(open(os.path.join(os.path.dirname(root), "release.py")).read(), release)
        break
files = {
    ("ansible",): (("from pkgutil import extend_path\n__path__=extend_path(__path__,__name__)\n__version__=\"%s\"\n__author__=\"%s\"\n" % (release["__version__"], release["__author__"])).encode(), "ansible/__init__.py"),
    ("ansible", "module_utils"): (b"from pkgutil import extend_path\n__path__=extend_path(__path__,__name__)\n", "ansible/module_utils/__init__.py"),
}
wanted = imports(tree, module_fqn, False) + [([("ansible", "module_utils", "basic")], False, 0)]
while wanted:
    candidates, optional, line = wanted.pop(0)
    if candidates[0] in files: continue
    if len(candidates) > 1 and len(candidates[1]) <= (2 if candidates[1][0] == "ansible" else 5): candidates = candidates[:1]
    found = next((f for f in map(locate, candidates) if f is not None), None)
    if found is None:
        if optional: continue
        looked = ", ".join("'%s'" % ".".join(c) for c in candidates)
        fail("missing", "Could not find imported module support code for %s.  Looked for ([%s])" % (module_fqn, looked), line)
    parts, f, is_pkg = found
    if parts in files: continue
    data = open(f, "rb").read() if f else b""
    files[parts] = (data, "/".join(parts) + ("/__init__.py" if is_pkg else ".py"))
    try:
        t = ast.parse(data, f or "/".join(parts))
    except SyntaxError as e:
        fail("syntax", "%s in %s" % (e.msg, f), e.lineno or 0, e.offset or 0)
    wanted += [(c, o, 0) for c, o, _ in imports(t, ".".join(parts), is_pkg)]
    wanted += [([parts[:i]], optional, 0) for i in range(1, len(parts)) if parts[:i] not in files]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    for data, name in sorted(files.values(), key=lambda f: f[1]): z.writestr(name, data)
    module_parts = module_fqn.split(".")
    z.writestr("/".join(module_parts) + ".py", module_src)
    written = set(z.namelist())
    for i in range(1 if module_parts[0] != "ansible" else 2, len(module_parts)):
        init = "/".join(module_parts[:i]) + "/__init__.py"
        if init not in written: z.writestr(init, b"")
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
export function controllerPythons(): string[] {
  const playbookPython = ansiblePlaybookPython();
  return [...new Set(['python3', ...(playbookPython !== undefined ? [playbookPython] : []), '/usr/bin/python3'])];
}

/** The Python Debian's ansible-playbook runs with (its `#!` line), or undefined without one. */
export function ansiblePlaybookPython(): string | undefined {
  try {
    return /^#!\s*(\S+)/.exec(readFileSync('/usr/bin/ansible-playbook', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
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

/** Where the files a payload carries are found: ansible.module_utils folders, and the roots holding ansible_collections/. */
export interface PayloadRoots {
  moduleUtils: readonly string[];
  collections: readonly string[];
}

/**
 * The Python name Ansible gives a module file (module_common's _get_ansible_module_fqn): a collection's module is
 * `ansible_collections.NS.COLL.plugins.modules.NAME`, any other (ansible-core's own, a library/ file) `ansible.modules.NAME`.
 */
export function modulePythonName(file: string, name: string): string {
  const inCollection = /\/(ansible_collections\/[^/]+\/[^/]+\/plugins\/modules\/.*)\.(py|ps1)$/.exec(file);
  return inCollection ? inCollection[1]!.split('/').join('.') : `ansible.modules.${name}`;
}

/**
 * The zip of a new-style module and the module_utils it imports (base64), built once per module file and search
 * path. Fails with the module's own position for a syntax error, and names ansible-core when the module needs
 * ansible.module_utils and the controller has none.
 */
export async function buildModuleZip(file: string, pythonName: string, roots: PayloadRoots, ansibleCore = controllerModuleUtils()): Promise<string> {
  const controller = await ansibleCore;
  const moduleUtils = [...roots.moduleUtils, ...(controller !== undefined ? [controller] : [])];
  const res = await run('python3', ['-c', BUILD_ZIP, file, pythonName, JSON.stringify(moduleUtils), JSON.stringify(roots.collections)]);
  if (res.missing) throw new ModuleError('E_LIBRARY_PYTHON', `running the Python module ${file} needs python3 on the controller (to collect the module_utils it imports)`, { hint: 'install python3 (apt-get install python3)' });
  let answer: ZipAnswer;
  try {
    answer = JSON.parse(res.stdout) as ZipAnswer;
  } catch {
    throw new ModuleError('E_LIBRARY_PAYLOAD', `could not collect the module_utils of ${file}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  if (answer.zip !== undefined) return answer.zip;
  const pos = { file, line: answer.line ?? 0, col: answer.col ?? 0 };
  const name = pythonName.split('.').pop() ?? pythonName;
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
    hint: pythonName.startsWith('ansible_collections.')
      ? `a collection's module_utils are looked for in the collection that has them, in the collections path (${roots.collections.join(', ') || 'none'})`
      : "a module_utils file is looked for in the roles' and the playbook's module_utils/, ansible.cfg's module_utils, then the controller's ansible-core",
  });
}

/**
 * The Python program the host runs (on stdin): AnsiballZ's invoke_module, with the arguments set in basic; the
 * module runs as `pythonName` (its `_module_fqn`), as Ansible's wrapper runs it.
 */
export function ansiballzWrapper(name: string, pythonName: string, zip: string, params: Record<string, unknown>): string {
  // A JSON string literal is a valid Python string literal.
  const json = JSON.stringify(JSON.stringify({ ANSIBLE_MODULE_ARGS: params }));
  const fqn = JSON.stringify(pythonName);
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
        runpy.run_module(mod_name=${fqn}, init_globals=dict(_module_fqn=${fqn}, _modlib_path=zipped), run_name='__main__', alter_sys=True)
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
