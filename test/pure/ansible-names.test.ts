import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleKeys, moduleNameProblem, resolveAnsibleModule } from '../../src/modules/ansible-names.js';
import { findModule } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { ErrorList } from '../../src/errors.js';
import { tempTree } from '../support/temp-tree.js';

describe('Ansible module names (generated from the installed ansible package)', () => {
  it.each([
    ['copy', 'ansible.builtin.copy'],
    ['pacman', 'community.general.pacman'],
    ['sysctl', 'ansible.posix.sysctl'],
    ['ansible.builtin.sysctl', 'ansible.posix.sysctl'],
    ['community.general.ini_file', 'community.general.ini_file'],
    ['mysql_user', 'community.mysql.mysql_user'],
    ['community.general.copy', undefined],
    ['ansible.builtin.comand', undefined],
    ['no_such_module', undefined],
  ])('%s resolves to %s, as Ansible resolves it', (key, fqcn) => {
    expect(resolveAnsibleModule(key)).toBe(fqcn);
  });

  it('finds a vncplay module by its short name and the FQCNs Ansible has for it, not by any collection prefix', () => {
    expect(findModule('ansible.builtin.copy')?.name).toBe('copy');
    expect(findModule('community.general.supervisorctl')?.name).toBe('supervisorctl');
    expect(findModule('ansible.builtin.supervisorctl')?.name).toBe('supervisorctl');
    expect(findModule('vncplay.firewall')?.name).toBe('firewall');
    expect(findModule('community.general.copy')).toBeUndefined();
    expect(findModule('ansible.builtin.firewall')).toBeUndefined();
    expect(moduleKeys(findModule('stat')!)).toEqual(['stat', 'ansible.builtin.stat']);
  });

  it('names a real Ansible module vncplay lacks, and refuses an FQCN whose collection has no such module', () => {
    expect(moduleNameProblem('pacman')).toMatchObject({ code: 'E_MODULE_NOT_IMPLEMENTED', message: '`pacman` is an Ansible module vncplay does not implement yet (Ansible runs community.general.pacman)' });
    expect(moduleNameProblem('community.general.copy')).toMatchObject({ code: 'E_UNKNOWN_MODULE', hint: '`copy` is `ansible.builtin.copy`' });
    expect(moduleNameProblem('pnig')).toBeUndefined();
  });

  it('reports them at the key, at load time', async () => {
    const dir = tempTree({
      'p.yml': '- hosts: all\n  tasks:\n    - pacman: {name: x}\n    - community.general.copy: {src: a, dest: b}\n    - action: zypper name=x\n',
    }, 'vncplay-names-');
    // The controller's collections hidden (an empty collections path, sys.path not scanned): nothing to run them from.
    const err = await loadPlaybook(path.join(dir, 'p.yml'), { collectionsPath: [path.join(dir, 'empty')], collectionsScanSysPath: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const text = err instanceof ErrorList ? err.errors.map((e) => e.format()).join('\n') : String(err);
    expect(text).toContain(
      'p.yml:3:7: error[E_MODULE_NOT_IMPLEMENTED]: `pacman` is an Ansible module vncplay does not implement yet (Ansible runs community.general.pacman), and its collection community.general is not installed on the controller to run it from (looked in: no folder holding ansible_collections/ (collections_scan_sys_path is false',
    );
    expect(text).toContain("hint: install Debian's `ansible` package (apt-get install ansible) or `ansible-galaxy collection install community.general`");
    expect(text).toContain("p.yml:4:7: error[E_UNKNOWN_MODULE]: community.general has no module `copy`: Ansible says \"couldn't resolve module/action 'community.general.copy'");
    expect(text).toContain('p.yml:5:15: error[E_MODULE_NOT_IMPLEMENTED]: `zypper` is an Ansible module');
  });
});
