import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, loadPlaybookVars, parseInventory, type Inventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { findUnknownHostPatterns, findUnmatchedHostPatterns, plainPatternNames, unknownPatternNames } from '../../src/playbook/unknown-patterns.js';

/**
 * A play's `hosts:` naming a group or host the inventory lacks: a near miss of a name it has (a typo) is refused
 * (E_UNKNOWN_PATTERN), not skipped; any other name gets Ansible's warning, and the play is skipped as in Ansible.
 */

const INV = parseInventory(
  ['vnc_servers:', '  hosts:', '    h1:', '    h2:', 'drill:', '  hosts:', '    h2:', "'198.18.0.13':", '  hosts:', '    h3:', ''].join('\n'),
  'yaml',
);

function playbookFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-patterns-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, text);
  return file;
}

async function refusals(text: string, extraVars: Record<string, unknown> = {}, inv: Inventory = INV): Promise<string[]> {
  const pb = await loadPlaybook(playbookFile(text));
  return (await findUnknownHostPatterns(pb, inv, extraVars)).map((e) => `${e.pos!.line}:${e.pos!.col} ${e.message} | ${e.hint}`);
}

async function warnings(text: string, extraVars: Record<string, unknown> = {}, inv: Inventory = INV): Promise<string[]> {
  return findUnmatchedHostPatterns(await loadPlaybook(playbookFile(text)), inv, extraVars);
}

describe('plainPatternNames: the terms that must name a group or host', () => {
  it.each<[string, string[]]>([
    ['vnc_servers', ['vnc_servers']],
    ['vnc_servers:drill', ['vnc_servers', 'drill']],
    ['vnc_servers,drill, h3', ['vnc_servers', 'drill', 'h3']],
    ['vnc_servers:&drill:!h1', ['vnc_servers', 'drill', 'h1']],
    ['all:!h1', ['h1']],
    ['all', []],
    ['localhost', []],
    ['127.0.0.1', []],
    ['ungrouped:!all', []],
    ['web*:db?:~vnc\\d+', []],
    ['vnc_servers[0]:vnc_servers[1:2]', []],
    ['h[1:3]', []],
    ['@hosts.retry', []],
    ['fe80::1', ['fe80::1']],
    ['', []],
  ])('%j → %j', (pattern, names) => {
    expect(plainPatternNames(pattern)).toEqual(names);
  });

  it('unknownPatternNames keeps only names that are neither a group nor a declared host', () => {
    expect(unknownPatternNames(INV, 'vnc_servers:&drill:!h1:198.18.0.13')).toEqual([]);
    expect(unknownPatternNames(INV, 'vnc_servres,h9,drill,web*')).toEqual(['vnc_servres', 'h9']);
    // The implicit localhost is not a declared host, but `localhost` is always allowed.
    expect(unknownPatternNames(INV, 'localhost')).toEqual([]);
  });
});

describe('findUnknownHostPatterns: positioned errors with a hint', () => {
  it('points at a near-miss name in a plain, quoted or list value, with its did-you-mean; other names are warnings', async () => {
    const text = [
      '- hosts: vnc_servres', //                      1
      '  tasks: [{debug: {msg: a}}]',
      '- hosts: "vnc_servers:&drill:!nosuchthing"', // 3
      '  tasks: [{debug: {msg: a}}]',
      '- hosts: [h1, h2, drll]', //                  5
      '  tasks: [{debug: {msg: a}}]',
      '- hosts: "all:!h1"',
      '  tasks: [{debug: {msg: a}}]',
      '',
    ].join('\n');
    expect(await refusals(text)).toEqual([
      "1:10 hosts: 'vnc_servres' is neither a group nor a host of the inventory | did you mean 'vnc_servers'?",
      "5:19 hosts: 'drll' is neither a group nor a host of the inventory | did you mean 'drill'?",
    ]);
    expect(await warnings(text)).toEqual(['Could not match supplied host pattern, ignoring: nosuchthing']);
  });

  it('a templated pattern is rendered with -e first; one that does not render is left to the undefined check', async () => {
    const text = '- hosts: "{{ vnc_hosts | default(\'vnc\') }}"\n  tasks: [{debug: {msg: a}}]\n- hosts: "{{ nope }}"\n  tasks: [{debug: {msg: a}}]\n';
    expect(await refusals(text)).toEqual([]);
    expect(await warnings(text)).toEqual(['Could not match supplied host pattern, ignoring: vnc']);
    expect(await refusals(text, { vnc_hosts: 'vnc_servrs' })).toEqual([
      `1:10 hosts: 'vnc_servrs' (from "{{ vnc_hosts | default('vnc') }}") is neither a group nor a host of the inventory | did you mean 'vnc_servers'?; or choose the hosts with -e vnc_hosts=…`,
    ]);
    expect(await refusals(text, { vnc_hosts: 'vnc_servers', nope: 'drill' })).toEqual([]);
    expect(await refusals(text, { vnc_hosts: 'vnc_servers', nope: 'dril' })).toEqual([
      `3:10 hosts: 'dril' (from "{{ nope }}") is neither a group nor a host of the inventory | did you mean 'drill'?; or choose the hosts with -e nope=…`,
    ]);
  });

  it('a group a host list (-i localhost,) lacks is not a typo: Ansible warns and skips the play, so does vncplay', async () => {
    const hostList = parseInventory('localhost,', 'ini');
    const text = '- hosts: webservers\n  tasks: [{debug: {msg: a}}]\n- hosts: "tomcat-servers:&dbservers"\n  tasks: [{debug: {msg: a}}]\n';
    expect(await refusals(text, {}, hostList)).toEqual([]);
    expect(await warnings(text, {}, hostList)).toEqual([
      'Could not match supplied host pattern, ignoring: webservers',
      'Could not match supplied host pattern, ignoring: tomcat-servers',
      'Could not match supplied host pattern, ignoring: dbservers',
    ]);
    const flat = parseInventory('[ungrouped]\nbox1\n', 'ini');
    expect((await refusals('- hosts: box2\n  tasks: [{debug: {msg: a}}]\n', {}, flat))[0]).toMatch(/did you mean 'box1'/);
  });

  it('accepts the shipped playbooks with the demo and the example inventory, and refuses a drill group that is missing', async () => {
    const demo = await loadInventory(['inventories/demo.yml'], process.cwd());
    const prod = await loadInventory(['inventories/prod.example.yml'], process.cwd());
    for (const f of ['restart', 'vnc-setup', 'harden', 'failover-drill']) {
      const pb = await loadPlaybook(`playbooks/${f}.yml`);
      await loadPlaybookVars(demo, path.dirname(path.resolve(pb.file)));
      expect(await findUnknownHostPatterns(pb, demo, {}), `${f} with demo`).toEqual([]);
      expect(await findUnknownHostPatterns(pb, prod, {}), `${f} with prod.example`).toEqual([]);
      // Ansible would skip the play silently; a typo'd group is refused where the play names it.
      const errors = await findUnknownHostPatterns(pb, prod, { drill_hosts: 'vnc_failovre' });
      expect(errors.map((e) => e.pos?.line), f).toEqual(f === 'failover-drill' ? [39, 186] : []);
    }
  });

  it('accepts the fixture playbook that has its own inventory', async () => {
    const dir = 'test/fixtures/playbooks/undefined-ok';
    const inv = await loadInventory([path.join(dir, 'inventory.yml')], process.cwd());
    expect(await findUnknownHostPatterns(await loadPlaybook(path.join(dir, 'site.yml')), inv, {})).toEqual([]);
  });
});
