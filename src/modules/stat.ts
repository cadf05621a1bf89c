import {
  checksumAlgorithms,
  formatMode,
  probePaths,
  type ChecksumAlgorithm,
  type HostFileFacts,
  type PathFacts,
  type StatFacts,
} from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** ansible.builtin.stat: reads a path's facts; never changes anything. */
const spec = defineSpec({
  description: "Read a path's facts (exists, type, mode, owner, size, checksum, attributes) into the registered result; never changes anything.",
  options: {
    path: { type: 'path', required: true, aliases: ['dest', 'name'], pattern: '\\S', patternText: 'a non-empty path', description: 'The full path of the file/object to get the facts of.' },
    follow: { type: 'bool', default: false, description: 'Whether to follow symlinks.' },
    get_checksum: { type: 'bool', default: true, description: 'Whether to return a checksum of the file.' },
    checksum_algorithm: { type: 'str', choices: checksumAlgorithms, default: 'sha1', aliases: ['checksum', 'checksum_algo'], description: 'Algorithm for the checksum.' },
    get_mime: { type: 'bool', default: true, description: 'Return mimetype and charset via file(1) when installed.' },
    get_attributes: { type: 'bool', default: true, aliases: ['attr', 'attributes'], description: "Return the file's attributes, attribute flags and version (generation number) as lsattr reads them." },
  },
});

/** lsattr's flag letters by the names Ansible gives them (module_utils/common/file.py FILE_ATTRIBUTES). */
const FILE_ATTRIBUTES: Record<string, string> = {
  A: 'noatime', a: 'append', c: 'compressed', C: 'nocow', d: 'nodump', D: 'dirsync', e: 'extents', E: 'encrypted',
  h: 'blocksize', i: 'immutable', I: 'indexed', j: 'journalled', N: 'inline', s: 'zero', S: 'synchronous',
  t: 'notail', T: 'blockroot', u: 'undelete', X: 'compressedraw', Z: 'compresseddirty',
};

/** Ansible's format_attributes: the names of the flags it knows, in the flags' order. */
function attributeNames(flags: string): string[] {
  return [...flags].filter((f) => Object.hasOwn(FILE_ATTRIBUTES, f)).map((f) => FILE_ATTRIBUTES[f]!);
}

/** The `stat` dict of Ansible's stat module, from the probe's facts. */
export function statResult(p: PathFacts, follow: boolean, algo: ChecksumAlgorithm, getChecksum: boolean, getMime = true, getAttributes = true): Record<string, unknown> {
  if (!p.exists) return { exists: false };
  const st: StatFacts | undefined = follow ? p.stat : p.lstat;
  if (!st) return { exists: false }; // a dangling link followed
  const m = st.mode;
  const out: Record<string, unknown> = {
    exists: true,
    path: p.path,
    mode: formatMode(m),
    isdir: st.type === 'directory',
    ischr: st.type === 'char',
    isblk: st.type === 'block',
    isreg: st.type === 'file',
    isfifo: st.type === 'fifo',
    islnk: st.type === 'link',
    issock: st.type === 'socket',
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    inode: st.inode,
    dev: st.dev,
    nlink: st.nlink,
    atime: st.atime,
    mtime: st.mtime,
    ctime: st.ctime,
    wusr: (m & 0o200) !== 0,
    rusr: (m & 0o400) !== 0,
    xusr: (m & 0o100) !== 0,
    wgrp: (m & 0o020) !== 0,
    rgrp: (m & 0o040) !== 0,
    xgrp: (m & 0o010) !== 0,
    woth: (m & 0o002) !== 0,
    roth: (m & 0o004) !== 0,
    xoth: (m & 0o001) !== 0,
    isuid: (m & 0o4000) !== 0,
    isgid: (m & 0o2000) !== 0,
    blocks: st.blocks,
    block_size: st.blockSize,
    pw_name: st.owner,
    gr_name: st.group,
    readable: p.readable ?? false,
    writeable: p.writeable ?? false,
    executable: p.executable ?? false,
  };
  if (st.type === 'char' || st.type === 'block') out['device_type'] = st.rdevMajor * 256 + st.rdevMinor;
  if (st.type === 'link' && p.linkTarget !== undefined) {
    out['lnk_target'] = p.linkTarget;
    out['lnk_source'] = p.realPath ?? p.linkTarget;
  }
  if (getChecksum && st.type === 'file' && p.checksum) out['checksum'] = p.checksum;
  if (getMime) {
    // Ansible splits file(1)'s "type; charset=…"; anything else (no file(1), a dangling link) is 'unknown'.
    const known = p.mime !== undefined && p.charset !== undefined;
    out['mimetype'] = known ? p.mime : 'unknown';
    out['charset'] = known ? p.charset : 'unknown';
  }
  if (getAttributes) {
    // Where lsattr is missing or fails (a device, an overlayfs root), Ansible keeps None, [] and ''.
    const attrs = p.fileAttributes;
    out['version'] = attrs?.version ?? null;
    out['attributes'] = attrs ? attributeNames(attrs.flags) : [];
    out['attr_flags'] = attrs?.flags ?? '';
  }
  return out;
}

export const statModule = plannedModule(spec, {
  kind: 'planned',
  name: 'stat',
  where: 'host',
  async gather(args, ctx): Promise<HostFileFacts> {
    return probePaths(ctx, [args.path], {
      checksum: args.get_checksum ? args.checksum_algorithm : false,
      access: true,
      mime: args.get_mime,
      attributes: args.get_attributes,
    });
  },
  plan() {
    return [];
  },
  report(args, facts) {
    return { stat: statResult(facts.paths[0]!, args.follow, args.checksum_algorithm, args.get_checksum, args.get_mime, args.get_attributes) };
  },
});
