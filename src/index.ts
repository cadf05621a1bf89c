export * from './errors.js';
export type * from './playbook/model.js';
export type * from './modules/types.js';
export type * from './connection/types.js';
// Ansible Vault: read/write vault text, and the passwords and revealed secrets of this process.
export {
  decryptVault,
  encryptVault,
  isVaultText,
  resolveVaultSecrets,
  setVaultSecrets,
  revealedSecrets,
  resetVaultSession,
  type VaultSecret,
} from './vault/index.js';
