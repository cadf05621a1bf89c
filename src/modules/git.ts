import { ModuleError } from '../errors.js';
import { shlexSplit } from './file-common.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * ansible.builtin.git: clone or update a checkout on the host with the host's git, in Ansible's order (clone when
 * there is no repository; otherwise local changes, remote URL, fetch, then switch to `version`), registering
 * `before` and `after` (the commit HEAD was at and is at) and `remote_url_changed`.
 */
const spec = defineSpec({
  description: 'Clone a git repository on the host, or bring a checkout to a branch, tag or commit (the host runs git); registers before/after commits.',
  options: {
    repo: { type: 'str', required: true, aliases: ['name'], pattern: '\\S', patternText: 'a repository URL or path', description: 'URL (https, ssh, git, file) or host path of the repository.' },
    dest: { type: 'path', description: 'Where the checkout goes on the host (required unless clone is false).' },
    version: { type: 'str', default: 'HEAD', description: "Branch, tag or commit to check out; HEAD is the remote's default branch." },
    remote: { type: 'str', default: 'origin', description: 'Name of the remote.' },
    force: { type: 'bool', default: false, description: 'Discard local modifications of tracked files instead of failing.' },
    depth: { type: 'int', min: 1, description: 'Shallow clone with this many commits (HEAD, branches and tags).' },
    clone: { type: 'bool', default: true, description: 'Clone when dest holds no repository; false only reports what the remote has.' },
    update: { type: 'bool', default: true, description: 'Fetch and switch an existing checkout; false leaves it as it is.' },
    bare: { type: 'bool', default: false, description: 'Make a bare repository (no working tree) at dest.' },
    accept_hostkey: { type: 'bool', default: false, description: "Accept an SSH server's unknown host key (StrictHostKeyChecking=no)." },
    accept_newhostkey: { type: 'bool', default: false, description: 'Accept a new SSH host key but not a changed one (StrictHostKeyChecking=accept-new).' },
    key_file: { type: 'path', description: 'SSH private key on the host for ssh:// repositories.' },
    ssh_opts: { type: 'str', description: 'Extra options for the ssh git runs.' },
    refspec: { type: 'str', description: 'Extra refspec to fetch (refs/pull/…).' },
    reference: { type: 'str', description: 'Borrow objects from this local repository (clone --reference).' },
    single_branch: { type: 'bool', default: false, description: 'Clone only the history of version (or HEAD).' },
    executable: { type: 'path', description: 'The git program to run (default: git on PATH).' },
    umask: { type: 'raw', ignored: true, description: 'Accepted for compatibility; the connection’s umask applies.' },
    recursive: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; submodules are not updated.' },
    track_submodules: { type: 'bool', default: false, ignored: true, description: 'Accepted for compatibility; submodules are not updated.' },
    verify_commit: { type: 'bool', default: false, ignored: true, description: 'Accepted for compatibility; signatures are not verified.' },
    gpg_whitelist: { type: 'list', elements: 'str', default: [], ignored: true, description: 'Accepted for compatibility.' },
  },
  mutually_exclusive: [['accept_hostkey', 'accept_newhostkey']],
  check: (args) => (args.dest === undefined && args.clone ? { param: 'dest', message: 'the destination directory must be specified unless clone=no', hint: 'give dest, or clone: false to only read the remote' } : undefined),
});

type Args = ArgsOf<typeof spec.options>;

/** GIT_SSH_COMMAND for key_file, ssh_opts and the host-key choices, as Ansible's set_git_ssh_env builds it. */
export function sshCommand(args: Pick<Args, 'accept_hostkey' | 'accept_newhostkey' | 'key_file' | 'ssh_opts'>): string | undefined {
  let opts = args.ssh_opts;
  const strict = args.accept_hostkey ? 'no' : args.accept_newhostkey ? 'accept-new' : undefined;
  if (strict !== undefined && !/-o StrictHostKeyChecking=(no|accept-new)/.test(opts ?? '')) opts = `${opts === undefined ? '' : `${opts} `}-o StrictHostKeyChecking=${strict}`;
  if (opts === undefined && args.key_file === undefined) return undefined;
  const words = ['ssh', ...(args.key_file !== undefined ? ['-i', args.key_file, '-o', 'IdentitiesOnly=yes'] : []), ...shlexSplit(opts ?? '')];
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

class Git {
  constructor(
    private readonly ctx: ModuleContext,
    private readonly args: Args,
  ) {}

  private argv(cwd: string | undefined, words: readonly string[]): string[] {
    const ssh = sshCommand(this.args);
    return ['env', 'LANG=C', 'LC_ALL=C', ...(ssh ? [`GIT_SSH_COMMAND=${ssh}`] : []), this.args.executable ?? 'git', ...(cwd ? ['-C', cwd] : []), ...words];
  }

  /** Runs git; a failure is the task's failure with Ansible's message for it. */
  async ok(cwd: string | undefined, words: readonly string[], failMsg: string): Promise<string> {
    const res = await this.ctx.exec(this.argv(cwd, words));
    if (res.rc === 127 && /git/.test(res.stderr)) throw new ModuleError('E_GIT_MISSING', `git is not installed on ${this.ctx.hostName}`, { hint: 'install git on the host (apt: git)' });
    if (res.rc !== 0) throw new GitFailure(failMsg, { rc: res.rc, stdout: res.stdout, stderr: res.stderr, cmd: ['git', ...words].join(' ') });
    return res.stdout;
  }

  async tryRun(cwd: string | undefined, words: readonly string[]): Promise<{ rc: number; stdout: string }> {
    const res = await this.ctx.exec(this.argv(cwd, words));
    return { rc: res.rc, stdout: res.stdout };
  }

  async version(dest: string): Promise<string> {
    return (await this.tryRun(dest, ['rev-parse', 'HEAD'])).stdout.trim();
  }

  /** `git ls-remote` of one ref kind; Ansible tests the name's presence in the output. */
  async hasRemoteRef(cwd: string | undefined, remote: string, kind: '-h' | '-t', version: string): Promise<boolean> {
    const ref = kind === '-h' ? `refs/heads/${version}` : `refs/tags/${version}`;
    return (await this.ok(cwd, ['ls-remote', remote, kind, ref], `Failed to list the remote refs of ${remote}`)).includes(version);
  }

  /** The branch HEAD is on, or (detached) the remote's default branch. */
  async headBranch(dest: string, remote: string): Promise<string> {
    const onBranch = await this.tryRun(dest, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    if (onBranch.rc === 0) return onBranch.stdout.trim();
    const remoteHead = await this.ok(dest, ['symbolic-ref', '--short', `refs/remotes/${remote}/HEAD`], 'Could not determine the default branch of the remote');
    return remoteHead.trim().replace(new RegExp(`^${remote.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`), '');
  }

  /** The commit `version` names on the remote (a commit id is taken as it is), as Ansible's get_remote_head. */
  async remoteHead(dest: string | undefined, remote: string, cloning: boolean): Promise<string> {
    const version = this.args.version;
    const cwd = cloning ? undefined : dest;
    let out: string;
    let tag = false;
    if (version === 'HEAD') {
      const ref = cloning ? 'HEAD' : `refs/heads/${await this.headBranch(dest!, remote)}`;
      out = await this.ok(cwd, ['ls-remote', remote, '-h', ref], `Could not determine remote revision for ${version}`);
    } else if (await this.hasRemoteRef(cwd, remote, '-h', version)) {
      out = await this.ok(cwd, ['ls-remote', remote, '-h', `refs/heads/${version}`], `Could not determine remote revision for ${version}`);
    } else if (await this.hasRemoteRef(cwd, remote, '-t', version)) {
      tag = true;
      out = await this.ok(cwd, ['ls-remote', remote, '-t', `refs/tags/${version}*`], `Could not determine remote revision for ${version}`);
    } else return version;
    if (out.length < 1) throw new GitFailure(`Could not determine remote revision for ${version}`, {});
    let line = out;
    if (tag) {
      for (const l of out.split('\n')) {
        if (l.endsWith(`${version}^{}`)) {
          line = l;
          break;
        } else if (l.endsWith(version)) line = l;
      }
    }
    return line.split(/\s+/)[0]!;
  }
}

/** A git command failed: the task fails with Ansible's message and the command's output. */
class GitFailure extends Error {
  constructor(
    message: string,
    readonly data: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Ansible's unfrackgitpath: compare remote URLs without a trailing slash. */
function sameRemote(a: string, b: string): boolean {
  return a === b || a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

async function clone(git: Git, ctx: ModuleContext, args: Args, repo: string, dest: string): Promise<void> {
  const words = ['clone', ...(args.bare ? ['--bare'] : ['--origin', args.remote])];
  const branchOrTag = args.version !== 'HEAD' && ((await git.hasRemoteRef(undefined, repo, '-h', args.version)) || (await git.hasRemoteRef(undefined, repo, '-t', args.version)));
  if (args.depth !== undefined) {
    if (args.version === 'HEAD' || args.refspec !== undefined) words.push('--depth', String(args.depth));
    else if (branchOrTag) words.push('--depth', String(args.depth), '--branch', args.version);
  }
  if (args.reference !== undefined) words.push('--reference', args.reference);
  if (args.single_branch) words.push('--single-branch', ...(branchOrTag ? ['--branch', args.version] : []));
  // Ansible makes dest's parent folder first (a failure there shows as the clone's).
  await ctx.exec(['mkdir', '-p', '--', dest.replace(/\/[^/]*$/, '') || '/']);
  await git.ok(undefined, ['-c', 'advice.detachedHead=false', ...words, repo, dest], `Failed to clone ${repo} into ${dest}`);
  if (args.bare && args.remote !== 'origin') await git.ok(dest, ['remote', 'add', args.remote, repo], `Failed to add remote ${args.remote}`);
  if (args.refspec !== undefined) await git.ok(dest, ['fetch', ...(args.depth !== undefined ? ['--depth', String(args.depth)] : []), args.remote, args.refspec], `Failed to fetch ${args.refspec}`);
}

async function fetch(git: Git, args: Args, dest: string): Promise<void> {
  const refspecs: string[] = [];
  const words = ['fetch'];
  if (args.depth !== undefined) {
    if (args.refspec !== undefined) refspecs.push(args.refspec);
    else if (args.version === 'HEAD') refspecs.push(await git.headBranch(dest, args.remote));
    else if (await git.hasRemoteRef(dest, args.remote, '-h', args.version)) {
      if ((await git.headBranch(dest, args.remote)) !== args.version) refspecs.push(`+refs/heads/${args.version}:refs/heads/${args.version}`);
      refspecs.push(`+refs/heads/${args.version}:refs/remotes/${args.remote}/${args.version}`);
    } else if (await git.hasRemoteRef(dest, args.remote, '-t', args.version)) refspecs.push(`+refs/tags/${args.version}:refs/tags/${args.version}`);
    if (refspecs.length > 0) words.push('--depth', String(args.depth));
  }
  if (args.depth === undefined || refspecs.length === 0) {
    if (args.bare) refspecs.push('+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*');
    else words.push('--tags');
    if (args.refspec !== undefined) refspecs.push(args.refspec);
  }
  if (args.force) words.push('--force');
  await git.ok(dest, [...words, args.remote, ...refspecs], 'Failed to download remote objects and refs');
}

async function isLocalBranch(git: Git, dest: string, branch: string): Promise<boolean> {
  return (await git.tryRun(dest, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).rc === 0;
}

async function switchVersion(git: Git, args: Args, dest: string): Promise<void> {
  const { remote, version } = args;
  if (version === 'HEAD') {
    const branch = await git.headBranch(dest, remote);
    await git.ok(dest, ['checkout', '--force', branch], `Failed to checkout branch ${branch}`);
    await git.ok(dest, ['reset', '--hard', `${remote}/${branch}`, '--'], `Failed to checkout branch ${branch}`);
    return;
  }
  if (await git.hasRemoteRef(dest, remote, '-h', version)) {
    if (args.depth !== undefined && !(await isLocalBranch(git, dest, version))) {
      await git.ok(dest, ['fetch', `--depth=${args.depth}`, remote, `+refs/heads/${version}:refs/heads/${version}`, `+refs/heads/${version}:refs/remotes/${remote}/${version}`], `Failed to fetch branch from remote: ${version}`);
    }
    if (!(await isLocalBranch(git, dest, version))) {
      await git.ok(dest, ['checkout', '--track', '-b', version, `${remote}/${version}`], `Failed to checkout ${version}`);
      return;
    }
    await git.ok(dest, ['checkout', '--force', version], `Failed to checkout branch ${version}`);
    await git.ok(dest, ['reset', '--hard', `${remote}/${version}`], `Failed to checkout ${version}`);
    return;
  }
  await git.ok(dest, ['-c', 'advice.detachedHead=false', 'checkout', '--force', version], `Failed to checkout ${version}`);
}

async function sync(args: Args, ctx: ModuleContext): Promise<ModuleReturn> {
  const git = new Git(ctx, args);
  const repo = args.repo.startsWith('/') ? `file://${args.repo}` : args.repo;
  const result: Record<string, unknown> = { before: null };
  const dest = args.dest?.replace(/\/+$/, '') || args.dest;
  const hasRepo = dest !== undefined && (await ctx.exec(['test', '-e', args.bare ? `${dest}/config` : `${dest}/.git/config`])).rc === 0;
  if (!hasRepo) {
    if (ctx.check || !args.clone) {
      return { changed: true, data: { ...result, after: await git.remoteHead(dest, repo, true) } };
    }
    await clone(git, ctx, args, repo, dest!);
  } else if (!args.update) {
    const before = await git.version(dest);
    return { changed: false, data: { before, after: before } };
  } else {
    const status = args.bare ? '' : await git.ok(dest, ['status', '--porcelain'], 'Could not read the status of the checkout');
    const localMods = status.split('\n').some((l) => l !== '' && !l.startsWith('??'));
    result['before'] = await git.version(dest);
    let msg: string | undefined;
    if (localMods) {
      if (!args.force) return { failed: true, msg: `Local modifications exist in the destination: ${dest} (force=no).`, data: result };
      if (!ctx.check) {
        await git.ok(dest, ['reset', '--hard', 'HEAD'], 'Failed to reset the checkout');
        msg = `Local modifications exist in the destination: ${dest}`;
      }
    }
    const current = await git.tryRun(dest, ['ls-remote', '--get-url', args.remote]);
    const remoteUrl = current.rc === 0 ? current.stdout.replace(/\n$/, '') : undefined;
    let remoteUrlChanged = remoteUrl !== undefined && remoteUrl !== '' && !sameRemote(remoteUrl, repo);
    if (ctx.check) {
      const after = await git.remoteHead(dest, args.remote, false);
      return { changed: result['before'] !== after || remoteUrlChanged || localMods, data: { ...result, remote_url_changed: remoteUrlChanged, after } };
    }
    if (remoteUrlChanged || remoteUrl === undefined) {
      await git.ok(dest, ['remote', 'set-url', args.remote, repo], `Failed to set a new url ${repo} for ${args.remote}`);
      remoteUrlChanged = remoteUrl !== undefined;
    }
    result['remote_url_changed'] = remoteUrlChanged;
    await fetch(git, args, dest);
    if (msg !== undefined) result['msg'] = msg;
  }
  if (!args.bare) await switchVersion(git, args, dest!);
  result['after'] = await git.version(dest!);
  const changed = !hasRepo || result['before'] !== result['after'] || result['msg'] !== undefined || result['remote_url_changed'] === true;
  const { msg, ...data } = result;
  return { changed, ...(typeof msg === 'string' ? { msg } : {}), data };
}

export const gitModule = actionModule(spec, {
  kind: 'action',
  name: 'git',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    try {
      return await sync(args, ctx);
    } catch (e) {
      if (e instanceof GitFailure) return { failed: true, msg: e.message, data: e.data };
      throw e;
    }
  },
});
