import { ModuleError } from '../errors.js';
import { backupName, backupStep } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * ansible.posix.mount: an fstab entry and the mount itself, decided as Ansible's module decides (same fstab
 * rewrite, same "is it mounted" test: st_dev/inode against the parent, or a bind mount in /proc/self/mountinfo).
 * The fstab is rewritten atomically (a temp file renamed over it, mode and owner kept). `ephemeral` (ansible.posix
 * 1.5) mounts from the arguments alone and never reads or writes the fstab.
 */
const options = {
  path: { type: 'path', required: true, aliases: ['name'], pattern: '^(/|none$)', patternText: 'an absolute path (or none, the mount point of a swap entry)', description: 'The mount point (`none` for swap).' },
  src: { type: 'path', description: 'The device, or the folder of a bind mount (`tmpfs` for a tmpfs). Required by mounted, present and ephemeral.' },
  fstype: { type: 'str', description: 'Filesystem type (tmpfs, ext4, none for a bind mount, …). Required by mounted, present and ephemeral.' },
  opts: { type: 'str', description: 'Mount options (default `defaults`).' },
  dump: { type: 'str', default: '0', description: 'The fstab dump field.' },
  passno: { type: 'str', default: '0', description: 'The fstab pass field.' },
  fstab: { type: 'str', description: 'The fstab file (default /etc/fstab; not read by ephemeral).' },
  boot: { type: 'bool', default: true, description: 'Mount at boot; false adds `noauto` to the options (ephemeral too, as in Ansible).' },
  backup: { type: 'bool', default: false, description: 'Keep a copy of the fstab before changing it.' },
  state: {
    type: 'str',
    required: true,
    choices: ['mounted', 'unmounted', 'present', 'absent', 'absent_from_fstab', 'remounted', 'ephemeral'],
    description:
      'mounted: in fstab and mounted; present: in fstab only; unmounted: not mounted (fstab kept); absent: neither, and the folder removed; remounted: mounted again; ephemeral: mounted with these options, fstab untouched (remounted, so changed, when already mounted from src; a failure when another source is mounted there).',
  },
} as const;

type MountArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: 'Keep a mount in fstab and mounted (or not): tmpfs, bind mounts, devices.',
  options,
  required_if: [
    ['state', 'mounted', ['src', 'fstype']],
    ['state', 'present', ['src', 'fstype']],
    ['state', 'ephemeral', ['src', 'fstype']],
  ],
});

export interface MountFacts {
  fstab: string | undefined;
  exists: boolean;
  /** os.path.ismount: another device than the parent's, or the parent itself (a root). */
  isMount: boolean;
  /** mount point → source, as Ansible's get_linux_mounts reads /proc/self/mountinfo. */
  mounts: Map<string, string>;
  /** `mount -v`'s lines as (source, mount point), read for ephemeral only: Ansible's _is_same_mount_src reads them. */
  listed: Array<{ src: string; dst: string }>;
  pid: number;
  now: number;
}

/**
 * fstab (or -), whether the path exists and stat of it and its parent, mountinfo, pid and time, and with $3 = 1
 * `mount -v`'s list: one command.
 */
const READ = [
  'printf "%s %s\\n" "$$" "$(date +%s)"',
  'if [ -f "$2" ]; then base64 -w0 < "$2" || exit 3; echo; else echo -; fi',
  'if [ -e "$1" ]; then stat -L -c "%d %i" -- "$1" "$1/.."; else echo -; echo -; fi',
  'base64 -w0 < /proc/self/mountinfo; echo',
  'if [ "$3" = 1 ]; then mount -v | base64 -w0 || exit 3; fi; echo',
].join('\n');

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Ansible's get_linux_mounts: a mount's source is its root below its parent's mount point when it has a parent. */
export function linuxMounts(mountinfo: string): Map<string, string> {
  interface Rec { id: number; parent: number; root: string; dst: string; src: string }
  const recs = new Map<number, Rec>();
  for (const line of mountinfo.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    recs.set(Number(f[0]), { id: Number(f[0]), parent: Number(f[1]), root: f[3]!, dst: f[4]!, src: f.at(-2)! });
  }
  const out = new Map<string, string>();
  for (const r of recs.values()) {
    const p = recs.get(r.parent);
    let src = r.src;
    if (r.parent !== 1 && p) {
      let root = r.root;
      if (p.root.length > 1 && root.startsWith(`${p.root}/`)) root = root.slice(p.root.length);
      if (p.dst !== '/') root = `${p.dst}${root}`;
      src = root;
    }
    out.set(r.dst, src);
  }
  return out;
}

/** `mount -v` lines: `SRC on DST type FSTYPE (OPTS)`, split on blanks as Ansible splits them. */
export function listedMounts(text: string): Array<{ src: string; dst: string }> {
  return text.split('\n').flatMap((line) => {
    const f = line.trim().split(/\s+/);
    return f.length >= 3 ? [{ src: f[0]!, dst: f[2]! }] : [];
  });
}

export function parseMountRead(stdout: string): MountFacts {
  const [head = '', fstab = '-', self = '-', parent = '-', info = '', listed = ''] = stdout.split('\n');
  const [pid, now] = head.split(' ').map(Number);
  const exists = self !== '-';
  const [dev, ino] = self.split(' ');
  const [pdev, pino] = parent.split(' ');
  return {
    pid: pid ?? 0,
    now: now ?? 0,
    fstab: fstab === '-' ? undefined : b64(fstab),
    exists,
    isMount: exists && (dev !== pdev || ino === pino),
    mounts: linuxMounts(b64(info)),
    listed: listedMounts(b64(listed)),
  };
}

/** Ansible's _escape_fstab. */
const escape = (v: string): string => v.replaceAll('\\', '\\134').replaceAll(' ', '\\040').replaceAll('&', '\\046');

/** What Ansible reports and writes: the arguments with Linux defaults, `noauto` added when boot is false. */
export function mountEntry(args: MountArgs): { name: string; src?: string; fstype?: string; opts: string; dump: string; passno: string; fstab: string; boot: string } {
  let opts = args.opts ?? 'defaults';
  let boot = 'yes';
  const list = opts.split(',');
  if (!list.includes('noauto') && !args.boot) {
    boot = 'no';
    if (!list.includes('defaults')) opts = [...list, 'noauto'].join(',');
  }
  return {
    name: args.path,
    ...(args.src !== undefined ? { src: args.src } : {}),
    ...(args.fstype !== undefined ? { fstype: args.fstype } : {}),
    opts, dump: args.dump, passno: args.passno, fstab: args.fstab ?? '/etc/fstab', boot,
  };
}

/** Python's readlines(): each line keeps its newline. */
function readLines(text: string | undefined): string[] {
  return (text ?? '').split(/(?<=\n)/).filter((l) => l !== '');
}

/** Ansible's _set_mount_save_old (state present/mounted): the new fstab text and whether it changed. */
export function setMount(args: MountArgs, fstab: string | undefined): { text: string; changed: boolean } {
  const e = mountEntry(args);
  const esc = { src: escape(e.src ?? ''), name: escape(e.name), fstype: escape(e.fstype ?? ''), opts: escape(e.opts), dump: escape(e.dump), passno: escape(e.passno) };
  const out: string[] = [];
  let exists = false;
  let changed = false;
  for (let line of readLines(fstab)) {
    if (!line.endsWith('\n')) line += '\n';
    const fields = line.trim() === '' || line.trim().startsWith('#') ? [] : line.split(/\s+/).filter(Boolean);
    if (fields.length < 4 || fields.length > 6) {
      out.push(line);
      continue;
    }
    const ld = { src: fields[0]!, name: fields[1]!, fstype: fields[2]!, opts: fields[3]!, dump: fields[4] ?? '0', passno: fields[5] ?? '0' };
    if (ld.name !== esc.name || (ld.name === 'none' && ld.fstype === 'swap' && ld.src !== e.src)) {
      out.push(line);
      continue;
    }
    exists = true;
    let lineChanged = false;
    for (const k of ['src', 'fstype', 'opts', 'dump', 'passno'] as const) {
      if (ld[k] !== esc[k]) {
        ld[k] = esc[k];
        lineChanged = true;
      }
    }
    changed ||= lineChanged;
    out.push(lineChanged ? `${ld.src} ${ld.name} ${ld.fstype} ${ld.opts} ${ld.dump} ${ld.passno}\n` : line);
  }
  if (!exists) {
    out.push(`${esc.src} ${esc.name} ${esc.fstype} ${esc.opts} ${esc.dump} ${esc.passno}\n`);
    changed = true;
  }
  return { text: out.join(''), changed };
}

/** Ansible's unset_mount: every entry for the path dropped. */
export function unsetMount(args: MountArgs, fstab: string | undefined): { text: string; changed: boolean } {
  const name = escape(args.path);
  const out: string[] = [];
  let changed = false;
  for (const line of readLines(fstab)) {
    const fields = line.trim() === '' || line.trim().startsWith('#') ? [] : line.split(/\s+/).filter(Boolean);
    if (fields.length !== 6 || fields[1] !== name || (fields[1] === 'none' && fields[2] === 'swap' && args.src !== undefined && fields[0] !== args.src)) {
      out.push(line);
      continue;
    }
    changed = true;
  }
  return { text: out.join(''), changed };
}

function isMounted(args: MountArgs, facts: MountFacts, withSource: boolean): boolean {
  if (facts.isMount) return true;
  const src = facts.mounts.get(args.path);
  if (src === undefined) return false;
  return !withSource || args.src === undefined || src === args.src;
}

/**
 * Ansible's remount for `remounted`: `mount -o remount`; when that fails, umount then mount — except when options
 * were given, which Ansible refuses to apply by a fresh mount.
 */
const REMOUNT = [
  'p=$1 o=$2 t=$3 fallback=$4',
  'if [ -n "$t" ]; then mount -o "$o" -T "$t" -- "$p"; else mount -o "$o" -- "$p"; fi && exit 0',
  '[ "$fallback" = 1 ] || { echo "Options were specified with remounted, but the remount command failed. Failing in order to prevent an unexpected mount result. Try replacing this command with a \\"state: unmounted\\" followed by a \\"state: mounted\\" using the full desired mount options instead." >&2; exit 1; }',
  'umount -- "$p" || exit',
  'if [ -n "$t" ]; then exec mount -T "$t" -- "$p"; else exec mount -- "$p"; fi',
].join('\n');

function remountStep(e: ReturnType<typeof mountEntry>): Step {
  const withOpts = e.opts !== 'defaults';
  const fstab = e.fstab !== '/etc/fstab' ? e.fstab : '';
  return { kind: 'exec', argv: ['sh', '-c', REMOUNT, 'sh', e.name, withOpts ? `remount,${e.opts}` : 'remount', fstab, withOpts ? '0' : '1'] };
}

/**
 * Ansible's mount and remount for `mounted` and `ephemeral`: `mount ARGS PATH` with the folders made first; a
 * remount is `mount -o remount ARGS PATH`, and when that fails, umount then mount. When it fails, what the task did
 * is put back as Ansible puts it back — the folders it made removed, and with $3 the fstab written again from stdin
 * (the text before the task's edit: a failed mount leaves no entry that would break the next boot) — and the message
 * is Ansible's `Error mounting PATH: …`; the task is failed and not changed, as Ansible's fail_json reports it.
 */
const MOUNT = [
  'p=$1 mode=$2 fstab=$3; shift 3',
  'failed() { if [ -n "$fstab" ]; then cat > "$fstab"; fi; printf "%s\\n" "$1" >&2; exit 1; }',
  'if [ "$mode" = remount ]; then',
  '  mount -o remount "$@" "$p" >/dev/null 2>&1 && exit 0',
  '  out=$(umount -- "$p" 2>&1) || failed "Error mounting $p: $out"',
  'fi',
  'first= d=$p',
  'while [ ! -e "$d" ]; do first=$d d=$(dirname -- "$d"); done',
  'if [ -n "$first" ]; then out=$(mkdir -p -- "$p" 2>&1) || failed "Error making dir $p: $out"; fi',
  'out=$(mount "$@" "$p" 2>&1) && exit 0',
  'if [ -n "$first" ]; then d=$p; while rmdir -- "$d" && [ "$d" != "$first" ]; do d=$(dirname -- "$d"); done; fi',
  'failed "Error mounting $p: $out"',
].join('\n');

/**
 * The mount (or remount) of `mounted` and `ephemeral`: mounted finds the rest in the fstab (`-T FILE` when it is not
 * /etc/fstab) and gets back `before` when it fails; ephemeral names type, options and source itself.
 */
function mountStep(e: ReturnType<typeof mountEntry>, state: 'mounted' | 'ephemeral', mode: 'mount' | 'remount', before?: string): Step {
  const mountArgs = state === 'ephemeral'
    ? ['-t', e.fstype ?? '', ...(e.opts !== 'defaults' ? ['-o', e.opts] : []), '--', e.src ?? '']
    : [...(e.fstab !== '/etc/fstab' ? ['-T', e.fstab] : []), '--'];
  const restore = before !== undefined ? { stdin: before } : {};
  return { kind: 'exec', argv: ['sh', '-c', MOUNT, 'sh', e.name, mode, before !== undefined ? e.fstab : '', ...mountArgs], undoesOnFailure: true, ...restore };
}

/** Ansible's _is_same_mount_src, for a path already mounted: a bind mount of src, or `mount -v` lists src there. */
function mountedFromSource(args: MountArgs, facts: MountFacts): boolean {
  if (facts.mounts.get(args.path) === args.src) return true;
  return facts.listed.some((m) => m.src === args.src && m.dst === args.path);
}

function planEphemeral(args: MountArgs, facts: MountFacts): Change[] {
  const e = mountEntry(args);
  if (!isMounted(args, facts, true)) return [{ summary: `mount ${e.name}`, steps: [mountStep(e, 'ephemeral', 'mount')] }];
  if (mountedFromSource(args, facts)) return [{ summary: `remount ${e.name}`, steps: [mountStep(e, 'ephemeral', 'remount')] }];
  throw new ModuleError(
    'E_MOUNT_OTHER_SOURCE',
    'Ephemeral mount point is already mounted with a different source than the specified one. Failing in order to prevent an unwanted unmount or override operation. Try replacing this command with a "state: unmounted" followed by a "state: ephemeral", or use a different destination path.',
  );
}

function fstabChange(args: MountArgs, facts: MountFacts, after: string): Change {
  const e = mountEntry(args);
  const steps: Step[] = [];
  if (args.backup && facts.fstab !== undefined) steps.push(backupStep(e.fstab, backupName(e.fstab, facts.pid, facts.now)));
  steps.push({ kind: 'write', path: e.fstab, content: after });
  return { summary: `update ${e.fstab}`, diff: { path: e.fstab, before: facts.fstab ?? '', after }, steps };
}

export function planMount(args: MountArgs, facts: MountFacts): Change[] {
  const e = mountEntry(args);
  const changes: Change[] = [];
  const umount: Step = { kind: 'exec', argv: ['umount', '--', e.name] };
  switch (args.state) {
    case 'present':
    case 'absent_from_fstab': {
      const edit = args.state === 'present' ? setMount(args, facts.fstab) : unsetMount(args, facts.fstab);
      if (edit.changed) changes.push(fstabChange(args, facts, edit.text));
      break;
    }
    case 'absent': {
      const edit = unsetMount(args, facts.fstab);
      if (!edit.changed) break;
      changes.push(fstabChange(args, facts, edit.text));
      const steps: Step[] = [];
      if (isMounted(args, facts, false)) steps.push(umount);
      if (facts.exists) steps.push({ kind: 'exec', argv: ['rmdir', '--', e.name] });
      if (steps.length > 0) changes.push({ summary: `unmount and remove ${e.name}`, steps });
      break;
    }
    case 'unmounted':
      if (isMounted(args, facts, false)) changes.push({ summary: `unmount ${e.name}`, steps: [umount] });
      break;
    case 'mounted': {
      const edit = setMount(args, facts.fstab);
      // What a failed mount writes back: the lines Ansible read (_set_mount_save_old's old_lines, each ending a line).
      const before = edit.changed ? readLines(facts.fstab).map((l) => (l.endsWith('\n') ? l : `${l}\n`)).join('') : undefined;
      if (edit.changed) changes.push(fstabChange(args, facts, edit.text));
      if (isMounted(args, facts, true)) {
        if (edit.changed) changes.push({ summary: `remount ${e.name}`, steps: [mountStep(e, 'mounted', 'remount', before)] });
      } else {
        // The folder is made when missing, but that alone is no change (as in Ansible).
        changes.push({ summary: `mount ${e.name}`, steps: [mountStep(e, 'mounted', 'mount', before)] });
      }
      break;
    }
    case 'remounted':
      changes.push({ summary: `remount ${e.name}`, steps: [remountStep(e)] });
      break;
    case 'ephemeral':
      changes.push(...planEphemeral(args, facts));
      break;
  }
  return changes;
}

/** Why nothing changes, per state: `/mnt/data is mounted and in /etc/fstab`. */
function mountNoop(args: MountArgs): string {
  const e = mountEntry(args);
  switch (args.state) {
    case 'mounted':
      return `${e.name} is mounted and in ${e.fstab}`;
    case 'present':
      return `${e.name} is in ${e.fstab} as asked`;
    case 'unmounted':
      return `${e.name} is not mounted`;
    default:
      return `${e.name} is not in ${e.fstab}`;
  }
}

export const mountModule = plannedModule(spec, {
  kind: 'planned',
  name: 'mount',
  where: 'host',
  async gather(args, ctx): Promise<MountFacts> {
    const res = await ctx.exec(['sh', '-c', READ, 'sh', args.path, args.fstab ?? '/etc/fstab', args.state === 'ephemeral' ? '1' : '0']);
    if (res.rc !== 0) throw new ModuleError('E_MOUNT_READ', `could not read ${args.fstab ?? '/etc/fstab'} or the mounts: ${res.stderr.trim()}`);
    return parseMountRead(res.stdout);
  },
  plan: planMount,
  noop: mountNoop,
  // Every failure of Ansible's mount is a fail_json without `changed`, even after it rewrote the fstab (absent).
  unchangedWhenFailed: true,
  report(args) {
    const { name, src, fstype, opts, dump, passno, fstab, boot } = mountEntry(args);
    return { name, ...(src !== undefined ? { src } : {}), ...(fstype !== undefined ? { fstype } : {}), opts, dump, passno, fstab, boot, backup_file: '' };
  },
});
