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
export { loadPlaybook, loadTaskFile } from './playbook/load.js';
export { buildPlaybookSchema } from './playbook/schema.js';
export { loadInventory, parseInventory, selectHosts } from './inventory/index.js';
export { runPlaybook, type RunOptions, type RunResult } from './runner/run.js';
export type { RunEvent, HostStats, TaskStatus } from './runner/events.js';
// Bad input refused before any host is contacted (the CLI's exit 4); runPlaybook runs them unless preflight: false.
export { preflightErrors, type PreflightOptions } from './runner/preflight.js';
export { findUndefinedVariables, type UndefinedCheckOptions } from './playbook/undefined-vars.js';
export { findUnknownHostPatterns, findUnmatchedHostPatterns, plainPatternNames, unknownPatternNames } from './playbook/unknown-patterns.js';
