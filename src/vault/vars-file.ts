import { parseDocument } from 'yaml';
import { ANSIBLE_YAML_OPTIONS } from '../inventory/yaml-options.js';
import { decryptFileText, recordSecret } from './session.js';

/**
 * Decrypt a vars file (group_vars, host_vars, vars_files, -e @file) and remember every value in it as a
 * secret. When the plaintext does not parse, every line is remembered instead: the parse error's excerpt would
 * otherwise print decrypted lines.
 */
export function decryptVarsText(text: string, file: string): string {
  const { text: plain, encrypted } = decryptFileText(text, file);
  if (encrypted) recordVarsSecrets(plain);
  return plain;
}

export function recordVarsSecrets(plain: string): void {
  const doc = parseDocument(plain, ANSIBLE_YAML_OPTIONS);
  if (doc.errors.length === 0) {
    recordSecret(doc.toJS());
    return;
  }
  for (const line of plain.split(/\r?\n/)) {
    const value = line.replace(/^[\s-]*[^:]*:\s*/, '').trim();
    if (value.length >= 3) recordSecret(value);
    if (line.trim().length >= 3) recordSecret(line.trim());
  }
}
