import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { VaultError } from '../errors.js';
import { DEFAULT_VAULT_ID, formatEnvelope, parseEnvelope } from './format.js';

/** A vault password with its label (`--vault-id label@source`; 'default' when unlabelled). */
export interface VaultSecret {
  id: string;
  password: Uint8Array;
}

const KEY_LENGTH = 32;
const IV_LENGTH = 16;
const SALT_LENGTH = 32;
const ITERATIONS = 10000;

interface Keys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  iv: Buffer;
}

/** PBKDF2-HMAC-SHA256 → 32-byte AES key, 32-byte HMAC key, 16-byte CTR counter (ansible's _gen_key_initctr). */
function deriveKeys(password: Uint8Array, salt: Uint8Array): Keys {
  const d = pbkdf2Sync(password, salt, ITERATIONS, 2 * KEY_LENGTH + IV_LENGTH, 'sha256');
  return { cipherKey: d.subarray(0, KEY_LENGTH), hmacKey: d.subarray(KEY_LENGTH, 2 * KEY_LENGTH), iv: d.subarray(2 * KEY_LENGTH) };
}

/** PKCS#7 to the AES block: Ansible pads even though CTR does not need it, so we must too. */
function pad(data: Uint8Array): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer | undefined {
  const n = data[data.length - 1];
  if (n === undefined || n < 1 || n > 16 || n > data.length) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Encrypt `plaintext` into Ansible Vault text (1.1, or 1.2 when `vaultId` names a non-default label).
 * `salt` is for reproducible tests only; normally 32 random bytes.
 */
export function encryptVault(plaintext: string | Uint8Array, secret: VaultSecret, opts: { salt?: Uint8Array } = {}): string {
  if (secret.password.length === 0) throw new VaultError('E_VAULT_PASSWORD', 'the vault password is empty', { hint: 'an empty password cannot encrypt anything' });
  const salt = opts.salt ?? randomBytes(SALT_LENGTH);
  const { cipherKey, hmacKey, iv } = deriveKeys(secret.password, salt);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const cipher = createCipheriv('aes-256-ctr', cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(pad(data)), cipher.final()]);
  const mac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  // Hexlified twice: the inner hex lines are themselves hexlified (Ansible keeps this for compatibility).
  const inner = [hex(salt), hex(mac), hex(ciphertext)].join('\n');
  return formatEnvelope(Buffer.from(inner, 'ascii').toString('hex'), secret.id);
}

export interface Decrypted {
  plaintext: Buffer;
  /** The label of the secret that opened it. */
  secretId: string;
  /** The id written in the header (1.2), if any. */
  vaultId?: string;
}

/**
 * Decrypt vault text with the first secret that opens it: secrets whose label matches the header's id first
 * (as Ansible), then the others. VaultError E_VAULT_FORMAT for damaged data, E_VAULT_NO_PASSWORD when no secret
 * was given, E_VAULT_PASSWORD when none of them fits.
 */
export function decryptVault(text: string, secrets: readonly VaultSecret[]): Decrypted {
  const env = parseEnvelope(text);
  const parts = Buffer.from(env.payload, 'hex').toString('latin1').split('\n');
  if (parts.length !== 3 || !parts.every((p) => /^(?:[0-9a-fA-F]{2})+$/.test(p))) {
    throw new VaultError('E_VAULT_FORMAT', 'vault data is damaged: expected salt, HMAC and ciphertext', { hint: 'the file or value may have been cut or edited by hand' });
  }
  const [saltHex, macHex, ctHex] = parts as [string, string, string];
  const salt = Buffer.from(saltHex, 'hex');
  const mac = Buffer.from(macHex, 'hex');
  const ciphertext = Buffer.from(ctHex, 'hex');
  if (secrets.length === 0) {
    throw new VaultError('E_VAULT_NO_PASSWORD', `vault-encrypted data${env.vaultId ? ` (vault id '${env.vaultId}')` : ''} found and no vault password was given`, {
      hint: 'pass --vault-password-file FILE, --ask-vault-pass or --vault-id LABEL@SOURCE',
    });
  }
  const ordered = env.vaultId ? [...secrets.filter((s) => s.id === env.vaultId), ...secrets.filter((s) => s.id !== env.vaultId)] : secrets;
  for (const s of ordered) {
    const { cipherKey, hmacKey, iv } = deriveKeys(s.password, salt);
    const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
    if (expected.length !== mac.length || !timingSafeEqual(expected, mac)) continue;
    const decipher = createDecipheriv('aes-256-ctr', cipherKey, iv);
    const plaintext = unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    if (!plaintext) throw new VaultError('E_VAULT_FORMAT', 'vault data is damaged: bad padding after decryption', { hint: 'the file may have been written by a broken tool' });
    const out: Decrypted = { plaintext, secretId: s.id };
    if (env.vaultId) out.vaultId = env.vaultId;
    return out;
  }
  const ids = [...new Set(secrets.map((s) => s.id))].join(', ');
  throw new VaultError('E_VAULT_PASSWORD', `decryption failed: no vault password given fits${env.vaultId ? ` (data is for vault id '${env.vaultId}')` : ''}`, {
    hint: `tried ${secrets.length} password(s) (vault ids: ${ids}); check the password file or --vault-id`,
  });
}

export { DEFAULT_VAULT_ID };
