import { VaultError } from '../errors.js';
import { decryptVault, type VaultSecret } from './crypto.js';
import { isVaultText } from './format.js';

/**
 * The vault state of one process: the passwords the command line gave, and every value they revealed.
 * YAML parsing is synchronous and happens in many loaders (playbooks, vars files, inventories, -e @file), so
 * the `!vault` tag reaches the passwords here rather than through every loader's options. The runner takes
 * `revealedSecrets()` as RunOptions.secrets, so nothing decrypted is ever printed.
 */
let secrets: VaultSecret[] = [];
const revealed = new Set<string>();
/** Inline values by ciphertext: a document may be parsed more than once, and each PBKDF2 costs milliseconds. */
const inlineCache = new Map<string, string>();

/** Runs that want to hear of values revealed while they run (a task file loaded by include_tasks). */
const listeners = new Set<(value: string) => void>();

/** Call `listener` with every value revealed from now on; returns the unsubscribe function. */
export function onSecretRevealed(listener: (value: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function reveal(value: string): void {
  if (revealed.has(value)) return;
  revealed.add(value);
  for (const l of listeners) l(value);
}

export function setVaultSecrets(list: readonly VaultSecret[]): void {
  secrets = [...list];
  inlineCache.clear();
}

export function vaultSecrets(): readonly VaultSecret[] {
  return secrets;
}

/** Remember `value` (and every string inside it) as a secret no output may show. */
export function recordSecret(value: unknown): void {
  if (typeof value === 'string') {
    if (value.trim() !== '') reveal(value);
    // A multi-line secret (a key, a certificate) may be printed line by line: each line is secret too.
    if (value.includes('\n')) for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) reveal(line.trim());
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    recordSecret(String(value));
  } else if (Array.isArray(value)) {
    for (const v of value) recordSecret(v);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) recordSecret(v);
  }
}

/** Every value decrypted so far (for RunOptions.secrets and for redacting errors). */
export function revealedSecrets(): string[] {
  return [...revealed];
}

/** Forget the passwords and revealed values (tests, and library callers running several commands). */
export function resetVaultSession(): void {
  secrets = [];
  revealed.clear();
  inlineCache.clear();
}

/** Decrypt an inline `!vault` value with the session's passwords, and remember it as a secret. */
export function decryptInlineValue(text: string): string {
  const key = text.replace(/\s+/g, '');
  const value = inlineCache.get(key) ?? decryptVault(text, secrets).plaintext.toString('utf8');
  inlineCache.set(key, value);
  recordSecret(value);
  return value;
}

/**
 * The plaintext of a file's text: unchanged when not vault-encrypted, else decrypted (VaultError with the
 * file's position on failure). The caller records the values it reads from it (recordSecret).
 */
export function decryptFileText(text: string, file: string): { text: string; encrypted: boolean } {
  if (!isVaultText(text)) return { text, encrypted: false };
  try {
    return { text: decryptVault(text, secrets).plaintext.toString('utf8'), encrypted: true };
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    throw new VaultError(err.code, `${file}: ${err.message}`, { pos: { file, line: 1, col: 1 }, ...(err.hint ? { hint: err.hint } : {}), cause: err });
  }
}

/** Replace every revealed secret in `text` (errors printed outside the runner's redacting emitter). */
export function redactSecrets(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const s of [...revealed, ...extra].filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join('********');
  return out;
}
