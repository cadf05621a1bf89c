import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModuleError } from '../errors.js';
import { readSourceText, parseYamlSource } from '../playbook/yaml-source.js';
import { decryptFileText, recordSecret } from '../vault/session.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleContext } from './types.js';

const defaultExtensions = ['yaml', 'yml', 'json'];
const dirOnly = ['depth', 'files_matching', 'ignore_files', 'extensions', 'ignore_unknown_extensions'] as const;

/** ansible.builtin.include_vars: variables from YAML/JSON files on the controller, for the rest of the run. */
const spec = defineSpec({
  description: 'Load variables from a YAML/JSON file or a folder of them (controller side, vault-encrypted files too) for the rest of the run.',
  options: {
    file: { type: 'path', description: "The file to load: relative paths look in the role's vars/, the role, the playbook's vars/, then the playbook folder." },
    dir: { type: 'path', description: "A folder whose files are loaded in sorted order (in a role: relative to its vars/; else to the playbook's folder)." },
    name: { type: 'str', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', patternText: 'a variable name', description: 'Put the variables under this one variable instead of at the top level.' },
    depth: { type: 'int', min: 0, description: 'With dir: how many folders of the sorted walk to read (Ansible counts walk entries, not levels); 0 (default) is all.' },
    files_matching: { type: 'str', description: 'With dir: only files whose name matches this regular expression.' },
    ignore_files: { type: 'list', elements: 'str', description: 'With dir: file names to skip (regular expressions anchored at the end).' },
    extensions: { type: 'list', elements: 'str', description: 'With dir: the file extensions that may be loaded (default yaml, yml, json); another fails the task.' },
    ignore_unknown_extensions: { type: 'bool', description: 'With dir: skip files with other extensions instead of failing (default false).' },
    hash_behaviour: { type: 'str', choices: ['replace', 'merge'], description: 'merge: combine a dict with the variable of the same name recursively instead of replacing it.' },
  },
  required_one_of: [['file', 'dir']],
  mutually_exclusive: [['file', 'dir'], ...dirOnly.map((d) => ['file', d] as const)],
  check(args) {
    if (args.files_matching !== undefined && !isRegExp(args.files_matching)) return { param: 'files_matching', message: `\`${args.files_matching}\` is not a valid regular expression` };
    const bad = (args.ignore_files ?? []).find((f) => !isRegExp(`${f}$`));
    return bad === undefined ? undefined : { param: 'ignore_files', message: `\`${bad}\` is not a valid regular expression` };
  },
});

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** A vars file's mapping (YAML 1.1 as Ansible reads it, vault-encrypted files and !vault values decrypted). */
async function readVarsFile(file: string): Promise<{ data: Record<string, unknown>; encrypted: boolean }> {
  const { text, encrypted } = decryptFileText(await readSourceText(file), file);
  const parsed = parseYamlSource(file, text);
  if (parsed.errors.length > 0) throw parsed.errors[0]!;
  const data = parsed.source.toJS(parsed.source.root);
  if (data === null || data === undefined) return { data: {}, encrypted };
  if (typeof data !== 'object' || Array.isArray(data)) throw new ModuleError('E_VARS_SHAPE', `${file} must be stored as a dictionary/hash`, { hint: 'write `name: value` lines' });
  if (encrypted) recordSecret(data);
  return { data: data as Record<string, unknown>, encrypted };
}

/**
 * The folders of a walk of `root` in Ansible's order (os.walk, sorted by path) with their sorted file names, cut
 * after `depth` folders (Ansible counts the folders of the sorted walk, not levels).
 */
async function walkSorted(root: string, depth: number): Promise<{ dir: string; files: string[] }[]> {
  const all: { dir: string; files: string[] }[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    all.push({ dir, files: entries.filter((e) => !e.isDirectory()).map((e) => e.name).sort() });
    for (const e of entries.filter((x) => x.isDirectory())) await visit(path.join(dir, e.name));
  };
  await visit(root);
  all.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  return depth === 0 ? all : all.slice(0, depth);
}

/** Where a relative `dir` is looked for: the role's vars/ (or the role, for `vars/…`), else the playbook's folder. */
async function folderOf(dir: string, ctx: ModuleContext): Promise<string> {
  if (path.isAbsolute(dir)) return dir;
  const rolePath = ctx.vars['role_path'];
  if (typeof rolePath === 'string' && rolePath !== '') {
    if (dir.split('/')[0] === 'vars') {
      const inRole = path.join(rolePath, dir);
      if (await stat(inRole).then(() => true, () => false)) return inRole;
      return dir;
    }
    return path.join(rolePath, 'vars', dir);
  }
  return path.join(String(ctx.vars['playbook_dir'] ?? '.'), dir);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Ansible's combine_vars with merge=True: dicts merged key by key, recursively; anything else replaced. */
function mergeDeep(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeDeep(base[k], v) : v;
  return out;
}

export const includeVarsModule = actionModule(spec, {
  kind: 'action',
  name: 'include_vars',
  where: 'controller',
  freeForm: 'file',
  inCheckMode: 'run',
  async run(args, ctx) {
    const included: string[] = [];
    let vars: Record<string, unknown> = {};
    // As in Ansible, the whole result is hidden once any file read was vault-encrypted.
    let encrypted = false;
    const load = async (file: string): Promise<void> => {
      const read = await readVarsFile(file);
      Object.assign(vars, read.data);
      encrypted ||= read.encrypted;
      included.push(file);
    };
    if (args.file !== undefined) {
      await load(path.resolve(await ctx.findFile(args.file, 'vars')));
    } else {
      const root = await folderOf(args.dir!, ctx);
      const st = await stat(root).catch(() => undefined);
      if (!st) return { failed: true, msg: `${root} directory does not exist`, data: { message: `${root} directory does not exist`, ansible_included_var_files: [], ansible_facts: {} } };
      if (!st.isDirectory()) return { failed: true, msg: `${root} is not a directory`, data: { message: `${root} is not a directory`, ansible_included_var_files: [], ansible_facts: {} } };
      const extensions = args.extensions ?? defaultExtensions;
      const matcher = args.files_matching !== undefined ? new RegExp(args.files_matching) : undefined;
      const ignored = (args.ignore_files ?? []).map((f) => new RegExp(`${f}$`));
      const rolePath = ctx.vars['role_path'];
      for (const { dir, files } of await walkSorted(path.resolve(root), args.depth ?? 0)) {
        for (const name of files) {
          const file = path.join(dir, name);
          // A role's vars/main.yml is the role's own vars, loaded with the role: never again here.
          if (typeof rolePath === 'string' && file === path.join(path.resolve(rolePath), 'vars', 'main.yml')) continue;
          if (matcher && !matcher.test(name)) continue;
          if (ignored.some((r) => r.test(name))) continue;
          const ext = path.extname(name).slice(1);
          if (!extensions.includes(ext)) {
            if (args.ignore_unknown_extensions) continue;
            const message = `${file} does not have a valid extension: ${extensions.join(', ')}`;
            return { failed: true, msg: message, data: { message, ansible_included_var_files: included, ansible_facts: {} } };
          }
          await load(file);
        }
      }
    }
    if (args.name !== undefined) vars = { [args.name]: vars };
    if (args.hash_behaviour === 'merge') {
      for (const [k, v] of Object.entries(vars)) vars[k] = mergeDeep(ctx.vars[k], v);
    }
    return { changed: false, includedVars: vars, noLog: encrypted, data: { ansible_facts: vars, ansible_included_var_files: included } };
  },
});
