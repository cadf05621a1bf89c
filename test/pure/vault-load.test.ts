import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorList, VncplayError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { parseExtraVars } from '../../src/playbook/vars.js';
import { decryptVarsText, encryptVault, resetVaultSession, revealedSecrets, setVaultSecrets } from '../../src/vault/index.js';
import { tempTree } from '../support/temp-tree.js';

const secret = { id: 'default', password: Buffer.from('load-pass') };
const inline = (value: string, indent: number): string =>
  `!vault |\n${encryptVault(value, secret).trimEnd().split('\n').map((l) => `${' '.repeat(indent)}${l}`).join('\n')}`;

const tmp = (files: Record<string, string>): string => tempTree(files, 'vncplay-vault-load-');

async function errorsOf(p: Promise<unknown>): Promise<VncplayError[]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ErrorList) return err.errors;
    if (err instanceof VncplayError) return [err];
    throw err;
  }
  throw new Error('expected an error');
}

afterEach(() => resetVaultSession());

describe('vault values at load', () => {
  const play = (extra = ''): string =>
    `- hosts: all\n  gather_facts: false\n  vars_files: [secret-vars.yml]\n  vars:\n    api_key: ${inline('inline-value-1', 6)}\n${extra}  tasks:\n    - debug: msg="{{ api_key }} {{ db_pw }}"\n`;
  const files = (): Record<string, string> => ({
    'play.yml': play(),
    'secret-vars.yml': encryptVault('db_pw: file-value-2\nnested: {deep: [file-value-3]}\n', secret),
  });

  it('decrypts inline !vault and vault-encrypted vars_files; every value becomes a secret', async () => {
    setVaultSecrets([secret]);
    const dir = tmp(files());
    const pb = await loadPlaybook(path.join(dir, 'play.yml'));
    expect(pb.plays[0]!.vars['api_key']).toBe('inline-value-1');
    expect(pb.plays[0]!.varsFiles).toEqual([{ db_pw: 'file-value-2', nested: { deep: ['file-value-3'] } }]);
    expect(revealedSecrets().sort()).toEqual(['file-value-2', 'file-value-3', 'inline-value-1']);
  });

  it('a whole vault-encrypted playbook loads (its task names are not secrets)', async () => {
    setVaultSecrets([secret]);
    const dir = tmp({ ...files(), 'enc.yml': encryptVault(play(), secret) });
    const pb = await loadPlaybook(path.join(dir, 'enc.yml'));
    expect(pb.plays[0]!.tasks).toHaveLength(1);
    expect(revealedSecrets()).not.toContain('debug');
  });

  it("a role's vault-encrypted vars/main.yml: decrypted, its values secrets", async () => {
    setVaultSecrets([secret]);
    const dir = tmp({ 'r.yml': '- hosts: all\n  gather_facts: false\n  roles: [r1]\n' });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'roles/r1/tasks'), { recursive: true });
    mkdirSync(path.join(dir, 'roles/r1/vars'), { recursive: true });
    writeFileSync(path.join(dir, 'roles/r1/tasks/main.yml'), '- debug: msg="{{ role_pw }}"\n');
    writeFileSync(path.join(dir, 'roles/r1/vars/main.yml'), encryptVault('role_pw: role-value-8\n', secret));
    const pb = await loadPlaybook(path.join(dir, 'r.yml'));
    expect(pb.plays[0]!.roleVars['role_pw']).toBe('role-value-8');
    expect(revealedSecrets()).toEqual(['role-value-8']);
  });

  it('wrong or missing password: positioned E_VAULT errors, nothing loaded', async () => {
    const dir = tmp(files());
    setVaultSecrets([{ id: 'default', password: Buffer.from('wrong') }]);
    const wrong = await errorsOf(loadPlaybook(path.join(dir, 'play.yml')));
    expect(wrong.map((e) => [e.code, e.pos?.line, e.pos?.col])).toEqual([['E_VAULT', 5, 14]]);
    expect(wrong[0]!.message).toContain('no vault password given fits');
    setVaultSecrets([]);
    const none = await errorsOf(loadPlaybook(path.join(dir, 'play.yml')));
    expect(none[0]!.message).toContain('no vault password was given');
    // The vars file alone (inline value fine): its error points at the file's first line.
    setVaultSecrets([secret]);
    const dir2 = tmp({ 'play.yml': play(), 'secret-vars.yml': encryptVault('db_pw: x\n', { id: 'default', password: Buffer.from('other') }) });
    const fileErr = await errorsOf(loadPlaybook(path.join(dir2, 'play.yml')));
    expect(fileErr.map((e) => [e.code, e.pos?.line, e.pos?.col])).toEqual([['E_VAULT_PASSWORD', 1, 1]]);
  });

  it('syntax errors in a decrypted file carry no excerpt (it would print plaintext)', async () => {
    setVaultSecrets([secret]);
    const dir = tmp({ 'play.yml': play(), 'secret-vars.yml': encryptVault('db_pw: "unterminated-secret\n', secret) });
    const errs = await errorsOf(loadPlaybook(path.join(dir, 'play.yml')));
    expect(errs.length).toBeGreaterThan(0);
    for (const e of errs) expect(e.format()).not.toContain('unterminated-secret');
  });

  it('-e @file that is vault-encrypted, and inline !vault inside -e @file', async () => {
    setVaultSecrets([secret]);
    const dir = tmp({ 'x.yml': encryptVault('e_pw: extra-value-4\n', secret), 'y.yml': `y_pw: ${inline('extra-value-5', 2)}\n` });
    expect(await parseExtraVars(['@x.yml', '@y.yml'], dir)).toEqual({ e_pw: 'extra-value-4', y_pw: 'extra-value-5' });
    expect(revealedSecrets()).toEqual(expect.arrayContaining(['extra-value-4', 'extra-value-5']));
  });

  it('inventory: inline !vault host vars and vault-encrypted group_vars', async () => {
    setVaultSecrets([secret]);
    const dir = tmp({ 'inv.yml': `all:\n  hosts:\n    h1:\n      ansible_become_password: ${inline('become-value-6', 8)}\n` });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'group_vars'));
    writeFileSync(path.join(dir, 'group_vars', 'all.yml'), encryptVault('gv: group-value-7\n', secret));
    const inv = await loadInventory(path.join(dir, 'inv.yml'), dir, { decrypt: async (t, f) => decryptVarsText(t, f) });
    expect(inv.hosts.get('h1')!.vars['ansible_become_password']).toBe('become-value-6');
    expect(inv.groups.get('all')!.fileVars['gv']).toBe('group-value-7');
    expect(revealedSecrets()).toEqual(expect.arrayContaining(['become-value-6', 'group-value-7']));
    setVaultSecrets([]);
    const errs = await errorsOf(loadInventory(path.join(dir, 'inv.yml'), dir));
    expect(errs[0]!.code).toBe('E_INV_VAULT');
    expect(errs[0]!.pos?.line).toBe(4);
  });

  it('a vault-encrypted inventory file (YAML and INI) loads; its host names stay visible', async () => {
    setVaultSecrets([secret]);
    const dir = tmp({
      'inv.yml': encryptVault('all:\n  hosts:\n    web1:\n      ansible_host: 198.18.0.11\n', secret),
      'inv.ini': encryptVault('[db]\ndb1 ansible_host=198.18.0.12\n', secret),
    });
    const decrypt = async (t: string, f: string): Promise<string> => decryptVarsText(t, f);
    const inv = await loadInventory([path.join(dir, 'inv.yml'), path.join(dir, 'inv.ini')], dir, { decrypt });
    expect([...inv.hosts.keys()].sort()).toEqual(['db1', 'web1']);
    expect(revealedSecrets()).toEqual([]);
    setVaultSecrets([{ id: 'default', password: Buffer.from('wrong') }]);
    const errs = await errorsOf(loadInventory(path.join(dir, 'inv.yml'), dir, { decrypt }));
    expect(errs.map((e) => [e.code, e.pos?.line])).toEqual([['E_VAULT_PASSWORD', 1]]);
  });
});
