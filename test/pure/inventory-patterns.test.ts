import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError } from '../../src/errors.js';
import { groupHosts, matchHosts, parseInventory, selectHosts, splitPattern } from '../../src/inventory/index.js';

const INI = `
bastion
[web]
web1
web2
web3
[db]
db1
db2
[h]
[lab]
h1
h2
h10
[prod:children]
web
db
[staging]
web3
stage1
`;

function inv(): ReturnType<typeof parseInventory> {
  return parseInventory(INI, 'ini');
}

describe('splitPattern (Ansible split_host_pattern)', () => {
  it.each<[string, string[]]>([
    ['web', ['web']],
    ['web:db', ['web', 'db']],
    ['web,db', ['web', 'db']],
    ['web, db ,', ['web', 'db']],
    ['web:!db:&prod', ['web', '!db', '&prod']],
    ['web[0:1]:db', ['web[0:1]', 'db']],
    ['2001:db8::1', ['2001:db8::1']],
    ['a:b,c', ['a:b', 'c']],
  ])('%s', (p, terms) => {
    expect(splitPattern(p)).toEqual(terms);
  });
});

describe('selectHosts', () => {
  it.each<[string, string[]]>([
    // Breadth first, as `ansible all --list-hosts`: hosts of top-level groups before those of prod's children.
    ['all', ['bastion', 'h1', 'h2', 'h10', 'web3', 'stage1', 'web1', 'web2', 'db1', 'db2']],
    ['*', ['bastion', 'h1', 'h2', 'h10', 'web3', 'stage1', 'web1', 'web2', 'db1', 'db2']],
    ['staging', ['web3', 'stage1']],
    ['web', ['web1', 'web2', 'web3']],
    ['web1', ['web1']],
    ['prod', ['web1', 'web2', 'web3', 'db1', 'db2']],
    ['ungrouped', ['bastion']],
    // Unions keep the order of the terms, as Ansible runs them.
    ['db:web', ['db1', 'db2', 'web1', 'web2', 'web3']],
    ['db,web1', ['db1', 'db2', 'web1']],
    ['prod:&staging', ['web3']],
    ['&staging:prod', ['web3']],
    ['prod:!db', ['web1', 'web2', 'web3']],
    ['prod:!web2:!db1', ['web1', 'web3', 'db2']],
    ['!prod', ['bastion', 'h1', 'h2', 'h10', 'stage1']],
    ['web*', ['web1', 'web2', 'web3']],
    ['*1', ['web1', 'db1', 'h1', 'stage1']],
    ['all:&*1', ['h1', 'stage1', 'web1', 'db1']],
    ['db?', ['db1', 'db2']],
    ['web[!1]', ['web2', 'web3']],
    ['d[a-c]?', ['db1', 'db2']],
    // A digits-only bracket is a subscript in Ansible, never a character class: h[12] is host #12 of `h`.
    ['h[12]', []],
    ['h[!1]*', ['h2']],
    ['~web[12]', ['web1', 'web2']],
    ['~h\\d+', ['h1', 'h2', 'h10']],
    ['~(db|stage)', ['db1', 'db2', 'stage1']],
    ['web[0]', ['web1']],
    ['web[-1]', ['web3']],
    ['web[0:1]', ['web1', 'web2']],
    ['web[1:]', ['web2', 'web3']],
    ['prod[3:4]', ['db1', 'db2']],
    // `x[i-j]`: Ansible's removed subscript form, kept when x names something…
    ['web[0-1]', ['web1', 'web2']],
    // …and a glob character class when it does not (there is no group or host `h` with hosts).
    ['lab:&h[1-2]', ['h1', 'h2']],
  ])('%s', (pattern, hosts) => {
    expect(selectHosts(inv(), pattern)).toEqual(hosts);
  });

  it('matches names case-sensitively, like fnmatch on Linux', () => {
    expect(selectHosts(inv(), 'WEB*')).toEqual([]);
  });

  it('warns about terms that match nothing, once each', () => {
    expect(matchHosts(inv(), 'web:nosuch:!alsonot:nosuch')).toEqual({
      hosts: ['web1', 'web2', 'web3'],
      warnings: ['Could not match supplied host pattern, ignoring: nosuch', 'Could not match supplied host pattern, ignoring: alsonot'],
    });
  });

  it('does not warn for an empty group that exists', () => {
    expect(matchHosts(inv(), 'h')).toEqual({ hosts: [], warnings: [] });
  });

  it('applies a --limit on top of the pattern', () => {
    expect(matchHosts(inv(), 'prod', { limit: 'web2,db*' }).hosts).toEqual(['web2', 'db1', 'db2']);
    expect(matchHosts(inv(), 'prod', { limit: '!web' }).hosts).toEqual(['db1', 'db2']);
    expect(matchHosts(inv(), 'prod', { limit: 'nothere' })).toEqual({
      hosts: [],
      warnings: ['Could not match supplied host pattern, ignoring: nothere'],
    });
  });

  it('reads @file patterns (a .retry file) relative to cwd', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-retry-'));
    writeFileSync(path.join(dir, 'site.retry'), 'web2\ndb1\n\n');
    expect(selectHosts(inv(), 'all', { limit: '@site.retry', cwd: dir })).toEqual(['web2', 'db1']);
    expect(selectHosts(inv(), '@site.retry:!db', { cwd: dir })).toEqual(['web2']);
    writeFileSync(path.join(dir, 'empty.retry'), '\n');
    expect(selectHosts(inv(), 'all', { limit: '@empty.retry', cwd: dir })).toEqual([]);
    expect(() => selectHosts(inv(), 'all', { limit: '@missing.retry', cwd: dir })).toThrow(/cannot read limit file @missing.retry: ENOENT/);
  });

  it('refuses an out-of-range index and a bad regex with InventoryError', () => {
    const e1 = catchErr(() => selectHosts(inv(), 'web[5]'));
    expect(e1.code).toBe('E_PATTERN_SUBSCRIPT');
    expect(e1.message).toBe("no host at index 5 in 'web[5]' (it matches 3 host(s))");
    const e2 = catchErr(() => selectHosts(inv(), '~web('));
    expect(e2.code).toBe('E_PATTERN_INVALID');
  });
});

describe('implicit localhost', () => {
  it('appears when a pattern names localhost and the inventory does not have it', () => {
    const i = inv();
    expect(selectHosts(i, 'localhost')).toEqual(['localhost']);
    const h = i.hosts.get('localhost')!;
    expect(h.implicit).toBe(true);
    expect(h.vars['ansible_connection']).toBe('local');
    expect(h.groups).toEqual([]);
    // …but it is not part of `all` or of globs, as in Ansible.
    expect(selectHosts(i, 'all')).not.toContain('localhost');
    expect(selectHosts(i, 'local*')).toEqual([]);
    expect(selectHosts(i, 'web1:localhost')).toEqual(['web1', 'localhost']);
  });

  it('is not created when the inventory declares localhost (then it is an ordinary host)', () => {
    const i = parseInventory('localhost ansible_port=2222\n', 'ini');
    expect(selectHosts(i, 'localhost')).toEqual(['localhost']);
    expect(i.hosts.get('localhost')!.implicit).toBeUndefined();
  });
});

describe('groupHosts', () => {
  it('lists own hosts first, then the children\'s, then the grandchildren\'s (breadth first, as Ansible)', () => {
    const i = parseInventory('[gc]\ng1\n[p]\nz1\n[p:children]\nc\n[c]\nc1\n[c:children]\ngc\n', 'ini');
    expect(groupHosts(i, 'p')).toEqual(['z1', 'c1', 'g1']);
    expect(groupHosts(i, 'c')).toEqual(['c1', 'g1']);
    expect(groupHosts(i, 'nope')).toEqual([]);
  });
});

function catchErr(fn: () => unknown): InventoryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InventoryError) return e;
    throw e;
  }
  throw new Error('expected an InventoryError');
}
