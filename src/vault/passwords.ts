import { execFile } from 'node:child_process';
import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';
import { UsageError, VaultError } from '../errors.js';
import { DEFAULT_VAULT_ID, type VaultSecret } from './crypto.js';

/** Where the vault passwords of a command come from, as its flags said. */
export interface VaultPasswordOptions {
  /** `--vault-id label@source` values (source: a file, an executable script, or `prompt`). */
  vaultIds?: readonly string[];
  /** `--vault-password-file FILE` values: secrets labelled 'default'. */
  passwordFiles?: readonly string[];
  /** `--ask-vault-pass`: prompt once for the 'default' secret. */
  askVaultPass?: boolean;
  /** Asks for a password without echoing it (src/cli/prompt.ts promptHidden). */
  prompt?: (question: string) => Promise<string>;
  cwd?: string;
}

export interface VaultIdSpec {
  id: string;
  source: string;
}

/** `label@source` → its parts; a bare `source` is the 'default' label (Ansible's reading of --vault-id). */
export function parseVaultId(spec: string): VaultIdSpec {
  const at = spec.indexOf('@');
  if (at < 0) return { id: DEFAULT_VAULT_ID, source: spec };
  const id = spec.slice(0, at);
  const source = spec.slice(at + 1);
  if (id === '' || source === '') {
    throw new UsageError('E_USAGE', `--vault-id '${spec}' needs a label and a source`, { hint: 'write --vault-id prod@~/.vault-pass, --vault-id dev@prompt or --vault-id ~/.vault-pass' });
  }
  return { id, source };
}

/** Every secret the flags name, in flag order (--vault-id first, then password files, then the prompt). */
export async function resolveVaultSecrets(opts: VaultPasswordOptions): Promise<VaultSecret[]> {
  const cwd = opts.cwd ?? process.cwd();
  const specs = [
    ...(opts.vaultIds ?? []).map(parseVaultId),
    ...(opts.passwordFiles ?? []).map((f) => ({ id: DEFAULT_VAULT_ID, source: f })),
    ...(opts.askVaultPass ? [{ id: DEFAULT_VAULT_ID, source: 'prompt' }] : []),
  ];
  const out: VaultSecret[] = [];
  for (const s of specs) out.push({ id: s.id, password: await readPasswordSource(s, cwd, opts.prompt) });
  return out;
}

async function readPasswordSource(spec: VaultIdSpec, cwd: string, prompt: VaultPasswordOptions['prompt']): Promise<Uint8Array> {
  if (spec.source === 'prompt' || spec.source === 'prompt_ask_vault_pass') {
    if (!prompt) throw new UsageError('E_USAGE', 'a vault password prompt was asked for, but nothing can prompt here');
    const label = spec.id === DEFAULT_VAULT_ID ? 'Vault password: ' : `Vault password (${spec.id}): `;
    return nonEmpty(Buffer.from(await prompt(label), 'utf8'), spec);
  }
  const file = path.resolve(cwd, spec.source.replace(/^~(?=$|\/)/, process.env['HOME'] ?? '~'));
  let st: import('node:fs').Stats;
  try {
    st = await fsp.stat(file);
  } catch (err) {
    throw new UsageError('E_VAULT_PASSWORD_FILE', `vault password file '${spec.source}' not found`, { hint: `looked for ${file}`, cause: err });
  }
  if (!st.isFile()) throw new UsageError('E_VAULT_PASSWORD_FILE', `vault password file '${spec.source}' is not a file`);
  if (await isExecutable(file)) return nonEmpty(await runPasswordScript(file, spec), spec);
  // Ansible strips surrounding whitespace from a password file (and only line endings from a script's output).
  const text = (await fsp.readFile(file)).toString('utf8').trim();
  return nonEmpty(Buffer.from(text, 'utf8'), spec);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fsp.access(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * An executable password source prints the password on stdout. A script named `…-client` (Ansible's vault
 * client convention) is asked for one label with `--vault-id LABEL`.
 */
function runPasswordScript(file: string, spec: VaultIdSpec): Promise<Buffer> {
  const stem = path.basename(file).replace(/\.[^.]*$/, '');
  const args = stem.endsWith('-client') ? ['--vault-id', spec.id] : [];
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'buffer', timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const detail = Buffer.from(stderr).toString('utf8').trim().split('\n')[0] ?? '';
        reject(
          new VaultError('E_VAULT_PASSWORD_SCRIPT', `vault password script '${spec.source}' failed (${'code' in err && err.code !== undefined ? `exit ${String(err.code)}` : err.message})${detail ? `: ${detail}` : ''}`, {
            hint: 'run the script by hand: it must print the password on stdout and exit 0',
          }),
        );
        return;
      }
      resolve(Buffer.from(stdout.toString('utf8').replace(/^[\r\n]+|[\r\n]+$/g, ''), 'utf8'));
    });
  });
}

function nonEmpty(password: Buffer, spec: VaultIdSpec): Buffer {
  if (password.length === 0) {
    throw new VaultError('E_VAULT_PASSWORD', `the vault password from '${spec.source}' is empty`, { hint: 'put the password in the file (or make the script print it)' });
  }
  return password;
}
