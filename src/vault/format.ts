import { VaultError } from '../errors.js';

/** The first bytes of every Ansible Vault text (file or inline value). */
export const VAULT_HEADER = '$ANSIBLE_VAULT';
/** Ansible's name for a secret given without a label (`--vault-password-file f` ≡ `--vault-id default@f`). */
export const DEFAULT_VAULT_ID = 'default';

export interface VaultEnvelope {
  /** '1.1' or '1.2' (1.2 carries a vault id). */
  version: string;
  cipher: string;
  /** The id in a 1.2 header; undefined for 1.1. */
  vaultId?: string;
  /** The hex payload with the line breaks removed. */
  payload: string;
}

/** True when `text` is vault data (Ansible's is_encrypted: the header at the very start). */
export function isVaultText(text: string): boolean {
  return text.startsWith(VAULT_HEADER + ';');
}

/**
 * Split `$ANSIBLE_VAULT;1.2;AES256;id` + 80-column hex lines into its parts. Whitespace around lines is
 * ignored, as Ansible does (inline `!vault |` values arrive indented and with a trailing newline).
 */
export function parseEnvelope(text: string): VaultEnvelope {
  const lines = text.trim().split(/\r?\n/).map((l) => l.trim());
  const header = (lines[0] ?? '').split(';').map((p) => p.trim());
  if (header[0] !== VAULT_HEADER || header.length < 3) {
    throw new VaultError('E_VAULT_FORMAT', 'not vault data: the first line must be $ANSIBLE_VAULT;1.1;AES256 (or 1.2;AES256;ID)', {
      hint: 'the file or value may be damaged, or not encrypted at all',
    });
  }
  const [, version = '', cipher = ''] = header;
  if (version !== '1.1' && version !== '1.2') {
    throw new VaultError('E_VAULT_FORMAT', `unsupported vault format version '${version}'`, { hint: 'vncplay reads versions 1.1 and 1.2, as ansible-vault writes them' });
  }
  if (cipher !== 'AES256') {
    throw new VaultError('E_VAULT_FORMAT', `unsupported vault cipher '${cipher}'`, { hint: 'only AES256 is supported (ansible-vault has written nothing else since 2.4)' });
  }
  const payload = lines.slice(1).join('');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(payload)) {
    throw new VaultError('E_VAULT_FORMAT', 'vault data is damaged: the body is not hex', { hint: 'the file or value may have been cut or edited by hand' });
  }
  const env: VaultEnvelope = { version, cipher, payload };
  if (header.length >= 4 && header[3]) env.vaultId = header[3];
  return env;
}

/** Header plus the payload in 80-column lines, ending with a newline, byte for byte as ansible-vault writes it. */
export function formatEnvelope(payload: string, vaultId?: string): string {
  const labelled = vaultId !== undefined && vaultId !== '' && vaultId !== DEFAULT_VAULT_ID;
  const header = labelled ? `${VAULT_HEADER};1.2;AES256;${vaultId}` : `${VAULT_HEADER};1.1;AES256`;
  const lines = [header];
  for (let i = 0; i < payload.length; i += 80) lines.push(payload.slice(i, i + 80));
  return lines.join('\n') + '\n';
}
