import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replace `file` on the controller with `content`, whole: a temp file beside it with a random name, created
 * exclusively (O_EXCL: a link planted at that name is refused, never followed), filled, then renamed over `file`.
 * A link at `file` itself is replaced by the new file, not written through. For files vncplay writes on its own
 * account (retry files, metrics) into folders others may write to.
 */
export async function replaceFile(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(12).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o666);
  try {
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
