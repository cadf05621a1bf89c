import {
  bool,
  boolSchema,
  checksumAlgorithms,
  formatMode,
  pathArg,
  probePaths,
  type ChecksumAlgorithm,
  type HostFileFacts,
  type PathFacts,
  type StatFacts,
} from './file-common.js';
import type { PlannedModule } from './types.js';

/** ansible.builtin.stat: reads a path's facts; never changes anything. */
export interface StatArgs {
  path?: string;
  dest?: string;
  name?: string;
  follow?: boolean | string;
  get_checksum?: boolean | string;
  checksum_algorithm?: ChecksumAlgorithm;
  checksum?: ChecksumAlgorithm;
  checksum_algo?: ChecksumAlgorithm;
  get_mime?: boolean | string;
  get_attributes?: boolean | string;
}

export const statSchema = {
  type: 'object',
  description: "Read a path's facts (exists, type, mode, owner, size, checksum) into the registered result; never changes anything.",
  properties: {
    path: { type: 'string', minLength: 1, description: 'The full path of the file/object to get the facts of (aliases dest, name).' },
    dest: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    follow: { ...boolSchema, description: 'Whether to follow symlinks (default false).' },
    get_checksum: { ...boolSchema, description: 'Whether to return a checksum of the file (default true).' },
    checksum_algorithm: { type: 'string', enum: [...checksumAlgorithms], description: 'Algorithm for the checksum (default sha1; aliases checksum, checksum_algo).' },
    checksum: { type: 'string', enum: [...checksumAlgorithms] },
    checksum_algo: { type: 'string', enum: [...checksumAlgorithms] },
    get_mime: { ...boolSchema, description: 'Return mimetype and charset via file(1) when installed (default true).' },
    get_attributes: { ...boolSchema, description: 'Accepted for compatibility; attributes are not read.' },
  },
  oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
  additionalProperties: false,
} as const;

/** The `stat` dict of Ansible's stat module, from the probe's facts. */
export function statResult(p: PathFacts, follow: boolean, algo: ChecksumAlgorithm, getChecksum: boolean, getMime = true): Record<string, unknown> {
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
  return out;
}

function algorithm(args: StatArgs): ChecksumAlgorithm {
  return args.checksum_algorithm ?? args.checksum ?? args.checksum_algo ?? 'sha1';
}

export const statModule: PlannedModule<StatArgs, HostFileFacts> = {
  kind: 'planned',
  name: 'stat',
  schema: statSchema,
  where: 'host',
  async gather(args, ctx) {
    const getChecksum = bool(args.get_checksum, true);
    return probePaths(ctx, [pathArg(args)], {
      checksum: getChecksum ? (algorithm(args)) : false,
      access: true,
      mime: bool(args.get_mime, true),
    });
  },
  plan() {
    return [];
  },
  report(args, facts) {
    const p = facts.paths[0]!;
    return {
      stat: statResult(p, bool(args.follow, false), algorithm(args), bool(args.get_checksum, true), bool(args.get_mime, true)),
    };
  },
};
