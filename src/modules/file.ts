import { posix } from 'node:path';
import { ModuleError } from '../errors.js';
import {
  ignoredFileOptions,
  attrDiff,
  attributeChange,
  checkPrincipals,
  formatMode,
  parentDir,
  probePaths,
  refuseForeignLink,
  unchangedPathText,
  resolveMode,
  type AttrState,
  type HostFileFacts,
  type PathFacts,
  type StatFacts,
} from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

const fileStates = ['file', 'directory', 'absent', 'link', 'hard', 'touch'] as const;

const spec = defineSpec({
  description: 'Make a path a file, directory, symlink, hard link or nothing, with mode/owner/group; touch it.',
  options: {
    path: { type: 'path', required: true, aliases: ['dest', 'name'], pattern: '\\S', patternText: 'a non-empty path', description: 'Path of the file on the host.' },
    state: { type: 'str', choices: fileStates, description: 'What the path should be. Default: its current state if it exists, directory with recurse, else file.' },
    src: { type: 'path', pattern: '\\S', patternText: 'a non-empty path', description: 'Target of the link (state=link or hard); relative to the link folder when not absolute.' },
    mode: { type: 'mode', description: "Permissions as a quoted octal string ('0644') or symbolic ('u=rw,go=r'). An unquoted 0644 is octal, as in Ansible; a decimal integer (644) is refused." },
    owner: { type: 'str', pattern: '\\S', patternText: 'a user name or uid', description: 'User name or uid that should own the path.' },
    group: { type: 'str', pattern: '\\S', patternText: 'a group name or gid', description: 'Group name or gid that should own the path.' },
    recurse: { type: 'bool', default: false, description: 'With state=directory, set owner/group/mode on everything below too.' },
    force: { type: 'bool', default: false, description: 'Create links even when the source is missing or a file is in the way.' },
    // No default: an explicit `follow: true` also follows a link someone else owns (refuseForeignLink), the default does not.
    follow: { type: 'bool', description: 'Act on what a link points to (default true).' },
    access_time: { type: 'str', choices: ['now', 'preserve'], description: "state=touch: 'preserve' keeps the access time (then touch is idempotent); default now." },
    modification_time: { type: 'str', choices: ['now', 'preserve'], description: "state=touch: 'preserve' keeps the modification time; default now." },
    ...ignoredFileOptions,
  },
  required_if: [
    ['state', 'link', ['src']],
    ['state', 'hard', ['src']],
  ],
  removedParams: { context: 'write `seuser`/`serole`/`setype`/`selevel: _default` for the policy default (the Ansible file module has no `context`)' },
  check(args) {
    const state = args.state;
    if (args.src !== undefined && state !== undefined && state !== 'link' && state !== 'hard') {
      return { param: 'src', message: `src is only used with state=link or state=hard, not state=${state}`, hint: 'remove src, or say state: link' };
    }
    if (args.recurse && state !== undefined && state !== 'directory') return { param: 'recurse', message: 'recurse option requires state to be directory' };
    return undefined;
  },
});

/** ansible.builtin.file: state of a path (file, directory, link, hard link, touch, absent) and its attributes. */
export type FileState = (typeof fileStates)[number];
export type FileArgs = ArgsOf<typeof spec.options>;

/** `follow` as the plans read it: true unless the task says false. */
const follows = (args: FileArgs): boolean => args.follow ?? true;

export interface FileFacts {
  host: HostFileFacts;
  /** Resolved link source (absolute) when state is link or hard. */
  src?: string;
}

/** The state a path is in now, in Ansible's vocabulary. */
export function currentState(p: PathFacts): FileState | 'absent' {
  if (!p.exists || !p.lstat) return 'absent';
  if (p.lstat.type === 'link') return 'link';
  if (p.lstat.type === 'directory') return 'directory';
  if (p.lstat.nlink > 1 && p.lstat.type === 'file') return 'hard';
  return 'file';
}

function wantedState(args: FileArgs, p: PathFacts): FileState {
  if (args.state) return args.state;
  const cur = currentState(p);
  // Without src an existing link or multiply-linked file only gets its attributes set (as Ansible ends up doing).
  if ((cur === 'hard' || cur === 'link') && args.src === undefined) return 'file';
  if (cur !== 'absent') return cur;
  return args.recurse ? 'directory' : 'file';
}

/** Parent folders of a path, nearest first, without '/' ('/a/b/c' → ['/a/b', '/a']). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = parentDir(path); d !== '/' && d !== '.' && !out.includes(d); d = parentDir(d)) {
    if (d === '~' || !d.includes('/')) break;
    out.push(d);
  }
  return out;
}

/** Link source as Ansible resolves it for existence checks: relative sources are relative to the link's folder. */
export function resolveLinkSrc(path: string, src: string): string {
  if (src.startsWith('/')) return src;
  const dir = parentDir(path);
  return `${dir === '/' ? '' : dir}/${src}`;
}

export const fileModule = plannedModule(spec, {
  kind: 'planned',
  name: 'file',
  where: 'host',
  async gather(args, ctx): Promise<FileFacts> {
    const path = args.path;
    const paths = [path];
    let src: string | undefined;
    if (args.src !== undefined && (args.state === 'link' || args.state === 'hard')) {
      src = resolveLinkSrc(path, args.src);
      paths.push(src);
    }
    if (src === undefined && (args.state === 'directory' || (args.state === undefined && args.recurse))) {
      // Folders mkdir -p would create get the mode/owner too, as in Ansible: read which ancestors exist.
      paths.push(...ancestors(path));
    }
    // `LINK/` resolves to the folder LINK points to: whether the name without the slash is a link is read too.
    const withoutSlash = args.state === 'absent' ? slashlessName(path) : undefined;
    if (withoutSlash !== undefined) paths.push(withoutSlash);
    const host = await probePaths(ctx, paths, {
      // Ancestors (state: directory) are only checked for existence; a link's src needs its full facts.
      ...(src === undefined && withoutSlash === undefined ? { existenceOnlyFrom: 1 } : {}),
      // A symlink plan reads the existing link's target and its own attributes (lstat), nothing behind it.
      ...(args.state === 'link' ? { linkTargetOnly: true } : {}),
      checksum: false,
      users: [args.owner],
      groups: [args.group],
      tree: args.recurse && (args.state === undefined || args.state === 'directory'),
    });
    return src === undefined ? { host } : { host, src };
  },
  plan(args, facts) {
    const p = facts.host.paths[0]!;
    const state = wantedState(args, p);
    // As Ansible: an existing path's owner/group are looked up even under --check; a path still to be created is
    // only a change under --check, and a real run fails at the chown step after creating it.
    if (state !== 'absent' && p.exists) checkPrincipals(args, facts.host);
    // Attributes set through a link by follow's default (true), not by an explicit follow: true.
    const setsAttributes = args.mode !== undefined || args.owner !== undefined || args.group !== undefined;
    if (args.follow === undefined && setsAttributes && (state === 'file' || state === 'directory' || state === 'touch')) {
      refuseForeignLink(p, 'or say follow: true to act on what the link points to');
    }
    switch (state) {
      case 'absent':
        return planAbsent(p, facts.host.paths[1]);
      case 'directory':
        return planDirectory(args, p, facts.host.umask, facts.host.paths.slice(1));
      case 'file':
        return planFile(args, p, facts.host.umask);
      case 'touch':
        return planTouch(args, p, facts.host.umask);
      case 'link':
        return planLink(args, p, facts);
      case 'hard':
        return planHard(args, p, facts);
    }
  },
  noop(_args, facts) {
    return `${unchangedPathText(facts.host.paths[0]!)} is as asked`;
  },
  report(args, facts) {
    const p = facts.host.paths[0]!;
    const st = p.lstat;
    const out: Record<string, unknown> = { path: p.path, state: wantedState(args, p) };
    if (st) {
      out['mode'] = formatMode(st.mode);
      out['uid'] = st.uid;
      out['gid'] = st.gid;
      out['owner'] = st.owner;
      out['group'] = st.group;
      out['size'] = st.size;
    }
    return out;
  },
});

/** Ansible's file diff: bare headers, `{path, state}` dictionaries. */
function stateDiff(path: string, before: string, after: string): Change['diff'] {
  return { before: { path, state: before }, after: { path, state: after } };
}

/** `/srv/link/` → `/srv/link`; undefined for a path without a trailing slash (or `/` itself). */
function slashlessName(path: string): string | undefined {
  return /[^/]\/+$/.test(path) ? path.replace(/\/+$/, '') : undefined;
}

/**
 * `withoutSlash`: the facts of the path without its trailing slash, when it has one. `rm -rf LINK/` (and Ansible's
 * rmtree) would empty the folder the link points to and then fail on the link: refused before anything is removed.
 */
function planAbsent(p: PathFacts, withoutSlash?: PathFacts): Change[] {
  const cur = currentState(p);
  if (withoutSlash?.lstat?.type === 'link' && slashlessName(p.path) === withoutSlash.path) {
    throw new ModuleError('E_FILE_ABSENT_LINK', `refusing to remove ${p.path}: ${withoutSlash.path} is a link, and with the trailing / this would empty the folder it points to`, {
      hint: `give path: ${withoutSlash.path} to remove the link itself, or the folder's own path to remove the folder`,
    });
  }
  if (cur === 'absent') return [];
  if (posix.normalize(p.path).replace(/\/+$/, '') === '') {
    throw new ModuleError('E_FILE_ABSENT_ROOT', `refusing to remove ${p.path}: it is the root folder`);
  }
  const argv = cur === 'directory' ? ['rm', '-rf', '--', p.path] : ['rm', '-f', '--', p.path];
  return [{ summary: `remove ${cur} ${p.path}`, diff: stateDiff(p.path, cur, 'absent'), steps: [{ kind: 'exec', argv }] }];
}

/** Attribute steps as one Change (or none), with Ansible's `(file attributes)` diff. */
function attrChanges(args: FileArgs, path: string, st: StatFacts, umask: number, follow: boolean): Change[] {
  const a = attributeChange(path, args, st, umask, follow);
  if (a.steps.length === 0) return [];
  return [{ summary: `set ${a.what.join(', ')} of ${path}`, diff: attrDiff(path, a.before, a.after), steps: a.steps }];
}

/** A fresh path's attributes: its created mode (umask applied) is the base symbolic modes work from. */
function freshAttrSteps(args: FileArgs, path: string, baseMode: number, isDir: boolean, umask: number): {
  steps: Step[];
  after: AttrState;
} {
  const steps: Step[] = [];
  const after: AttrState = { path };
  if (args.owner !== undefined || args.group !== undefined) {
    const spec = `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`;
    steps.push({ kind: 'exec', argv: ['chown', '--', spec, path] });
    if (args.owner !== undefined) after.owner = args.owner;
    if (args.group !== undefined) after.group = args.group;
  }
  if (args.mode !== undefined) {
    const want = resolveMode(args.mode, baseMode, isDir, umask);
    after.mode = formatMode(want);
    if (want !== baseMode) steps.push({ kind: 'exec', argv: ['chmod', '--', formatMode(want), path] });
  }
  return { steps, after };
}

function planDirectory(args: FileArgs, p: PathFacts, umask: number, parents: readonly PathFacts[] = []): Change[] {
  const cur = currentState(p);
  const follow = follows(args);
  if (cur === 'absent') {
    const base = 0o777 & ~umask;
    // Every folder mkdir -p creates gets the same mode/owner, top-down, as Ansible's ensure_directory does.
    const created = [...parents.filter((a) => !a.exists).map((a) => a.path).reverse(), p.path];
    let steps: Step[];
    if (created.length === 1 && args.owner === undefined && args.group === undefined && args.mode !== undefined) {
      // One new folder with only a mode to set: mkdir -m gives it that mode at birth (one process, not two).
      const want = resolveMode(args.mode, base, true, umask);
      steps = [{ kind: 'exec', argv: ['mkdir', '-p', ...(want === base ? [] : ['-m', formatMode(want)]), '--', p.path] }];
    } else {
      steps = [{ kind: 'exec', argv: ['mkdir', '-p', '--', p.path] }];
      for (const dir of created) steps.push(...freshAttrSteps(args, dir, base, true, umask).steps);
    }
    return [{ summary: `create directory ${p.path}`, diff: stateDiff(p.path, 'absent', 'directory'), steps }];
  }
  const isDirTarget = cur === 'directory' || (cur === 'link' && follow && p.stat?.type === 'directory');
  if (!isDirTarget) {
    throw new ModuleError('E_FILE_STATE', `${p.path} already exists as a ${cur === 'hard' ? 'file' : cur}`, {
      hint: 'remove it first (state: absent) or choose another path',
    });
  }
  const st = cur === 'link' ? p.stat! : p.lstat!;
  const changes = attrChanges(args, p.path, st, umask, true);
  if (args.recurse) changes.push(...recurseChanges(args, p, umask));
  return changes;
}

/** recurse: when anything below differs, one chown -R / chmod -R brings the whole tree in line. */
function recurseChanges(args: FileArgs, p: PathFacts, umask: number): Change[] {
  const tree = p.tree ?? [];
  const changes: Change[] = [];
  const ownerOff = tree.filter(
    (e) =>
      (args.owner !== undefined && !ownerOk(args.owner, e.facts.owner, e.facts.uid)) ||
      (args.group !== undefined && !ownerOk(args.group, e.facts.group, e.facts.gid)),
  );
  if (ownerOff.length > 0) {
    const spec = `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`;
    changes.push({
      summary: `set owner/group of ${ownerOff.length} path(s) below ${p.path}`,
      steps: [{ kind: 'exec', argv: ['chown', '-R', '--', spec, p.path] }],
    });
  }
  if (args.mode !== undefined) {
    const mode = args.mode;
    const modeOff = tree.filter(
      (e) => e.facts.type !== 'link' && resolveMode(mode, e.facts.mode, e.facts.type === 'directory', umask) !== e.facts.mode,
    );
    if (modeOff.length > 0) {
      const spec = /^[0-7]+$|^0o/.test(mode) ? formatMode(resolveMode(mode, 0, false, umask)) : mode;
      changes.push({
        summary: `set mode of ${modeOff.length} path(s) below ${p.path}`,
        steps: [{ kind: 'exec', argv: ['chmod', '-R', '--', spec, p.path] }],
      });
    }
  }
  return changes;
}

function ownerOk(want: string, name: string, id: number): boolean {
  return /^\d+$/.test(want) ? Number(want) === id : want === name;
}

function planFile(args: FileArgs, p: PathFacts, umask: number): Change[] {
  const cur = currentState(p);
  const follow = follows(args);
  if (cur === 'absent') {
    throw new ModuleError('E_FILE_ABSENT', `file (${p.path}) is absent, cannot continue`, {
      hint: "state: file never creates a file; use state: touch, or copy with content: ''",
    });
  }
  if (cur === 'link' && follow) {
    if (!p.stat) throw new ModuleError('E_FILE_ABSENT', `file (${p.path}) is a dangling link, cannot continue`);
    if (p.stat.type === 'directory') throw new ModuleError('E_FILE_STATE', `file (${p.path}) is directory, cannot continue`);
    return attrChanges(args, p.path, p.stat, umask, true);
  }
  if (cur === 'directory' || cur === 'link') {
    throw new ModuleError('E_FILE_STATE', `file (${p.path}) is ${cur}, cannot continue`, {
      hint: cur === 'directory' ? 'use state: directory for folders' : 'use follow: true to act on the link target',
    });
  }
  return attrChanges(args, p.path, p.lstat!, umask, follow);
}

/** touch is always a change, as in Ansible (it updates the times). */
function planTouch(args: FileArgs, p: PathFacts, umask: number): Change[] {
  const cur = currentState(p);
  const keepA = args.access_time === 'preserve';
  const keepM = args.modification_time === 'preserve';
  if (cur !== 'absent' && keepA && keepM) {
    // Both times preserved: nothing to touch, so only attributes can change (Ansible is then idempotent too).
    const st = (cur === 'link' && follows(args) ? p.stat : p.lstat) ?? p.lstat!;
    return attrChanges(args, p.path, st, umask, follows(args));
  }
  // touch would create the missing file a dangling link points to (another user's link could name /etc/nologin);
  // Ansible fails there too (its utime() finds no file), and creates nothing.
  if (cur === 'link' && !p.stat) {
    throw new ModuleError('E_FILE_TOUCH', `Error while updating modification or access time: ${p.path} is a link to ${p.realPath ?? p.linkTarget ?? '?'}, which does not exist`, {
      hint: 'touch creates a missing path, never the missing file a link points to: create that file first, or remove the link',
    });
  }
  const only = keepA ? ['-m'] : keepM ? ['-a'] : [];
  // -c for a link: if it dangles by the time the step runs, nothing is created behind it.
  const steps: Step[] = [{ kind: 'exec', argv: ['touch', ...only, ...(cur === 'link' ? ['-c'] : []), '--', p.path] }];
  if (cur === 'absent') {
    const fresh = freshAttrSteps(args, p.path, 0o666 & ~umask, false, umask);
    steps.push(...fresh.steps);
    return [{ summary: `touch ${p.path} (created)`, diff: stateDiff(p.path, 'absent', 'touch'), steps }];
  }
  const st = (cur === 'link' && follows(args) ? p.stat : p.lstat) ?? p.lstat!;
  const a = attributeChange(p.path, args, st, umask, follows(args));
  steps.push(...a.steps);
  return [{ summary: `touch ${p.path}`, diff: stateDiff(p.path, cur, 'touch'), steps }];
}

function planLink(args: FileArgs, p: PathFacts, facts: FileFacts): Change[] {
  const src = args.src!;
  const cur = currentState(p);
  const force = args.force;
  const srcFacts = facts.host.paths[1];
  if (cur === 'link' && p.linkTarget === src) {
    return linkOwnerChanges(args, p, facts.host.umask);
  }
  if (!force && srcFacts && !srcFacts.exists) {
    throw new ModuleError('E_FILE_LINK', `src file does not exist, use "force=yes" if you really want to create the link: ${facts.src ?? src}`);
  }
  const steps: Step[] = [];
  if (cur === 'directory') {
    if (!force) throw new ModuleError('E_FILE_LINK', `refusing to convert from directory to symlink for ${p.path}`, { hint: 'force: true replaces an empty directory' });
    // rmdir refuses a non-empty directory, as Ansible does: nobody's data is deleted by a link.
    steps.push({ kind: 'exec', argv: ['rmdir', '--', p.path] });
  } else if ((cur === 'file' || cur === 'hard') && !force) {
    throw new ModuleError('E_FILE_LINK', `refusing to convert from file to symlink for ${p.path}`, { hint: 'force: true replaces the file with the link' });
  }
  steps.push({ kind: 'exec', argv: ['ln', '-sfn', '--', src, p.path] });
  if (args.owner !== undefined || args.group !== undefined) {
    steps.push({ kind: 'exec', argv: ['chown', '-h', '--', `${args.owner ?? ''}${args.group !== undefined ? `:${args.group}` : ''}`, p.path] });
  }
  // Ansible's initial_diff + ensure_symlink: state only when it changes, src only when a link is retargeted.
  const before: Record<string, unknown> = { path: p.path };
  const after: Record<string, unknown> = { path: p.path };
  if (cur === 'link') {
    before['src'] = p.linkTarget ?? '';
    after['src'] = src;
  } else {
    before['state'] = cur;
    after['state'] = 'link';
  }
  return [
    {
      summary: `link ${p.path} -> ${src}`,
      diff: { before, after },
      steps,
    },
  ];
}

function linkOwnerChanges(args: FileArgs, p: PathFacts, umask: number): Change[] {
  // A link's own owner/group (chown -h); its mode means nothing on Linux.
  const a = attributeChange(p.path, { ...(args.owner !== undefined ? { owner: args.owner } : {}), ...(args.group !== undefined ? { group: args.group } : {}) }, p.lstat!, umask, false);
  if (a.steps.length === 0) return [];
  return [{ summary: `set ${a.what.join(', ')} of link ${p.path}`, diff: attrDiff(p.path, a.before, a.after), steps: a.steps }];
}

function planHard(args: FileArgs, p: PathFacts, facts: FileFacts): Change[] {
  const src = facts.src ?? args.src!;
  const srcFacts = facts.host.paths[1];
  const cur = currentState(p);
  if (!srcFacts?.exists) throw new ModuleError('E_FILE_LINK', `src does not exist: ${src}`, { hint: 'a hard link needs an existing source file' });
  if (cur !== 'absent' && p.lstat && srcFacts.lstat && p.lstat.inode === srcFacts.lstat.inode && p.lstat.dev === srcFacts.lstat.dev) {
    return attrChanges(args, p.path, p.lstat, facts.host.umask, true);
  }
  if (cur === 'directory') throw new ModuleError('E_FILE_LINK', `a directory is in the way of hard link ${p.path}`);
  if (cur !== 'absent' && !args.force) {
    throw new ModuleError('E_FILE_LINK', `Cannot link, ${cur} exists at destination ${p.path}`, { hint: 'force: true replaces it' });
  }
  const steps: Step[] = [{ kind: 'exec', argv: ['ln', '-f', '--', src, p.path] }];
  const a = attributeChange(p.path, args, srcFacts.lstat!, facts.host.umask, true);
  steps.push(...a.steps);
  return [{ summary: `hard link ${p.path} -> ${src}`, diff: stateDiff(p.path, cur, 'hard'), steps }];
}
