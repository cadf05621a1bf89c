import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionSpec, inventoryVars, loadInventory, parseInventory } from '../../src/inventory/index.js';
import { Unsafe } from '../../src/playbook/unsafe.js';
import { Unsafe as UnsafeFromFilters } from '../../src/playbook/filters.js';
import { render } from '../../src/playbook/template.js';
import { parseExtraVars } from '../../src/playbook/vars.js';
import { recordVarsSecrets, resetVaultSession, revealedSecrets } from '../../src/vault/index.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * `!unsafe` where people put passwords: YAML inventories, group_vars/host_vars and `-e @file.yml` read it as the
 * same Unsafe wrapper as playbooks do (never rendered). INI inventories have no YAML tags: nothing changes there
 * (a value with `{{` in an INI inventory is a template, as in Ansible).
 */

const PW = 'a{%b{{c';

const tree = (files: Record<string, string>): string => tempTree(files, 'vncplay-unsafe-inv-');

describe('!unsafe in inventories, group_vars/host_vars and -e @file', () => {
  it('is one class: filters.ts re-exports the Unsafe of unsafe.ts', () => {
    expect(UnsafeFromFilters).toBe(Unsafe);
  });

  it('a YAML inventory reads group vars, host vars, lists and mappings as Unsafe (keys plain)', () => {
    const inv = parseInventory(
      [
        'all:',
        '  vars:',
        `    vnc_password: !unsafe '${PW}'`,
        '  children:',
        '    vnc:',
        '      hosts:',
        '        h1:',
        "          host_pw: !unsafe '{{ 7 * 6 }}'",
        "          pw_list: !unsafe ['{{ x }}', 'y']",
        "          pw_map: !unsafe {'{{ k }}': '{{ v }}', n: 1}",
        "          plain: '{{ vnc_password }}'",
        '',
      ].join('\n'),
      'yaml',
    );
    const vars = inventoryVars(inv, 'h1');
    expect(vars['vnc_password']).toEqual(new Unsafe(PW));
    expect(vars['vnc_password']).toBeInstanceOf(Unsafe);
    expect(vars['host_pw']).toEqual(new Unsafe('{{ 7 * 6 }}'));
    expect(vars['pw_list']).toEqual([new Unsafe('{{ x }}'), new Unsafe('y')]);
    expect(vars['pw_map']).toEqual({ '{{ k }}': new Unsafe('{{ v }}'), n: 1 });
    // A plain template reading an unsafe value gets its text, not rendered again.
    expect(render(vars['plain'], vars)).toBe(PW);
    expect(render(vars['host_pw'], vars)).toBe('{{ 7 * 6 }}');
  });

  it('group_vars/ and host_vars/ files beside the inventory read !unsafe as Unsafe', async () => {
    const dir = tree({
      'hosts.yml': 'vnc:\n  hosts:\n    h1:\n    h2:\n',
      'group_vars/vnc.yml': `vnc_password: !unsafe '${PW}'\n`,
      'group_vars/all/main.yml': "banner: !unsafe '{% raw %}'\n",
      'host_vars/h2.yml': "vnc_password: !unsafe '{{ h2 }}'\n",
    });
    const inv = await loadInventory(path.join(dir, 'hosts.yml'), dir);
    expect(inventoryVars(inv, 'h1')['vnc_password']).toEqual(new Unsafe(PW));
    expect(inventoryVars(inv, 'h1')['banner']).toEqual(new Unsafe('{% raw %}'));
    expect(inventoryVars(inv, 'h2')['vnc_password']).toEqual(new Unsafe('{{ h2 }}'));
  });

  it('-e @file.yml reads !unsafe as Unsafe; plain values stay plain', async () => {
    const dir = tree({ 'extra.yml': `e_pw: !unsafe '${PW}'\ne_plain: 'x'\ne_num: !unsafe 5\n` });
    const vars = await parseExtraVars(['@extra.yml'], dir);
    expect(vars).toEqual({ e_pw: new Unsafe(PW), e_plain: 'x', e_num: new Unsafe('5') });
  });

  it('connection settings written !unsafe come out as plain strings (the runner renders host vars first)', () => {
    const inv = parseInventory(
      [
        'vnc:',
        '  hosts:',
        '    h1:',
        "      ansible_host: !unsafe '198.18.0.11'",
        "      ansible_port: !unsafe '2222'",
        '      ansible_user: !unsafe vncplay',
        `      ansible_password: !unsafe '${PW}'`,
        "      ansible_become_password: !unsafe 'b{{p'",
        "      ansible_become: !unsafe 'yes'",
        '',
      ].join('\n'),
      'yaml',
    );
    // As src/runner/run.ts connectionSpecOf: the host's vars rendered in their own scope, then read.
    const vars = { ...inventoryVars(inv, 'h1'), inventory_hostname: 'h1' };
    const spec = connectionSpec(inv, 'h1', render(vars, vars) as Record<string, unknown>);
    expect(spec.address).toBe('198.18.0.11');
    expect(spec.port).toBe(2222);
    expect(spec.user).toBe('vncplay');
    expect(spec.password).toBe(PW);
    expect(spec.becomePassword).toBe('b{{p');
    expect(spec.become).toBe(true);
  });

  it('a vault-encrypted vars file: !unsafe values inside become run secrets like any other value', () => {
    resetVaultSession();
    recordVarsSecrets(`vnc_password: !unsafe '${PW}'\nlist: !unsafe ['s3cr{{t']\n`);
    expect(revealedSecrets()).toEqual(expect.arrayContaining([PW, 's3cr{{t']));
    resetVaultSession();
  });

  it('INI inventories have no tags: a value is read as before (text after !unsafe is just text)', () => {
    const inv = parseInventory("[vnc]\nh1 pw='!unsafe x'\n", 'ini');
    expect(inventoryVars(inv, 'h1')['pw']).toBe('!unsafe x');
  });

  it('an !unsafe empty address is still refused, and an !unsafe group priority still counts', async () => {
    const empty = tree({ 'hosts.yml': "all:\n  hosts:\n    h1:\n      ansible_host: !unsafe ''\n" });
    await expect(loadInventory(path.join(empty, 'hosts.yml'), empty)).rejects.toThrow(/host 'h1' has an empty ansible_host/);
    const prio = tree({ 'hosts.yml': 'all:\n  children:\n    a:\n      vars: {ansible_group_priority: !unsafe 5}\n      hosts: {h1: {}}\n' });
    const inv = await loadInventory(path.join(prio, 'hosts.yml'), prio);
    expect(inv.groups.get('a')?.priority).toBe(5);
  });
});
