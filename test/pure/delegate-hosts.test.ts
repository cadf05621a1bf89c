import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/index.js';
import { findUnknownDelegateHosts } from '../../src/playbook/delegate-hosts.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** A literal delegate_to must name an inventory host, localhost or a name that resolves, before anything runs. */

const INV = parseInventory(['web:', '  hosts:', '    web1:', 'db:', '  hosts:', '    db1:', ''].join('\n'), 'yaml');

/** Only `resolves.example` resolves: the check must not depend on this machine's DNS. */
const resolve = (name: string): Promise<unknown> => (name === 'resolves.example' ? Promise.resolve('192.0.2.1') : Promise.reject(new Error('ENOTFOUND')));

async function refusals(tasks: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-delegate-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, `- hosts: web\n  gather_facts: false\n  tasks:\n${tasks}`);
  const pb = await loadPlaybook(file);
  return (await findUnknownDelegateHosts(pb, INV, resolve)).map((e) => `${e.pos!.line}:${e.pos!.col} ${e.code} ${e.message} | ${e.hint}`);
}

describe('findUnknownDelegateHosts', () => {
  it('accepts inventory hosts, localhost, addresses, names that resolve and templates', async () => {
    const tasks = ['db1', 'localhost', '127.0.0.1', '198.18.0.12', 'resolves.example', '"{{ groups[\'db\'][0] }}"']
      .map((d) => `    - command: hostname\n      delegate_to: ${d}\n`)
      .join('');
    expect(await refusals(tasks)).toEqual([]);
  });

  it('refuses a name that is neither, at the delegate_to value, with the nearest inventory host', async () => {
    expect(await refusals('    - command: hostname\n      delegate_to: db2\n')).toEqual([
      "5:20 E_UNKNOWN_DELEGATE delegate_to: 'db2' is not an inventory host, and the name does not resolve to an address | did you mean 'db1'?",
    ]);
  });

  it("reports a block's delegate_to once, where the block writes it", async () => {
    const tasks = ['    - block:', '        - command: hostname', '        - command: uptime', '      delegate_to: nowhere-at-all', ''].join('\n');
    expect(await refusals(tasks)).toEqual([
      "7:20 E_UNKNOWN_DELEGATE delegate_to: 'nowhere-at-all' is not an inventory host, and the name does not resolve to an address | name a host of the inventory (web1, db1), localhost, or an address",
    ]);
  });
});
