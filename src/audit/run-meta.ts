import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FileDigest, RunStart } from './trail.js';

/** What the ledger's run_start says about this run, besides its id and time. */
export async function runStartFacts(opts: {
  argv: readonly string[];
  playbooks: readonly string[];
  inventories: readonly string[];
  check: boolean;
  version: string;
}): Promise<Omit<RunStart, 'type' | 'id' | 'time'>> {
  const info = os.userInfo();
  const cwd = process.cwd();
  const git = opts.playbooks[0] !== undefined ? await gitState(path.dirname(path.resolve(opts.playbooks[0]))) : undefined;
  return {
    user: info.username,
    uid: info.uid,
    ...(process.env['SUDO_USER'] ? { sudoUser: process.env['SUDO_USER'] } : {}),
    controller: os.hostname(),
    argv: [...opts.argv],
    cwd,
    playbooks: await Promise.all(opts.playbooks.map((p) => digest(path.resolve(cwd, p)))),
    // An inline host list ('h1,h2,') is not a file: it is recorded as written (argv has it too).
    inventories: await Promise.all(opts.inventories.map((i) => (i.includes(',') ? Promise.resolve({ path: i }) : digest(path.resolve(cwd, i))))),
    ...(git ? { git } : {}),
    version: opts.version,
    check: opts.check,
  };
}

/** sha256 of a file (as sha256sum), or of every file under a folder (names and contents, in sorted order). */
async function digest(file: string): Promise<FileDigest> {
  try {
    const hash = createHash('sha256');
    // A file's digest is what sha256sum prints for it; a folder's covers the names and contents under it.
    if ((await stat(file)).isDirectory()) await feed(hash, file, file);
    else hash.update(await readFile(file));
    return { path: file, sha256: hash.digest('hex') };
  } catch {
    return { path: file };
  }
}

async function feed(hash: ReturnType<typeof createHash>, root: string, file: string): Promise<void> {
  if ((await stat(file)).isDirectory()) {
    for (const name of (await readdir(file)).sort()) {
      if (name.startsWith('.')) continue;
      await feed(hash, root, path.join(file, name));
    }
    return;
  }
  hash.update(path.relative(root, file)).update('\0').update(await readFile(file)).update('\0');
}

async function gitState(dir: string): Promise<{ commit: string; dirty: boolean } | undefined> {
  const git = (args: string[]): Promise<string> => promisify(execFile)('git', ['-C', dir, ...args], { timeout: 5000 }).then((r) => r.stdout.trim());
  try {
    const commit = await git(['rev-parse', 'HEAD']);
    const status = await git(['status', '--porcelain', '--', '.']);
    return { commit, dirty: status !== '' };
  } catch {
    return undefined;
  }
}
