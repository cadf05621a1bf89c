import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { replaceFile } from '../output/replace-file.js';
import { slurpFile } from './slurp.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';
import type { ModuleReturn } from './types.js';

/**
 * ansible.builtin.fetch: a file of the host copied to the controller, by default under
 * DEST/INVENTORY_HOSTNAME/SRC_PATH. Ansible's fetch action with become (slurp, then compare SHA-1 with the local copy).
 */
const spec = defineSpec({
  description: 'Copy a file from the host to the controller (under `dest/<inventory_hostname>/<src path>`, or `dest` itself with flat).',
  options: {
    src: { type: 'str', required: true, pattern: '\\S', patternText: 'a path on the host', description: 'The file on the host to fetch (a file, not a directory).' },
    dest: { type: 'str', required: true, pattern: '\\S', patternText: 'a folder (or, with flat, a file) on the controller', description: 'A folder on the controller to save the file into; relative to the playbook\'s folder.' },
    flat: { type: 'bool', default: false, description: 'Save to `dest` itself (a trailing `/` keeps the file\'s name) instead of `dest/<inventory_hostname>/<src path>`.' },
    fail_on_missing: { type: 'bool', default: true, description: 'Fail when the file is missing or cannot be read.' },
    validate_checksum: { type: 'bool', default: true, description: 'Verify that the saved file has the SHA-1 of the host\'s file.' },
  },
});

const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');
const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** Ansible's path_dwim for dest: `~` is the controller user's home, a relative path is under the playbook's folder. */
function controllerPath(dest: string, playbookDir: string): string {
  if (dest === '~' || dest.startsWith('~/')) return path.join(os.homedir(), dest.slice(1));
  return path.resolve(playbookDir, dest);
}

/** The local file's content, or undefined when it is not a regular file (Ansible's checksum() is None then). */
async function localFile(file: string): Promise<Buffer | undefined> {
  const st = await stat(file).catch(() => undefined);
  return st?.isFile() ? readFile(file) : undefined;
}

export const fetchModule = actionModule(spec, {
  kind: 'action',
  name: 'fetch',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx): Promise<ModuleReturn> {
    if (ctx.check) return { skipped: true, msg: 'check mode not (yet) supported for this module' };
    const source = args.src;
    const read = await slurpFile(ctx, source);
    if ('msg' in read) {
      const msg = read.msg.includes('not found')
        ? 'the remote file does not exist, not transferring, ignored'
        : read.msg.startsWith('source is a directory')
          ? 'remote file is a directory, fetch cannot work on directories'
          : read.msg;
      return args.fail_on_missing ? { failed: true, changed: false, msg } : { changed: false, msg, data: { file: source } };
    }
    const remoteData = Buffer.from(read.content, 'base64');
    const remoteChecksum = sha1(remoteData);
    const playbookDir = String(ctx.vars['playbook_dir'] ?? process.cwd());
    let dest: string;
    if (args.flat) {
      dest = args.dest;
      const isDir = (await stat(controllerPath(dest, playbookDir)).catch(() => undefined))?.isDirectory() === true;
      if (isDir && !dest.endsWith('/')) return { failed: true, msg: 'dest is an existing directory, use a trailing slash if you want to fetch src into that directory' };
      if (dest.endsWith('/')) dest = path.join(dest, path.posix.basename(source));
      dest = controllerPath(dest, playbookDir);
    } else {
      dest = `${controllerPath(args.dest, playbookDir)}/${ctx.hostName}/${source}`;
    }
    dest = path.normalize(dest);
    const local = await localFile(dest);
    if (local !== undefined && sha1(local) === remoteChecksum) {
      return { changed: false, data: { md5sum: md5(local), file: source, dest, checksum: remoteChecksum } };
    }
    await mkdir(path.dirname(dest), { recursive: true });
    await replaceFile(dest, remoteData);
    const written = await readFile(dest);
    const data = { md5sum: md5(written), dest, remote_md5sum: null, checksum: sha1(written), remote_checksum: remoteChecksum };
    if (args.validate_checksum && data.checksum !== remoteChecksum) return { failed: true, msg: 'checksum mismatch', data: { ...data, file: source } };
    return { changed: true, data };
  },
});
