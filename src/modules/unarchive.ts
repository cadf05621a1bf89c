import { readFile } from 'node:fs/promises';
import { ModuleError } from '../errors.js';
import { withPathInfo } from './get-url.js';
import { actionModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { ModuleContext, ModuleReturn } from './types.js';

/**
 * ansible.builtin.unarchive: a .zip, .tar, .tar.gz, .tar.bz2 or .tar.xz (from the controller, or already on the
 * host with remote_src) unpacked into an existing folder by the host's tar or unzip; nothing is unpacked when the
 * folder already holds the archive's files (tar --diff, or the files compared with a scratch unpacking for zip).
 */
const spec = defineSpec({
  description: 'Unpack a zip or tar(.gz/.bz2/.xz) archive from the controller (or the host, remote_src) into a folder on the host, only when its files are not there yet.',
  options: {
    src: { type: 'path', required: true, pattern: '\\S', patternText: 'an archive path', description: "The archive: a controller file (role's files/, then beside the playbook), or a host file with remote_src." },
    dest: { type: 'path', required: true, pattern: '^[/~]', patternText: 'an absolute path', description: 'Existing folder on the host to unpack into.' },
    remote_src: { type: 'bool', default: false, description: 'src is already on the host.' },
    creates: { type: 'path', description: 'Skip the task when this host path exists.' },
    list_files: { type: 'bool', default: false, description: "Return the archive's file names as `files`." },
    extra_opts: { type: 'list', elements: 'str', default: [], description: 'Extra options for tar or unzip (`--strip-components=1`).' },
    exclude: { type: 'list', elements: 'str', default: [], description: 'Archive members not to unpack.' },
    keep_newer: { type: 'bool', default: false, description: 'Do not replace files newer than the archive’s (tar --keep-newer-files).' },
    owner: { type: 'str', description: 'Owner given to the unpacked files (tar --owner).' },
    group: { type: 'str', description: 'Group given to the unpacked files (tar --group).' },
    mode: { type: 'mode', ignored: true, description: 'Accepted for compatibility; the archive’s modes are kept (a Mode differs of tar --diff then no longer counts).' },
    copy: { type: 'bool', default: true, ignored: true, description: 'Deprecated spelling of remote_src (false = remote_src true); accepted, not read.' },
    decrypt: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; the archive is not vault-decrypted.' },
    validate_certs: { type: 'bool', default: true, ignored: true, description: 'Accepted for compatibility; URLs are not fetched.' },
  },
});

type Args = ArgsOf<typeof spec.options>;

/** Ansible's handler names, tried in its order, with the tar flag each reads its archive with. */
const TAR_HANDLERS = [
  { name: 'TgzArchive', flag: ['-z'] },
  { name: 'TarArchive', flag: [] },
  { name: 'TarBzipArchive', flag: ['-j'] },
  { name: 'TarXzArchive', flag: ['-J'] },
] as const;

interface Handler {
  name: string;
  files: string[];
  /** Tar's compression flag; undefined for zip. */
  tarFlag?: readonly string[];
}

async function findHandler(ctx: ModuleContext, src: string, args: Args): Promise<Handler | undefined> {
  const zip = await ctx.exec(['env', 'LANG=C', 'LC_ALL=C', 'unzip', '-Z1', '--', src]);
  if (zip.rc === 0) return { name: 'ZipArchive', files: lines(zip.stdout).filter((f) => !args.exclude.includes(f)) };
  for (const h of TAR_HANDLERS) {
    const list = await ctx.exec(['env', 'LANG=C', 'LC_ALL=C', 'tar', '--list', ...h.flag, ...tarOpts(args), '-f', src]);
    if (list.rc === 0) return { name: h.name, files: lines(list.stdout).filter((f) => !args.exclude.includes(f)), tarFlag: h.flag };
  }
  return undefined;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** extra_opts come with --show-transformed-names, as Ansible passes them. */
function tarOpts(args: Args): string[] {
  return args.extra_opts.length > 0 ? ['--show-transformed-names', ...args.extra_opts] : [];
}

function tarCommon(args: Args, handler: Handler, dest: string): string[] {
  return [
    '-C', dest, ...(handler.tarFlag ?? []), ...tarOpts(args),
    ...(args.owner !== undefined ? [`--owner=${args.owner}`] : []),
    ...(args.group !== undefined ? [`--group=${args.group}`] : []),
    ...(args.keep_newer ? ['--keep-newer-files'] : []),
    ...args.exclude.map((e) => `--exclude=${e}`),
  ];
}

/** Ansible's readings of tar --diff lines (TgzArchive.is_unarchived); content alone is not among them. */
const TAR_DIFF = {
  owner: /: Uid differs$/,
  group: /: Gid differs$/,
  mode: /: Mode differs$/,
  mtime: /: Mod time differs$/,
  emptyName: /: : Warning: Cannot stat: No such file or directory$/,
  missing: /: Warning: Cannot stat: No such file or directory$/,
  invalidOwner: /: Invalid owner/,
  invalidGroup: /: Invalid group/,
};

/** Whether a tar --diff line means the archive is not unpacked yet (run as root: owners count unless given). */
export function tarDiffMeansChange(line: string, args: Args, root: boolean): boolean {
  if (TAR_DIFF.emptyName.test(line)) return false; // --strip-components leaves entries with no name
  if (TAR_DIFF.owner.test(line)) return root && args.owner === undefined;
  if (TAR_DIFF.group.test(line)) return root && args.group === undefined;
  if (TAR_DIFF.mode.test(line)) return args.mode === undefined;
  return [TAR_DIFF.mtime, TAR_DIFF.missing, TAR_DIFF.invalidOwner, TAR_DIFF.invalidGroup].some((re) => re.test(line));
}

/** Whether dest already holds the archive's files. */
async function isUnarchived(ctx: ModuleContext, args: Args, handler: Handler, src: string, dest: string): Promise<boolean> {
  if (handler.tarFlag !== undefined) {
    const res = await ctx.exec(['env', 'LANG=C', 'LC_ALL=C', 'tar', '--diff', ...tarCommon(args, handler, dest), '-f', src]);
    const root = (await ctx.exec(['id', '-u'])).stdout.trim() === '0';
    return !lines(`${res.stdout}\n${res.stderr}`).some((l) => tarDiffMeansChange(l, args, root));
  }
  // zip: unpack into a scratch folder and compare every regular file (content and mode) with dest's.
  const script = `
s=$(mktemp -d) || exit 2
trap 'rm -rf "$s"' EXIT
unzip -qq -o "$@" -d "$s" >/dev/null 2>&1 || exit 2
cd "$s" && find . -type f | while IFS= read -r f; do
  [ -f "$0/$f" ] && cmp -s -- "$f" "$0/$f" && [ "$(stat -c %a -- "$f")" = "$(stat -c %a -- "$0/$f")" ] || { echo differs; break; }
done`;
  const res = await ctx.exec(['sh', '-c', script, dest, ...args.extra_opts, '--', src, ...args.exclude.flatMap((e) => ['-x', e])]);
  return res.rc === 0 && res.stdout.trim() === '';
}

async function unpack(ctx: ModuleContext, args: Args, handler: Handler, src: string, dest: string): Promise<Record<string, unknown>> {
  const cmd =
    handler.tarFlag !== undefined
      ? ['tar', '--extract', ...tarCommon(args, handler, dest), '-f', src]
      : ['unzip', '-o', src, ...args.exclude.flatMap((e) => ['-x', e]), ...args.extra_opts, '-d', dest];
  const res = await ctx.exec(['env', 'LANG=C', 'LC_ALL=C', ...cmd]);
  return { cmd, rc: res.rc, out: res.stdout, err: res.stderr };
}

/** A controller archive goes to a host temp file first (removed afterwards), as Ansible's action plugin does. */
async function uploadSource(ctx: ModuleContext, args: Args): Promise<string> {
  const local = await ctx.findFile(args.src, 'files');
  const content = await readFile(local);
  const res = await ctx.exec(['sh', '-c', 't=$(mktemp) && base64 -d > "$t" && echo "$t"'], { stdin: content.toString('base64') });
  if (res.rc !== 0) throw new ModuleError('E_UNARCHIVE_UPLOAD', `could not copy ${local} to ${ctx.hostName}: ${res.stderr.trim()}`);
  return res.stdout.trim();
}

async function unarchive(args: Args, ctx: ModuleContext): Promise<ModuleReturn> {
  if (args.creates !== undefined && (await ctx.exec(['test', '-e', args.creates])).rc === 0) return { skipped: true, msg: `skipped, since ${args.creates} exists` };
  const src = args.remote_src ? args.src : await uploadSource(ctx, args);
  try {
    if (args.remote_src && (await ctx.exec(['test', '-e', src])).rc !== 0) return { failed: true, msg: `Source '${src}' does not exist` };
    if ((await ctx.exec(['test', '-d', args.dest])).rc !== 0) return { failed: true, msg: `dest '${args.dest}' must be an existing dir` };
    const handler = await findHandler(ctx, src, args);
    if (!handler) {
      return { failed: true, msg: `Failed to find handler for "${src}". Make sure the required command to extract the file is installed.` };
    }
    // Ansible's module cannot check what GNU tar would change: it skips the task in check mode (zip it checks).
    if (ctx.check && handler.tarFlag !== undefined) return { skipped: true, msg: 'unarchive does not support check mode when using gtar' };
    const data: Record<string, unknown> = { handler: handler.name, dest: args.dest, src };
    const done = await isUnarchived(ctx, args, handler, src, args.dest);
    let changed = false;
    if (ctx.check) changed = !done;
    else if (!done) {
      const results = await unpack(ctx, args, handler, src, args.dest);
      data['extract_results'] = results;
      if (results['rc'] !== 0) return { failed: true, msg: `failed to unpack ${src} to ${args.dest}`, data };
      changed = true;
    }
    if (args.list_files) data['files'] = handler.files;
    return { changed, data };
  } finally {
    if (!args.remote_src) await ctx.exec(['rm', '-f', '--', src]);
  }
}

export const unarchiveModule = actionModule(spec, {
  kind: 'action',
  name: 'unarchive',
  where: 'host',
  inCheckMode: 'run',
  controllerFiles: (args) => (args.remote_src ? [] : [{ param: 'src', kind: 'files' }]),
  run: async (args, ctx) => withPathInfo(ctx, await unarchive(args, ctx)),
});
