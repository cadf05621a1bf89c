import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../../src/errors.js';
import { decryptVault, encryptVault, formatEnvelope, isVaultText, parseEnvelope, parseVaultId, type VaultSecret } from '../../src/vault/index.js';
import { requireProgram } from '../support/tools.js';

const pw = (password: string, id = 'default'): VaultSecret => ({ id, password: Buffer.from(password) });

/** Made once by ansible-vault 2.14 (`ansible-vault encrypt_string --vault-password-file p 'inline-s3cret'`, password pw1). */
const ANSIBLE_INLINE = `$ANSIBLE_VAULT;1.1;AES256
30373361636536643032353139326664623433656461383135396335653934393537363166633437
3739356265306366656531653232313564316362646535330a383138633762336637653930313935
38383364323934336638383865623263663966646134656538363134353630326661333331336366
6163303062383734380a633134646234356539393861646139363433303131663930373132613861
6635
`;

function decryptFails(text: string, secrets: VaultSecret[]): string {
  try {
    decryptVault(text, secrets);
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    return (err as VaultError).code;
  }
  throw new Error('decryption unexpectedly succeeded');
}

describe('vault format', () => {
  it('decrypts a value ansible-vault wrote (stored fixture)', () => {
    expect(decryptVault(ANSIBLE_INLINE, [pw('pw1')]).plaintext.toString()).toBe('inline-s3cret');
    // Indented as it sits under `!vault |`, with a trailing blank line: still readable.
    const indented = ANSIBLE_INLINE.split('\n').map((l) => `          ${l}`).join('\n');
    expect(decryptVault(indented, [pw('pw1')]).plaintext.toString()).toBe('inline-s3cret');
  });

  it('round-trips 1.1 and 1.2, 80-column lines, header by vault id', () => {
    for (const text of ['', 'a', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(17), 'ünïcode ✓\n'.repeat(40)]) {
      const v11 = encryptVault(text, pw('pw'));
      expect(v11.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
      expect(v11.endsWith('\n')).toBe(true);
      expect(v11.split('\n').slice(1, -2).every((l) => l.length === 80)).toBe(true);
      expect(decryptVault(v11, [pw('pw')]).plaintext.toString()).toBe(text);
      const v12 = encryptVault(text, pw('pw', 'prod'));
      expect(v12.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
      expect(decryptVault(v12, [pw('other', 'dev'), pw('pw', 'x')])).toMatchObject({ secretId: 'x', vaultId: 'prod' });
    }
  });

  it('is deterministic for a given salt (same bytes as Ansible would write for that salt)', () => {
    const salt = Buffer.alloc(32, 7);
    expect(encryptVault('hello', pw('pw'), { salt })).toBe(encryptVault('hello', pw('pw'), { salt }));
    expect(encryptVault('hello', pw('pw'), { salt })).not.toBe(encryptVault('hello', pw('pw2'), { salt }));
  });

  it('tries the secret whose label matches the header first', () => {
    const text = encryptVault('v', pw('right', 'prod'));
    expect(decryptVault(text, [pw('wrong', 'dev'), pw('right', 'prod')]).secretId).toBe('prod');
  });

  it.each([
    ['wrong password', encryptVault('s', pw('a')), [pw('b')], 'E_VAULT_PASSWORD'],
    ['no password', encryptVault('s', pw('a')), [], 'E_VAULT_NO_PASSWORD'],
    ['not vault', 'hello: world\n', [pw('a')], 'E_VAULT_FORMAT'],
    ['bad version', '$ANSIBLE_VAULT;9.9;AES256\n6161\n', [pw('a')], 'E_VAULT_FORMAT'],
    ['bad cipher', '$ANSIBLE_VAULT;1.1;AES128\n6161\n', [pw('a')], 'E_VAULT_FORMAT'],
    ['non-hex body', '$ANSIBLE_VAULT;1.1;AES256\nzz\n', [pw('a')], 'E_VAULT_FORMAT'],
    ['truncated body', encryptVault('s', pw('a')).split('\n').slice(0, 2).join('\n'), [pw('a')], 'E_VAULT_FORMAT'],
  ] as const)('%s → %s', (_name, text, secrets, code) => {
    expect(decryptFails(text, [...secrets])).toBe(code);
  });

  it('a flipped ciphertext byte fails the HMAC (wrong password, nothing decrypted)', () => {
    const text = encryptVault('secret text', pw('a'));
    const env = parseEnvelope(text);
    const inner = Buffer.from(env.payload, 'hex').toString('latin1');
    const last = inner.length - 1;
    const tampered = inner.slice(0, last) + (inner[last] === '0' ? '1' : '0');
    expect(decryptFails(formatEnvelope(Buffer.from(tampered, 'latin1').toString('hex')), [pw('a')])).toBe('E_VAULT_PASSWORD');
  });

  it('isVaultText and parseVaultId', () => {
    expect(isVaultText('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(isVaultText(' $ANSIBLE_VAULT;1.1;AES256\n')).toBe(false);
    expect(parseVaultId('prod@/x/y')).toEqual({ id: 'prod', source: '/x/y' });
    expect(parseVaultId('/x/y')).toEqual({ id: 'default', source: '/x/y' });
    expect(parseVaultId('dev@prompt')).toEqual({ id: 'dev', source: 'prompt' });
  });
});

describe('interop with ansible-vault (Debian ansible-core)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-vault-unit-'));
  const pwFile = path.join(dir, 'pw');
  writeFileSync(pwFile, 'correct horse\n');
  const av = (args: string[], input?: string): string =>
    execFileSync(requireProgram('ansible-vault'), args, { cwd: dir, encoding: 'utf8', ...(input !== undefined ? { input } : {}), stdio: ['pipe', 'pipe', 'pipe'] });

  it('opens files ansible-vault made (1.1, and 1.2 with an id)', () => {
    const plain = path.join(dir, 'plain.yml');
    writeFileSync(plain, 'db_password: "p@ss w0rd"\nlist: [1, 2]\n');
    av(['encrypt', '--vault-password-file', pwFile, '--output', 'v11.yml', plain]);
    av(['encrypt', '--vault-id', `prod@${pwFile}`, '--output', 'v12.yml', plain]);
    const v11 = readFileSync(path.join(dir, 'v11.yml'), 'utf8');
    const v12 = readFileSync(path.join(dir, 'v12.yml'), 'utf8');
    expect(v12.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(decryptVault(v11, [pw('correct horse')]).plaintext.toString()).toBe(readFileSync(plain, 'utf8'));
    expect(decryptVault(v12, [pw('correct horse', 'prod')]).plaintext.toString()).toBe(readFileSync(plain, 'utf8'));
  }, 30_000);

  it('ansible-vault opens what vncplay made (1.1 and 1.2)', () => {
    const text = 'vnc_password: "t0p s3cret ✓"\n';
    writeFileSync(path.join(dir, 'ours11.yml'), encryptVault(text, pw('correct horse')));
    writeFileSync(path.join(dir, 'ours12.yml'), encryptVault(text, pw('correct horse', 'staging')));
    expect(av(['view', '--vault-password-file', pwFile, 'ours11.yml'])).toBe(text);
    expect(av(['view', '--vault-id', `staging@${pwFile}`, 'ours12.yml'])).toBe(text);
  }, 30_000);
});
