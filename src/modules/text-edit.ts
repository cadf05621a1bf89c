import { ModuleError } from '../errors.js';
import {
  ignoredFileOptions,
  attrDiff,
  attributeChange,
  backupName,
  backupPathOf,
  backupStep,
  checkPrincipals,
  diffText,
  formatMode,
  parentDir,
  probePaths,
  refuseForeignLink,
  resolveMode,
  unchangedPathText,
  validateArgv,
  validateStep,
  type HostFileFacts,
  type PathFacts,
} from './file-common.js';
import type { ParamSpec } from './spec/types.js';
import type { Change, ModuleContext, Step } from './types.js';

/**
 * The idempotent whole-file edit that replace, blockinfile and ini_file share (the write half of lineinfile's
 * plan): read the file with the probe, compute the new content in a pure function, then write it atomically with
 * the file's mode and owner, after an optional backup and validate. As Ansible does, the file a link points to is
 * edited, but only a link root or the target's owner made (issue 13 H1: never a link planted by someone else).
 */

/** The file attribute parameters these modules take (Ansible's add_file_common_args, the ones vncplay applies). */
export const fileAttributeOptions = {
  mode: { type: 'mode', description: "Permissions as a quoted octal string ('0644') or symbolic ('u=rw,go=r')." },
  owner: { type: 'str', description: 'Owner (name or uid) of the file.' },
  group: { type: 'str', description: 'Group (name or gid) of the file.' },
  ...ignoredFileOptions,
} as const satisfies Record<string, ParamSpec>;

export interface TextEditArgs {
  mode?: string;
  owner?: string;
  group?: string;
  backup?: boolean;
  validate?: string;
}

/** What a module's pure edit says: the new content (latin1 byte string) and Ansible's message for it. */
export interface TextEdit {
  after: string;
  msg: string;
}

/** Reads the file (whole content, sha1) and whether its folder exists, plus owner/group names to check. */
export function gatherTextFile(ctx: ModuleContext, path: string, args: TextEditArgs): Promise<HostFileFacts> {
  return probePaths(ctx, [path, parentDir(path)], {
    existenceOnlyFrom: 1,
    contentLimit: Infinity,
    checksum: 'sha1',
    users: [args.owner],
    groups: [args.group],
    clock: args.backup === true,
  });
}

/** The probed file, refused when it is a directory, unreadable, or a link someone else planted. */
export function editableFile(facts: HostFileFacts, moduleName: string): PathFacts {
  const p = facts.paths[0]!;
  refuseForeignLink(p, 'a link owned by root or by its target\'s owner is followed');
  if (p.exists && p.stat?.type === 'directory') throw new ModuleError('E_EDIT_DIR', `Path ${p.path} is a directory !`);
  if (p.exists && p.stat && p.content === undefined) {
    throw new ModuleError('E_EDIT_READ', `${moduleName}: cannot read ${p.path}`, { hint: 'the task user cannot read it; use become: true' });
  }
  return p;
}

/** How a module's messages differ from the others' (Ansible's modules each word them their own way). */
export interface TextEditWording {
  /** Append " and ownership, perms or SE linux context changed" when both change (ini_file does not). */
  sayAttributes?: boolean;
  /** The diff's header for the file: lineinfile's is `PATH (content)`, the others' the path. */
  diffHeader?: (path: string) => string;
}

/**
 * The changes for an edit already computed, for lineinfile, replace, blockinfile and ini_file: a write (after
 * backup/validate) when the content differs, else only the attribute changes. `edit` undefined means the content
 * stays. The summary is Ansible's message, with " and ownership, perms or SE linux context changed" when both change.
 */
export function planTextEdit(facts: HostFileFacts, args: TextEditArgs, edit: TextEdit | undefined, wording: TextEditWording = {}): Change[] {
  const { sayAttributes = true, diffHeader = (path: string) => path } = wording;
  const p = facts.paths[0]!;
  const parent = facts.paths[1];
  const st = p.exists ? p.stat : undefined;
  if (p.exists) checkPrincipals(args, facts);
  const before = p.content ? p.content.toString('latin1') : '';
  const mode = args.mode;
  const attrArgs = { ...(mode !== undefined ? { mode } : {}), ...(args.owner !== undefined ? { owner: args.owner } : {}), ...(args.group !== undefined ? { group: args.group } : {}) };
  if (edit === undefined || (p.exists && edit.after === before)) {
    if (!st) return [];
    const at = attributeChange(p.path, attrArgs, st, facts.umask, true);
    if (at.steps.length === 0) return [];
    return [{ summary: 'ownership, perms or SE linux context changed', diff: attrDiff(p.path, at.before, at.after, true), steps: at.steps }];
  }
  const after = Buffer.from(edit.after, 'latin1');
  // Ansible writes os.path.realpath(path): a link stays a link and its target gets the edit (the write step never
  // follows a link itself, so the target is named here).
  const target = p.lstat?.type === 'link' && p.realPath ? p.realPath : p.path;
  const steps: Step[] = [];
  if (!p.exists && parent && !parent.exists) steps.push({ kind: 'exec', argv: ['mkdir', '-p', '--', parentDir(p.path)] });
  if (args.backup && p.exists) steps.push(backupStep(p.path, backupName(p.path, facts.pid, facts.now)));
  if (args.validate !== undefined) {
    validateArgv(args.validate, '/tmp/x');
    steps.push(validateStep(target, after, args.validate, facts.tempToken));
  }
  const base = st ? st.mode : 0o666 & ~facts.umask;
  const bits = mode !== undefined ? resolveMode(mode, base, false, facts.umask) : base;
  const write: Step = { kind: 'write', path: target, content: after, mode: formatMode(bits) };
  const owner = args.owner ?? (st ? String(st.uid) : undefined);
  const group = args.group ?? (st ? String(st.gid) : undefined);
  if (owner !== undefined) write.owner = owner;
  if (group !== undefined) write.group = group;
  steps.push(write);
  const attrsToo = st !== undefined && attributeChange(p.path, attrArgs, st, facts.umask, true).steps.length > 0;
  return [
    {
      summary: attrsToo && sayAttributes ? `${edit.msg} and ownership, perms or SE linux context changed` : edit.msg,
      diff: { path: p.path, before: diffText(p.content), after: diffText(after), beforeHeader: diffHeader(p.path), afterHeader: diffHeader(p.path) },
      steps,
    },
  ];
}

/**
 * Why an edit plans nothing (the modules' noop, shown at -v): `file /etc/vnc.conf (mode 0644, owner root, group
 * root) has the line "depth=24"`, or that the file is absent when nothing was to be removed from it.
 */
export function textEditNoop(facts: HostFileFacts, what: string): string {
  const p = facts.paths[0]!;
  return p.exists ? `${unchangedPathText(p)} ${what}` : `${p.path} is absent`;
}

/** The backup file a plan's steps make (Ansible's `backup_file`), if any. */
export function backupFileOf(changes: readonly Change[]): string | undefined {
  for (const c of changes) for (const s of c.steps) if (backupPathOf(s) !== undefined) return backupPathOf(s);
  return undefined;
}

/**
 * A Python `re` pattern as a JavaScript RegExp over text (not bytes): named groups `(?P<n>…)` and `(?P=n)`,
 * `\A` and `\Z`, and leading inline flags `(?ims)`. `flags` are JavaScript's (`m` for re.MULTILINE, `s` for DOTALL,
 * `u` for a text pattern; without it the pattern runs over latin1 byte strings, as Python's bytes patterns do).
 */
export function pythonRegex(pattern: string, flags: string): RegExp {
  let all = flags;
  const src = pattern
    .replace(/^\(\?([aiLmsux]+)\)/, (_m, f: string) => {
      for (const c of 'ims') if (f.includes(c) && !all.includes(c)) all += c;
      return '';
    })
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '(?<![\\s\\S])')
    .replace(/\\Z/g, '(?![\\s\\S])');
  try {
    return new RegExp(src, all);
  } catch (err) {
    // A pattern that is not valid under the `u` flag (`\-`, `\'`) is still valid Python: try without it.
    if (all.includes('u')) return new RegExp(src, all.replace('u', ''));
    throw err;
  }
}

/** Whether `pattern` compiles as pythonRegex does (for a spec's check()). */
export function isPythonRegex(pattern: string): boolean {
  try {
    pythonRegex(pattern, '');
    return true;
  } catch {
    return false;
  }
}

/** The file's content as text in `encoding` (utf-8 or latin-1), and back to the latin1 byte string a TextEdit holds. */
export function decodeContent(bytes: Uint8Array | undefined, encoding: string): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString(isLatin1(encoding) ? 'latin1' : 'utf8');
}

export function encodeContent(text: string, encoding: string): string {
  return Buffer.from(text, isLatin1(encoding) ? 'latin1' : 'utf8').toString('latin1');
}

export const supportedEncodings = ['utf-8', 'utf8', 'UTF-8', 'latin-1', 'latin1', 'iso-8859-1', 'ISO-8859-1'] as const;

function isLatin1(encoding: string): boolean {
  return /^(latin-?1|iso-8859-1)$/i.test(encoding);
}
