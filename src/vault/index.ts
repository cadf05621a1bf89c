export { DEFAULT_VAULT_ID, VAULT_HEADER, formatEnvelope, isVaultText, parseEnvelope, type VaultEnvelope } from './format.js';
export { decryptVault, encryptVault, type Decrypted, type VaultSecret } from './crypto.js';
export { parseVaultId, resolveVaultSecrets, type VaultIdSpec, type VaultPasswordOptions } from './passwords.js';
export {
  decryptFileText,
  decryptInlineValue,
  onSecretRevealed,
  recordSecret,
  redactSecrets,
  resetVaultSession,
  revealedSecrets,
  setVaultSecrets,
  vaultSecrets,
} from './session.js';
export { decryptVarsText, recordVarsSecrets } from './vars-file.js';
