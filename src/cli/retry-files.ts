import { access, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { replaceFile } from '../output/replace-file.js';
import { toBool } from '../playbook/filters.js';

/**
 * Ansible's retry files (`PLAYBOOK.retry`, the hosts that failed, one per line). Off unless asked, as in
 * ansible-playbook ≥ 2.8: `--retry-files`, ANSIBLE_RETRY_FILES_ENABLED, or (for an ansible.cfg reader)
 * [defaults] retry_files_enabled. Where: beside the playbook, or in retry_files_save_path
 * (ANSIBLE_RETRY_FILES_SAVE_PATH).
 */
export interface RetryFilesOptions {
  /** Undefined: neither the command line nor the environment said; a config file may, else off. */
  enabled?: boolean;
  savePath?: string;
}

/**
 * What the command line left open is filled from ANSIBLE_RETRY_FILES_ENABLED / ANSIBLE_RETRY_FILES_SAVE_PATH
 * (Ansible's order: command line, environment, ansible.cfg, default).
 */
export function withRetryFilesEnvironment(given: RetryFilesOptions, env: NodeJS.ProcessEnv): RetryFilesOptions {
  const out: RetryFilesOptions = { ...given };
  const enabled = env['ANSIBLE_RETRY_FILES_ENABLED'];
  if (out.enabled === undefined && enabled !== undefined && enabled !== '') out.enabled = toBool(enabled);
  const savePath = env['ANSIBLE_RETRY_FILES_SAVE_PATH'];
  // A `path` setting in Ansible: `~` is the user's home.
  if (out.savePath === undefined && savePath) out.savePath = savePath.replace(/^~(?=\/|$)/, homedir());
  return out;
}

/** `PLAYBOOK.retry` beside the playbook (or in the save path): the hosts that failed, one per line. */
export function retryPath(playbookFile: string, options: RetryFilesOptions = {}): string {
  const parsed = path.parse(playbookFile);
  return path.join(options.savePath ?? parsed.dir, `${parsed.name}.retry`);
}

/**
 * Write the retry file when retry files are on and a host failed. It replaces a link rather than writing through
 * it. A failure is Ansible's warning (returned, for the caller to print), never the run's result.
 */
export async function writeRetryFile(playbookFile: string, failedHosts: readonly string[], options: RetryFilesOptions): Promise<string | undefined> {
  if (!options.enabled || failedHosts.length === 0) return undefined;
  const file = retryPath(playbookFile, options);
  try {
    // Ansible makes the save path's folders too (makedirs_safe).
    await mkdir(path.dirname(file), { recursive: true });
    await replaceFile(file, failedHosts.join('\n') + '\n');
    return undefined;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    return `Could not create retry file '${file}': ${reason}`;
  }
}

/** --retry-failed needs the file the last run wrote: say why there is none and how to get one. */
export async function checkRetryFileExists(playbookFile: string, options: RetryFilesOptions): Promise<string> {
  const file = retryPath(playbookFile, options);
  try {
    await access(file);
    return file;
  } catch {
    throw new UsageError('E_RETRY_FILE_MISSING', `--retry-failed: there is no retry file ${file}`, {
      hint: options.enabled
        ? 'no host failed in the last run of this playbook (or it ran with retry files off)'
        : 'retry files are off (as in Ansible since 2.8): run with --retry-files or ANSIBLE_RETRY_FILES_ENABLED=true, ' +
          'and a run where hosts fail writes them there',
    });
  }
}
