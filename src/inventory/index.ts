import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ErrorList, InventoryError, nearest, VaultError, type VncplayError } from '../errors.js';
import { Unsafe } from '../playbook/unsafe.js';
import { decryptFileText } from '../vault/session.js';
import { isVaultText } from '../vault/format.js';
import { parseIniInventory } from './ini.js';
import { FileDiagnostics, InventoryBuilder, type Inventory } from './model.js';
import { splitHostPort } from './host-range.js';
import { hostVarLayers, loadVarsBeside, throwIfAny, type VarsLoadOptions } from './vars.js';
import { parseYamlInventory } from './yaml.js';

export type { Inventory, InventoryGroup, InventoryHost, Vars } from './model.js';
export { sortGroups } from './model.js';
export { connectionSpec, CONNECTION_VARS, DEPRECATED_CONNECTION_VARS, deprecatedConnectionVarWarnings, expandHome, SECRET_VARIABLE_NAMES, sshOptions, type ConnectionDefaults, type SshOptions } from './connection-vars.js';
export { groupHosts, implicitLocalhost, matchHosts, selectHosts, splitPattern, type HostSelection, type SelectOptions } from './patterns.js';
export {
  findVarsFiles,
  groupsDict,
  hostVarLayers,
  inventoryVars,
  loadPlaybookVars,
  magicVars,
  readVarsDir,
  readVarsFile,
  refreshGroupsDict,
  type GroupVarLayer,
  type HostVarLayers,
  type VarsLoadOptions,
} from './vars.js';
export { parsePythonLiteral, iniValue } from './python-literal.js';
export { applyInventoryUpdate, type InventoryUpdate } from './dynamic.js';
export { expandHostRange, splitHostPort } from './host-range.js';

export interface LoadInventoryOptions {
  /** Decrypt vault-encrypted group_vars/host_vars files. */
  decrypt?: VarsLoadOptions['decrypt'];
}

export type InventoryFormat = 'yaml' | 'ini';

/** What an `-i` value named. */
export type InventorySource =
  | { kind: 'list'; hosts: string[] }
  | { kind: 'file'; path: string; format: InventoryFormat }
  | { kind: 'dir'; path: string };

const YAML_EXTS = ['.yml', '.yaml', '.json'];
/** Files a directory inventory skips: Ansible's INVENTORY_IGNORE_EXTS (yes, .ini too: Ansible skips it there). */
const IGNORED_EXTS = ['.orig', '.ini', '.cfg', '.retry', '.pyc', '.pyo', '.swp', '.bak', '.rpm', '.md', '.txt', '.rst'];
const IGNORED_NAMES = ['group_vars', 'host_vars', 'vars_plugins'];

/**
 * Load one or more inventory sources (`-i` values) into one Inventory, with group_vars/ and host_vars/ beside
 * each. A source is: `a,b,` (comma-separated host list, like Ansible), a path to a file or directory, or a
 * NAME found as inventories/NAME.yml|.yaml|.ini|.json|NAME (file or directory) under `cwd`.
 * Every error of every file is collected: one is thrown as is, several as an ErrorList.
 */
export async function loadInventory(spec: string | readonly string[], cwd: string, opts: LoadInventoryOptions = {}): Promise<Inventory> {
  const specs = typeof spec === 'string' ? [spec] : [...spec];
  const b = new InventoryBuilder();
  const errors: VncplayError[] = [];
  const display = (f: string): string => displayPath(cwd, f);
  const varsDirs: string[] = [];
  for (const s of specs) {
    let src: InventorySource;
    try {
      src = await resolveInventorySource(s, cwd);
    } catch (e) {
      if (e instanceof InventoryError) {
        errors.push(e);
        continue;
      }
      throw e;
    }
    if (src.kind === 'list') {
      addHostList(b, src.hosts);
      b.sources.push('host list');
    } else if (src.kind === 'file') {
      await parseFileInto(b, src.path, src.format, display, errors, opts.decrypt);
      b.sources.push(src.path);
      varsDirs.push(path.dirname(src.path));
    } else {
      await parseDirInto(b, src.path, display, errors, opts.decrypt);
      b.sources.push(src.path);
      varsDirs.push(src.path);
    }
  }
  const inv = b.finish();
  for (const dir of varsDirs) await loadVarsBeside(inv, dir, errors, { display, ...(opts.decrypt ? { decrypt: opts.decrypt } : {}) });
  inv.varsSources = { inventoryDirs: varsDirs, ...(opts.decrypt ? { decrypt: opts.decrypt } : {}) };
  errors.push(...emptyAddressErrors(inv));
  throwIfAny(errors);
  return inv;
}

/**
 * A host whose ansible_host is written but empty has no address at all (a missing ansible_host is fine: the
 * name is the address). Caught here, with the host's position, rather than when connecting.
 */
function emptyAddressErrors(inv: Inventory): InventoryError[] {
  const out: InventoryError[] = [];
  for (const h of inv.hosts.values()) {
    if (h.implicit) continue;
    const layers = hostVarLayers(inv, h.name);
    const all = [...layers.groupVars.map((l) => ({ where: `${l.source === 'inventory' ? 'the inventory vars' : 'group_vars'} of group '${l.group}'`, vars: l.vars })), { where: 'its host vars', vars: layers.hostVars }];
    let found: { where: string; name: string; value: unknown } | undefined;
    for (const l of all) {
      for (const name of ['ansible_host', 'ansible_ssh_host']) {
        if (name in l.vars) found = { where: l.where, name, value: l.vars[name] };
      }
    }
    // `!unsafe ''` is still an empty address.
    const address = found?.value instanceof Unsafe ? found.value.value : found?.value;
    if (found && (address === null || (typeof address === 'string' && address.trim() === ''))) {
      out.push(
        new InventoryError('E_INV_EMPTY_ADDRESS', `host '${h.name}' has an empty ${found.name} (set in ${found.where})`, {
          ...(h.pos ? { pos: h.pos } : {}),
          hint: `give ${found.name} a DNS name or IP address, or remove it to connect to '${h.name}' by name`,
        }),
      );
    }
  }
  return out;
}

/** Parse inventory text directly (no group_vars); for tests and tools. Throws like loadInventory. */
export function parseInventory(text: string, format: InventoryFormat, file = `<inventory>.${format === 'yaml' ? 'yml' : 'ini'}`): Inventory {
  const b = new InventoryBuilder();
  const diag = new FileDiagnostics(file, text);
  if (format === 'yaml') parseYamlInventory(text, b, diag, file);
  else parseIniInventory(text, b, diag, file);
  b.sources.push(file);
  const inv = b.finish();
  throwIfAny([...diag.errors, ...(diag.errors.length === 0 ? emptyAddressErrors(inv) : [])]);
  return inv;
}

/** Decide what an `-i` value names; InventoryError E_INV_NOT_FOUND when nothing matches. */
export async function resolveInventorySource(spec: string, cwd: string): Promise<InventorySource> {
  if (spec.trim() === '') {
    throw new InventoryError('E_INV_NOT_FOUND', 'empty inventory name', { hint: 'pass -i NAME (inventories/NAME.yml), a path, or a host list like host1,host2,' });
  }
  const direct = path.resolve(cwd, spec);
  const st = await statOrNull(direct);
  if (!st && spec.includes(',')) {
    return { kind: 'list', hosts: spec.split(',').map((h) => h.trim()).filter((h) => h !== '') };
  }
  if (st) return st.isDirectory() ? { kind: 'dir', path: direct } : { kind: 'file', path: direct, format: formatOf(direct) };
  const tried: string[] = [];
  if (!spec.includes('/') && !spec.includes(path.sep)) {
    const base = path.join(cwd, 'inventories', spec);
    for (const ext of ['.yml', '.yaml', '.ini', '.json', '']) {
      const p = base + ext;
      tried.push(displayPath(cwd, p));
      const s = await statOrNull(p);
      if (s?.isDirectory()) return { kind: 'dir', path: p };
      if (s) return { kind: 'file', path: p, format: formatOf(p) };
    }
  }
  const known = await listNamedInventories(cwd);
  const guess = nearest(spec, known);
  const hint = [
    guess ? `did you mean '${guess}'?` : '',
    known.length ? `inventories/ has: ${known.join(', ')}` : 'create inventories/NAME.yml, or pass a path',
    spec.includes(',') ? '' : "a single host is written 'host,' (with the comma)",
  ]
    .filter((x) => x)
    .join('; ');
  throw new InventoryError(
    'E_INV_NOT_FOUND',
    `inventory '${spec}' not found (looked for ${[displayPath(cwd, direct), ...tried].join(', ')})`,
    { hint },
  );
}

async function listNamedInventories(cwd: string): Promise<string[]> {
  try {
    const names = (await fsp.readdir(path.join(cwd, 'inventories'))).filter(
      (n) => !n.startsWith('.') && !IGNORED_NAMES.includes(n) && (n.endsWith('.ini') || !IGNORED_EXTS.includes(path.extname(n).toLowerCase())),
    );
    return [...new Set(names.map((n) => n.replace(/\.(ya?ml|ini|json)$/, '')))].sort();
  } catch {
    return [];
  }
}

function formatOf(file: string): InventoryFormat {
  return YAML_EXTS.includes(path.extname(file).toLowerCase()) ? 'yaml' : 'ini';
}

/** Ansible's host_list plugin: `h1,h2:2222,` become ungrouped hosts (ports allowed, no ranges). */
function addHostList(b: InventoryBuilder, entries: string[]): void {
  for (const e of entries) {
    const { pattern, port } = splitHostPort(e);
    b.addHost(pattern, 'ungrouped');
    if (port !== undefined) b.setHostVar(pattern, 'ansible_port', port);
  }
}

async function parseFileInto(
  b: InventoryBuilder,
  file: string,
  format: InventoryFormat,
  display: (f: string) => string,
  errors: VncplayError[],
  decrypt?: VarsLoadOptions['decrypt'],
): Promise<void> {
  let text = (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  if (isVaultText(text)) {
    // A vault-encrypted inventory file. Its plaintext is not made a run secret wholesale (host and group
    // names would vanish from the output); its connection passwords are, when the runner uses them.
    if (!decrypt) {
      errors.push(new InventoryError('E_INV_VAULT', `${display(file)} is vault-encrypted and no vault password was given`, { pos: { file: display(file), line: 1, col: 1 }, hint: 'pass --vault-password-file or --ask-vault-pass' }));
      return;
    }
    try {
      text = decryptFileText(text, display(file)).text;
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      errors.push(err);
      return;
    }
  }
  const diag = new FileDiagnostics(display(file), text);
  if (format === 'yaml') parseYamlInventory(text, b, diag, file);
  else parseIniInventory(text, b, diag, file);
  errors.push(...diag.errors);
}

/** A directory inventory: every file in sorted order, subdirectories too, except vars folders and ignored files (as Ansible). */
async function parseDirInto(b: InventoryBuilder, dir: string, display: (f: string) => string, errors: VncplayError[], decrypt?: VarsLoadOptions['decrypt']): Promise<void> {
  for (const entry of (await fsp.readdir(dir)).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~') || IGNORED_NAMES.includes(entry)) continue;
    const full = path.join(dir, entry);
    const ext = path.extname(entry).toLowerCase();
    if (IGNORED_EXTS.includes(ext)) {
      // The one skip that surprises people; say so, since Ansible would silently leave these hosts out too.
      if (ext === '.ini') b.warnings.push(`${display(full)} is skipped: inside an inventory directory Ansible ignores .ini files; drop the extension to include it`);
      continue;
    }
    const st = await statOrNull(full);
    if (!st) continue;
    if (st.isDirectory()) await parseDirInto(b, full, display, errors, decrypt);
    else await parseFileInto(b, full, formatOf(full), display, errors, decrypt);
  }
}

function displayPath(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}
