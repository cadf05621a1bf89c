import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModuleError, VaultError } from '../errors.js';
import { pyJson, pyStr } from '../playbook/filters.js';
import { decryptVault } from '../vault/crypto.js';
import { isVaultText, VAULT_HEADER } from '../vault/format.js';
import { recordSecret, vaultSecrets } from '../vault/session.js';
import {
  ignoredFileOptions,
  attrDiff,
  attributeChange,
  backupName,
  backupPathOf,
  backupStep,
  baseName,
  checkPrincipals,
  diffText,
  formatMode,
  MAX_DIFF_SIZE,
  parentDir,
  probePaths,
  resolveMode,
  sha1,
  unchangedPathText,
  validateArgv,
  validateStep,
  type HostFileFacts,
  type PathFacts,
} from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type Options, type SpecProblem } from './spec/types.js';
import type { Change, DiffEntry, ModuleContext, Step } from './types.js';

/** remote_src content travels host → controller → host; keep it to config-sized files. */
const REMOTE_SRC_LIMIT = 16 * 1048576;

const nonEmpty = { pattern: '\\S', patternText: 'a non-empty string' } as const;

/** Parameters copy and template share (template adds its own). */
export const writeOptions = {
  dest: { type: 'path', required: true, ...nonEmpty, description: 'Absolute path on the host to write to; a folder (or a path ending in /) receives the file under its own name.' },
  mode: {
    type: 'mode',
    keywords: ['preserve'],
    description: "Permissions as a quoted octal string ('0644'), symbolic ('u=rw,go=r') or 'preserve' (the source's). An unquoted 0644 is octal, as in Ansible; a decimal integer (644) is refused.",
  },
  owner: { type: 'str', ...nonEmpty, description: 'User name or uid that should own the file.' },
  group: { type: 'str', ...nonEmpty, description: 'Group name or gid that should own the file.' },
  backup: { type: 'bool', default: false, description: 'Keep the old file as DEST.PID.YYYY-mm-dd@HH:MM:SS~ before replacing it; returned as backup_file.' },
  validate: { type: 'str', ...nonEmpty, description: "Command run on the new file before it replaces dest; %s is the temp file ('sshd -t -f %s')." },
  force: { type: 'bool', default: true, description: 'Replace dest when its content differs; false writes only when dest is absent.' },
  follow: { type: 'bool', default: false, description: 'When dest is a symlink: true writes the file it points to (the link stays); false replaces the link itself with a regular file, as Ansible does.' },
  directory_mode: { type: 'mode', description: 'Mode of folders created for a dest ending in /.' },
  ...ignoredFileOptions,
} as const satisfies Options;

/** The arguments copy and template hand to the shared planner, parsed. */
export type WriteArgs = ArgsOf<typeof writeOptions>;

/** What copy and template check beyond the declarations: an absolute dest, a usable validate command. */
export function checkWriteArgs(args: WriteArgs): SpecProblem | undefined {
  if (!args.dest.startsWith('/') && !args.dest.startsWith('~')) return { param: 'dest', message: `dest '${args.dest}' must be an absolute path`, hint: 'start it with / (or ~ for a home folder)' };
  return args.validate === undefined ? undefined : checkValidateArg(args.validate);
}

/** `validate` must name the temp file (%s) and split as Ansible splits it (shlex). */
export function checkValidateArg(validate: string): SpecProblem | undefined {
  try {
    validateArgv(validate, '/tmp/x');
    return undefined;
  } catch (e) {
    if (!(e instanceof ModuleError)) throw e;
    return { param: 'validate', message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
}

const spec = defineSpec({
  description: 'Write a file on the host from inline content or a controller file, atomically, with mode/owner, backup and validate.',
  options: {
    ...writeOptions,
    src: {
      type: 'path',
      ...nonEmpty,
      description: "A file or folder on the controller (role's files/, then beside the playbook); 'dir/' copies the folder's content. With remote_src, a file on the host.",
    },
    content: { type: 'raw', description: 'Literal content to write instead of src; a list or mapping is written as JSON, as Ansible does.' },
    checksum: { type: 'str', pattern: '^[0-9a-fA-F]{40}$', patternText: 'a SHA1 (40 hex digits)', description: 'Expected SHA1 of the content; the task fails when it differs.' },
    decrypt: { type: 'bool', default: true, description: "Decrypt a vault-encrypted src file (with the run's vault passwords) before copying it; false copies the vault text as it is." },
    remote_src: { type: 'bool', default: false, description: `src is a file on the host, not the controller (read in the same probe; up to ${REMOTE_SRC_LIMIT / 1048576} MiB).` },
  },
  mutually_exclusive: [['src', 'content']],
  required_one_of: [['src', 'content']],
  check(args) {
    // content is `raw` (a mapping is written as JSON), so a null reaches here: Ansible's "src (or content) is required".
    if (args.content === null && args.src === undefined) return { param: 'content', message: 'src (or content) is required', hint: 'give content a value, or src' };
    if (args.mode === 'preserve' && args.src === undefined) return { param: 'mode', message: 'mode: preserve needs src (inline content has no mode)', hint: "give the mode itself, e.g. mode: '0644'" };
    return checkWriteArgs(args);
  },
});

/** ansible.builtin.copy: put content (inline or a controller file) at dest, atomically, compared by sha1. */
export type CopyArgs = ArgsOf<typeof spec.options>;

/** What copy and template hand to the shared planner. */
export interface WriteFacts {
  host: HostFileFacts;
  /** The new content, already read/rendered on the controller. */
  content: Buffer;
  /** Where it came from, for the diff header (controller path), or undefined for inline content. */
  source?: string;
  /** Dest as given, and whether the effective dest is below it (dest was a folder). */
  destArg: string;
  /** Probe index of the effective dest (1 when dest was a folder). */
  destIndex: number;
  /** A folder to create first (dest ended in / and is absent). */
  mkdir?: string;
  wantDiff: boolean;
  /** Permission bits of the source, for `mode: preserve`. */
  srcMode?: number;
}

/** Read every fact the write needs in one probe: dest, and dest/NAME in case dest turns out to be a folder. */
export async function gatherWrite(
  args: WriteArgs,
  ctx: ModuleContext,
  content: Buffer,
  srcName: string | undefined,
  source: string | undefined,
  srcMode?: number,
): Promise<WriteFacts> {
  const destArg = args.dest;
  const endsWithSlash = destArg.endsWith('/') && destArg.length > 1;
  const inside = srcName !== undefined ? `${destArg.replace(/\/+$/, '')}/${srcName}` : undefined;
  const trimmed = destArg.replace(/\/+$/, '') || '/';
  // The parent comes last so plan() can say "Destination directory … does not exist" without another command.
  const paths = inside ? [trimmed, inside, parentDir(trimmed)] : [trimmed, parentDir(trimmed)];
  const host = await probePaths(ctx, paths, {
    existenceOnlyFrom: paths.length - 1,
    contentLimit: ctx.diff ? MAX_DIFF_SIZE : 0, checksum: 'sha1', users: [args.owner], groups: [args.group], clock: args.backup,
  });
  const first = host.paths[0]!;
  const isDir = first.exists && (first.lstat?.type === 'directory' || first.stat?.type === 'directory');
  const facts: WriteFacts = { host, content, destArg, destIndex: 0, wantDiff: ctx.diff };
  if (source !== undefined) facts.source = source;
  if (srcMode !== undefined) facts.srcMode = srcMode;
  if (endsWithSlash || isDir) {
    if (!inside) throw new ModuleError('E_COPY_DEST', 'can not use content with a dir as dest', { hint: 'give dest the full file name' });
    facts.destIndex = 1;
    if (!first.exists) facts.mkdir = paths[0]!;
  }
  return facts;
}

/** The effective destination's facts. */
export function destFacts(f: WriteFacts): PathFacts {
  return f.host.paths[f.destIndex]!;
}

/** Why a write (copy, template) plans nothing: `file /etc/vnc.conf (mode 0644, …) has the content and attributes asked`. */
export function writeNoop(_args: unknown, f: WriteFacts): string {
  return `${unchangedPathText(destFacts(f))} has the content and attributes asked`;
}

/**
 * Pure: content in, changes out. A content change is [backup] → [validate on a temp copy] → atomic write with
 * the final mode/owner (set before the rename by the write step); equal content only fixes attributes.
 */
export function planWrite(given: WriteArgs, f: WriteFacts): Change[] {
  const args = withPreservedMode(given, f);
  const d = destFacts(f);
  const isLink = d.lstat?.type === 'link';
  // follow: true writes what an existing link points to; false (Ansible's default) replaces the link itself, and
  // nothing of its target (content, mode, owner) counts: the link is always a change, as Ansible's islink() test.
  // A dangling link is replaced either way, as in Ansible (its exists() is false, so it never resolves the link).
  const linkTarget = args.follow && isLink && d.stat && d.realPath ? d.realPath : undefined;
  const path = linkTarget ?? d.path;
  const replacesLink = isLink && linkTarget === undefined;
  const st = d.exists && !replacesLink ? d.stat : undefined; // what a write replaces: a file, or a followed link's target
  if (d.exists && d.stat?.type === 'directory') {
    throw new ModuleError('E_COPY_DEST', `dest ${d.path} is a directory`, { hint: 'give dest the full file name' });
  }
  // A missing folder fails when the steps run, not in plan(): under --check Ansible reports the copy as a change
  // (an earlier task of the same run may be the one that creates the folder).
  let missingParent: string | undefined;
  if (f.mkdir === undefined && d.exists === false) {
    const dir = parentDir(d.path);
    const parent = f.host.paths.find((p) => p.path === dir);
    if (parent && !parent.exists) missingParent = dir;
  }
  if (d.exists && !args.force) return [];
  const newSum = sha1(f.content);
  const sameContent = st?.type === 'file' && d.checksum === newSum;
  const umask = f.host.umask;
  if (sameContent && st) {
    // Only here can the lookup fail at plan time: Ansible's --check reports a content change without looking the
    // owner up, and a real run fails at the write step (the owner is set before the rename, so nothing is replaced).
    checkPrincipals(args, f.host);
    const a = attributeChange(path, args, st, umask, true);
    if (a.steps.length === 0) return [];
    return [{ summary: `set ${a.what.join(', ')} of ${path}`, diff: attrDiff(path, a.before, a.after), steps: a.steps }];
  }
  const steps: Step[] = missingParent === undefined ? [] : [parentCheckStep(missingParent)];
  if (f.mkdir !== undefined) {
    steps.push({ kind: 'exec', argv: ['mkdir', '-p', '--', f.mkdir] });
    if (args.directory_mode !== undefined) {
      const dm = resolveMode(args.directory_mode, 0o777 & ~umask, true, umask);
      steps.push({ kind: 'exec', argv: ['chmod', '--', formatMode(dm), f.mkdir] });
    }
  }
  if (args.backup && st?.type === 'file') steps.push(backupStep(path, backupName(path, f.host.pid, f.host.now)));
  if (args.validate !== undefined) steps.push(validateStep(path, f.content, args.validate, f.host.tempToken));
  steps.push(writeStep(path, f.content, args, st && st.type === 'file' ? st : undefined, umask));
  // No hash of the content in the summary: even a short one lets a short secret (a VNC password) be brute-forced.
  const change: Change = { summary: `${d.exists ? 'update' : 'create'} ${path}`, steps };
  // A replaced link's target is not what changes (it stays as it is): the diff shows a new file, and never the
  // content of whatever the link points to (Ansible's diff reads it through the link).
  if (f.wantDiff) change.diff = contentDiff(path, replacesLink ? { path: d.path, exists: false } : d, f);
  return [change];
}

/** Fails with Ansible's message when the destination folder is still missing when the steps run. */
function parentCheckStep(dir: string): Step {
  return {
    kind: 'exec',
    argv: ['sh', '-c', '[ -d "$1" ] || { echo "Destination directory $1 does not exist" >&2; exit 1; }', 'vncplay-copy', dir],
  };
}

/** `mode: preserve` means the source's own permission bits. */
function withPreservedMode(args: WriteArgs, f: WriteFacts): WriteArgs {
  if (args.mode !== 'preserve') return args;
  if (f.srcMode === undefined) throw new ModuleError('E_COPY_ARGS', 'mode: preserve needs src (inline content has no mode)');
  return { ...args, mode: formatMode(f.srcMode) };
}

function writeStep(
  path: string,
  content: Buffer,
  args: WriteArgs,
  existing: { mode: number; uid: number; gid: number } | undefined,
  umask: number,
): Step {
  const base = existing ? existing.mode : 0o666 & ~umask;
  const mode = args.mode === undefined ? base : resolveMode(args.mode, base, false, umask);
  const step: Step = { kind: 'write', path, content, mode: formatMode(mode) };
  // Replacing a file keeps its owner unless asked otherwise, as Ansible's atomic_move does.
  const owner = args.owner ?? (existing ? String(existing.uid) : undefined);
  const group = args.group ?? (existing ? String(existing.gid) : undefined);
  if (owner !== undefined) step.owner = owner;
  if (group !== undefined) step.group = group;
  return step;
}

/**
 * As Ansible prints it: `--- before: DEST` (bare `--- before` for a new file), `+++ after: SOURCE`; binary or
 * large content gives Ansible's "diff skipped: …" lines instead.
 */
function contentDiff(path: string, d: PathFacts, f: WriteFacts): DiffEntry {
  const skipped = diffSkipped(d, f.content);
  if (skipped.length) return { path, skipped };
  const entry: DiffEntry = { before: '', after: diffText(f.content), afterHeader: f.source ?? path };
  if (d.exists) {
    entry.path = path;
    entry.before = diffText(d.content, d.contentTooLarge);
    entry.beforeHeader = path;
  }
  return entry;
}

/** Ansible's dst_binary / src_binary / dst_larger / src_larger, in its order. */
export function diffSkipped(d: PathFacts, content: Buffer): string[] {
  const out: string[] = [];
  if (d.content?.includes(0)) out.push('diff skipped: destination file appears to be binary');
  if (content.includes(0)) out.push('diff skipped: source file appears to be binary');
  if (d.contentTooLarge || (d.content && d.content.length > MAX_DIFF_SIZE)) out.push(`diff skipped: destination file size is greater than ${MAX_DIFF_SIZE}`);
  if (content.length > MAX_DIFF_SIZE) out.push(`diff skipped: source file size is greater than ${MAX_DIFF_SIZE}`);
  return out;
}

/** The registered result: dest, checksum, size, mode, owner, group, state, and backup_file when one is made. */
export function writeReport(args: WriteArgs, f: WriteFacts): Record<string, unknown> {
  const d = destFacts(f);
  const out: Record<string, unknown> = { dest: d.path, checksum: sha1(f.content), size: f.content.length, state: 'file' };
  if (f.source !== undefined) out['src'] = f.source;
  const st = d.stat;
  const changes = safePlan(args, f);
  const writes = changes.some((c) => c.steps.some((s) => s.kind === 'write'));
  if (st && !writes) {
    out['mode'] = formatMode(st.mode);
    out['uid'] = st.uid;
    out['gid'] = st.gid;
    out['owner'] = st.owner;
    out['group'] = st.group;
  }
  for (const c of changes) {
    for (const s of c.steps) {
      if (s.kind === 'write' && s.mode) out['mode'] = s.mode;
      // A mode-only change (same content): the result shows the mode the chmod sets, as Ansible's does.
      if (s.kind === 'exec' && s.argv[0] === 'chmod') out['mode'] = s.argv[2];
      const backup = backupPathOf(s);
      if (backup !== undefined) out['backup_file'] = backup;
    }
  }
  return out;
}

function safePlan(args: WriteArgs, f: WriteFacts): Change[] {
  try {
    return planWrite(args, f);
  } catch {
    return [];
  }
}

/**
 * Inline content as Ansible's copy action plugin writes it: a list or mapping as json.dumps() of it, anything else
 * as the module's `type: str` converts it.
 */
function contentText(content: unknown): string {
  return typeof content === 'object' && content !== null ? pyJson(content, undefined, false) : pyStr(content);
}

/** Source bytes: inline content, the controller file src names, or (remote_src) a file on the host. */
async function readSource(args: CopyArgs, ctx: ModuleContext): Promise<{ content: Buffer; source?: string; name?: string; mode?: number }> {
  if (args.content !== undefined && args.content !== null) return { content: Buffer.from(contentText(args.content), 'utf8') };
  if (args.remote_src) return readRemoteSource(args.src!, ctx);
  const found = await ctx.findFile(args.src!, 'files');
  const st = await stat(found);
  if (st.isDirectory()) throw new ModuleError('E_COPY_SRC', `src ${args.src!} is a directory`); // handled by gatherTree
  return { content: decryptSource(await readFile(found), found, args), source: found, name: baseName(found), mode: st.mode & 0o7777 };
}

/**
 * Ansible's `decrypt` (default true): a controller file that is vault-encrypted (ansible-vault encrypt) is
 * copied as its plaintext, decrypted with the run's vault passwords; its content then counts as a secret, so no
 * output (diff, -v logs) shows it. `decrypt: false` copies the vault text as it is.
 */
export function decryptSource(content: Buffer, file: string, args: Pick<CopyArgs, 'decrypt'>): Buffer {
  if (!args.decrypt || !isVaultText(content.subarray(0, VAULT_HEADER.length + 1).toString('latin1'))) return content;
  if (vaultSecrets().length === 0) {
    throw new ModuleError('E_VAULT_NO_PASSWORD', `src ${file} is vault-encrypted and no vault password was given: run with --ask-vault-pass / --vault-password-file (or --vault-id)`, {
      hint: 'decrypt: false copies the encrypted text as it is',
    });
  }
  let plain: Buffer;
  try {
    plain = decryptVault(content.toString('utf8'), vaultSecrets()).plaintext;
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    throw new ModuleError(err.code, `src ${file}: ${err.message}`, { ...(err.hint ? { hint: err.hint } : {}), cause: err });
  }
  recordSecret(plain.toString('utf8'));
  return plain;
}

async function readRemoteSource(src: string, ctx: ModuleContext): Promise<{ content: Buffer; source: string; name: string; mode?: number }> {
  const facts = await probePaths(ctx, [src], { contentLimit: REMOTE_SRC_LIMIT, checksum: false });
  const p = facts.paths[0]!;
  if (!p.exists) throw new ModuleError('E_COPY_SRC', `Source ${src} not found on the host`, { hint: 'remote_src: true reads src on the target host' });
  if (p.stat?.type === 'directory') {
    throw new ModuleError('E_COPY_SRC', `src ${src} is a directory; copying folders is not supported by vncplay yet`);
  }
  if (p.contentTooLarge) throw new ModuleError('E_COPY_SRC', `Source ${src} is larger than ${REMOTE_SRC_LIMIT} bytes`, { hint: 'use a command task (cp) for large files' });
  if (!p.content) throw new ModuleError('E_COPY_SRC', `Source ${src} is not readable`, { hint: 'become: true may be needed' });
  return { content: p.content, source: p.path, name: baseName(p.path), ...(p.stat ? { mode: p.stat.mode } : {}) };
}

// ───────────────────────────── src is a folder ─────────────────────────────

/** A folder copy: every file and folder below src, with the facts of where each one goes. */
export interface TreeFacts {
  tree: true;
  host: HostFileFacts;
  /** Destination folders, parents first; `facts` index into host.paths. */
  dirs: Array<{ path: string; index: number }>;
  files: Array<{ path: string; index: number; parentIndex: number; content: Buffer; source: string; mode: number }>;
  wantDiff: boolean;
}

export type CopyFacts = WriteFacts | TreeFacts;

const isTree = (f: CopyFacts): f is TreeFacts => 'tree' in f;

/** Walk a controller folder (following links, as local_follow does by default): folders first, then files. */
async function walk(root: string, rel = ''): Promise<{ dirs: string[]; files: string[] }> {
  const out = { dirs: [] as string[], files: [] as string[] };
  const entries = (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const st = await stat(join(root, r));
    if (st.isDirectory()) {
      out.dirs.push(r);
      const sub = await walk(root, r);
      out.dirs.push(...sub.dirs);
      out.files.push(...sub.files);
    } else if (st.isFile()) {
      out.files.push(r);
    }
  }
  return out;
}

/**
 * Ansible's folder copy: `src: dir/` copies what is inside dir into dest, `src: dir` copies dir itself (dest/dir).
 * One probe reads every destination path.
 */
async function gatherTree(args: CopyArgs, ctx: ModuleContext, found: string): Promise<TreeFacts> {
  const dest = args.dest.replace(/\/+$/, '') || '/';
  const base = args.src!.endsWith('/') ? dest : `${dest === '/' ? '' : dest}/${baseName(found)}`;
  const { dirs, files } = await walk(found);
  const at = (rel: string): string => (rel ? `${base === '/' ? '' : base}/${rel}` : base);
  // dest itself comes last in the probe; when src names the folder (no trailing /) it is a parent to create too.
  const paths = [base, ...dirs.map(at), ...files.map(at), dest];
  const host = await probePaths(ctx, paths, {
    contentLimit: ctx.diff ? MAX_DIFF_SIZE : 0, checksum: 'sha1', users: [args.owner], groups: [args.group], clock: args.backup,
  });
  const dirIndex = (rel: string): number => (rel === '' ? 0 : 1 + dirs.indexOf(rel));
  const out: TreeFacts = {
    tree: true,
    host,
    dirs: [
      ...(base !== dest ? [{ path: dest, index: paths.length - 1 }] : []),
      { path: base, index: 0 },
      ...dirs.map((d, i) => ({ path: at(d), index: i + 1 })),
    ],
    files: [],
    wantDiff: ctx.diff,
  };
  for (const [i, rel] of files.entries()) {
    const source = join(found, rel);
    const slash = rel.lastIndexOf('/');
    out.files.push({
      path: at(rel), index: 1 + dirs.length + i, parentIndex: dirIndex(slash < 0 ? '' : rel.slice(0, slash)),
      content: decryptSource(await readFile(source), source, args), source, mode: (await stat(source)).mode & 0o7777,
    });
  }
  return out;
}

/** Missing folders are made (directory_mode applied), then each file is planned as a single-file copy. */
export function planTree(args: CopyArgs, f: TreeFacts): Change[] {
  const changes: Change[] = [];
  const umask = f.host.umask;
  for (const d of f.dirs) {
    const p = f.host.paths[d.index]!;
    if (p.exists && p.stat?.type !== 'directory') throw new ModuleError('E_COPY_DEST', `${d.path} exists and is not a directory`);
    if (p.exists) continue;
    const steps: Step[] = [{ kind: 'exec', argv: ['mkdir', '-p', '--', d.path] }];
    if (args.directory_mode !== undefined) {
      steps.push({ kind: 'exec', argv: ['chmod', '--', formatMode(resolveMode(args.directory_mode, 0o777 & ~umask, true, umask)), d.path] });
    }
    changes.push({ summary: `create directory ${d.path}`, diff: { before: { path: d.path, state: 'absent' }, after: { path: d.path, state: 'directory' } }, steps });
  }
  for (const file of f.files) {
    const parent = f.host.paths[file.parentIndex]!;
    // A folder made earlier in this task counts as there: its file needs no "Destination directory" error.
    const parentFacts: PathFacts = parent.exists ? parent : { path: parent.path, exists: true };
    const single: WriteFacts = {
      host: { ...f.host, paths: [f.host.paths[file.index]!, parentFacts] },
      content: file.content, source: file.source, destArg: file.path, destIndex: 0, wantDiff: f.wantDiff, srcMode: file.mode,
    };
    changes.push(...planWrite(args, single));
  }
  return changes;
}

export const copyModule = plannedModule(spec, {
  kind: 'planned',
  name: 'copy',
  where: 'host',
  // At load time a parameter still to render is absent (no default either): a templated remote_src may be true.
  controllerFiles: (args) => (args.src === undefined || args.remote_src !== false ? [] : [{ param: 'src', kind: 'files', decrypt: args.decrypt === true }]),
  async gather(args, ctx): Promise<CopyFacts> {
    if (args.src !== undefined && !args.remote_src) {
      const found = await ctx.findFile(args.src, 'files');
      if ((await stat(found)).isDirectory()) return gatherTree(args, ctx, found);
    }
    const src = await readSource(args, ctx);
    if (args.checksum !== undefined && sha1(src.content) !== args.checksum.toLowerCase()) {
      throw new ModuleError('E_COPY_CHECKSUM', `copied file does not match the expected checksum ${args.checksum}`);
    }
    return gatherWrite(args, ctx, src.content, src.name, src.source, src.mode);
  },
  plan: (args, f) => (isTree(f) ? planTree(args, f) : planWrite(args, f)),
  noop: (args, f) =>
    isTree(f)
      ? `${f.files.length} file(s) and ${f.dirs.length} folder(s) under ${f.dirs[0]?.path ?? 'dest'} have the content and attributes asked`
      : writeNoop(args, f),
  report: (args, f) => (isTree(f) ? { dest: args.dest, state: 'directory', files: f.files.length } : writeReport(args, f)),
});
