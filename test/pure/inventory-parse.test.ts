import { describe, expect, it } from 'vitest';
import { expandHostRange, iniValue, parseInventory, parsePythonLiteral, selectHosts, splitHostPort } from '../../src/inventory/index.js';
import { shellSplit } from '../../src/inventory/ini.js';

describe('Python literal values (INI inline vars)', () => {
  it.each<[string, unknown]>([
    ['2222', 2222],
    ['-5', -5],
    ['1_000', 1000],
    ['0x1F', 31],
    ['0o17', 15],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'03'", '03'],
    ['"a\\tb"', 'a\tb'],
    ["r'a\\tb'", 'a\\tb'],
    ["'a' 'b'", 'ab'],
    ['[1, "two", [3]]', [1, 'two', [3]]],
    ['(1,)', [1]],
    ['(1)', 1],
    ['1, 2', [1, 2]],
    ["{'a': 1, 'b': [True]}", { a: 1, b: [true] }],
    ['{1, 2}', [1, 2]],
    ['8080 # trailing comment', 8080],
  ])('%s evaluates', (text, value) => {
    expect(parsePythonLiteral(text)).toEqual({ ok: true, value });
  });

  it.each(['true', 'yes', 'hello world', '007', '1abc', '1j', 'ntp.example.com # c', "'unclosed", 'f"x"', '[1,', 'a=b', ''])(
    '%s is not a literal and stays text',
    (text) => {
      expect(parsePythonLiteral(text)).toEqual({ ok: false });
      expect(iniValue(text)).toBe(text);
    },
  );
});

describe('shell-like splitting of INI host lines', () => {
  it.each<[string, string[]]>([
    ['h a=1 b=2', ['h', 'a=1', 'b=2']],
    ['h x="a b" y=\'c d\'', ['h', 'x=a b', 'y=c d']],
    ['h x="say \\"hi\\"" y=a\\ b', ['h', 'x=say "hi"', 'y=a b']],
    ['h x="keep \\n as is"', ['h', 'x=keep \\n as is']],
    ['h pw=ab#c', ['h', 'pw=ab']],
    ['h # comment x=1', ['h']],
    ["h s=\"'07'\"", ['h', "s='07'"]],
  ])('%s', (line, tokens) => {
    expect(shellSplit(line).map((t) => t.text)).toEqual(tokens);
  });
  it('reports token offsets', () => {
    expect(shellSplit('  host  a=1').map((t) => t.start)).toEqual([2, 8]);
  });
  it('refuses an unclosed quote', () => {
    expect(() => shellSplit('h a="x')).toThrow(/no closing quotation/);
  });
});

describe('host entries and ranges', () => {
  it.each<[string, string, number | undefined]>([
    ['web1', 'web1', undefined],
    ['web1:2222', 'web1', 2222],
    ['192.0.2.1:22', '192.0.2.1', 22],
    ['web[01:03]:2200', 'web[01:03]', 2200],
    ['web[01:03]', 'web[01:03]', undefined],
    ['2001:db8::1', '2001:db8::1', undefined],
    ['[2001:db8::1]:2222', '2001:db8::1', 2222],
    ['host:abc', 'host:abc', undefined],
  ])('%s → %s port %s', (entry, pattern, port) => {
    expect(splitHostPort(entry)).toEqual(port === undefined ? { pattern } : { pattern, port });
  });

  it.each<[string, string[]]>([
    ['web[01:03].ex.com', ['web01.ex.com', 'web02.ex.com', 'web03.ex.com']],
    ['h[1:3]', ['h1', 'h2', 'h3']],
    ['h[:2]', ['h0', 'h1', 'h2']],
    ['h[0:10:5]', ['h0', 'h5', 'h10']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['r[1:2]n[a:b]', ['r1na', 'r1nb', 'r2na', 'r2nb']],
    ['h[08:10]', ['h08', 'h09', 'h10']],
  ])('%s expands', (pattern, names) => {
    expect(expandHostRange(pattern)).toEqual(names);
  });

  it.each<[string, RegExp]>([
    ['h[1:2:3:4]', /begin:end or begin:end:step/],
    ['h[1:]', /end value/],
    ['h[01:100]', /equal-length/],
    ['h[c:a]', /begin <= end/],
    ['h[1:x]', /numbers or single letters/],
    ['h[1:3', /unclosed/],
    ['h[1:3:0]', /step/],
  ])('%s is refused', (pattern, msg) => {
    expect(() => expandHostRange(pattern)).toThrow(msg);
  });
});

describe('YAML inventory', () => {
  const yaml = `
all:
  vars:
    answer: 42
    enabled: yes
    mode: 0755
    short: n
  hosts:
    top1:
  children:
    web:
      hosts:
        web[1:2]:
          http_port: 8080
        web3:2200:
      vars:
        role: web
    db:
      children:
        db_primary:
          hosts:
            db1: { ansible_host: 192.0.2.5 }
        db_replica:
          hosts: db2
ungrouped:
  hosts:
    loner:
`;
  const inv = parseInventory(yaml, 'yaml');

  it('creates hosts in declaration order with their own vars', () => {
    expect([...inv.hosts.keys()]).toEqual(['top1', 'web1', 'web2', 'web3', 'db1', 'db2', 'loner']);
    expect(inv.hosts.get('web1')!.vars).toEqual({ http_port: 8080 });
    expect(inv.hosts.get('web3')!.vars).toEqual({ ansible_port: 2200 });
    expect(inv.hosts.get('db1')!.vars).toEqual({ ansible_host: '192.0.2.5' });
  });

  it('reads YAML 1.1 scalars as Ansible (PyYAML) does', () => {
    expect(inv.groups.get('all')!.vars).toEqual({ answer: 42, enabled: true, mode: 493, short: 'n' });
    const s = parseInventory(
      'all:\n  vars:\n    on_: on\n    oct: 010\n    dec08: 08\n    hex: 0x1F\n    sexa: 1:30\n    exp: 1.5e3\n    exps: 1.5e+3\n    lead: .5\n    date: 2001-12-14\n    nul: ~\n',
      'yaml',
    );
    expect(s.groups.get('all')!.vars).toEqual({
      on_: true,
      oct: 8,
      dec08: '08',
      hex: 31,
      sexa: 90,
      exp: '1.5e3',
      exps: 1500,
      lead: 0.5,
      date: '2001-12-14',
      nul: null,
    });
  });

  it('builds the group tree with parents, children and depths', () => {
    const db = inv.groups.get('db')!;
    expect(db.children).toEqual(['db_primary', 'db_replica']);
    expect(db.parents).toEqual(['all']);
    expect(db.depth).toBe(1);
    expect(inv.groups.get('db_primary')!.depth).toBe(2);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'web', 'db']);
  });

  it('gives each host all its groups, ancestors and all included, in precedence order', () => {
    expect(inv.hosts.get('db1')!.groups).toEqual(['all', 'db', 'db_primary']);
    expect(inv.hosts.get('web1')!.groups).toEqual(['all', 'web']);
    expect(inv.hosts.get('top1')!.groups).toEqual(['all', 'ungrouped']);
    expect(inv.hosts.get('loner')!.groups).toEqual(['all', 'ungrouped']);
    // As in Ansible: `loner` is put in ungrouped while parsing, `top1` (only in all) when the inventory is reconciled.
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['loner', 'top1']);
  });

  it('records where a host was declared', () => {
    expect(inv.hosts.get('db1')!.pos).toEqual({ file: '<inventory>.yml', line: 22, col: 13 });
  });

  it('merges a host declared in two groups (later vars win) and a group declared twice', () => {
    const two = parseInventory(
      'a:\n  hosts:\n    h: {x: 1, y: 1}\n  vars: {v: 1}\nb:\n  hosts:\n    h: {y: 2}\n  children:\n    a:\n      vars: {w: 2}\n',
      'yaml',
    );
    expect(two.hosts.get('h')!.vars).toEqual({ x: 1, y: 2 });
    expect(two.hosts.get('h')!.groups).toEqual(['all', 'b', 'a']);
    expect(two.groups.get('a')!.vars).toEqual({ v: 1, w: 2 });
    expect(two.groups.get('a')!.parents).toEqual(['b']);
  });

  it('accepts empty groups, aliases and merge keys', () => {
    const inv2 = parseInventory(
      'all:\n  vars: &v {a: 1}\n  children:\n    empty:\n    g:\n      vars: *v\n      hosts:\n        h1: {<<: *v, p: 2}\n',
      'yaml',
    );
    expect(inv2.groups.has('empty')).toBe(true);
    expect(inv2.groups.get('g')!.vars).toEqual({ a: 1 });
    expect(inv2.hosts.get('h1')!.vars).toEqual({ a: 1, p: 2 });
    expect(inv2.warnings).toEqual([]);
  });

  it('warns about an empty file and gives an empty inventory', () => {
    const e = parseInventory('# nothing yet\n', 'yaml');
    expect(e.hosts.size).toBe(0);
    expect(e.warnings).toEqual(['<inventory>.yml: empty YAML inventory, no hosts in it']);
  });
});

describe('INI inventory', () => {
  const ini = `# comment
; another comment
top1 ansible_host=192.0.2.1

[web]
web[1:2].ex ansible_port=2222 label="front end" tags="['a', 'b']" quoted="'007'"
web3:2200   # trailing comment

[web:vars]
http_port=8080
ntp = ntp.example.com # not stripped: Ansible keeps it in a :vars string
flag=yes
enabled=True

[prod:children]
web
db

[db]
db1 ansible_host=192.0.2.5

[all:vars]
ansible_user=vncplay
`;
  const inv = parseInventory(ini, 'ini');

  it('reads hosts, ports and typed inline vars', () => {
    expect([...inv.hosts.keys()]).toEqual(['top1', 'web1.ex', 'web2.ex', 'web3', 'db1']);
    expect(inv.hosts.get('web1.ex')!.vars).toEqual({ ansible_port: 2222, label: 'front end', tags: ['a', 'b'], quoted: '007' });
    expect(inv.hosts.get('web3')!.vars).toEqual({ ansible_port: 2200 });
    expect(inv.hosts.get('top1')!.groups).toEqual(['all', 'ungrouped']);
  });

  it('reads :vars values with the same literal rules', () => {
    expect(inv.groups.get('web')!.vars).toEqual({
      http_port: 8080,
      ntp: 'ntp.example.com # not stripped: Ansible keeps it in a :vars string',
      flag: 'yes',
      enabled: true,
    });
    expect(inv.groups.get('all')!.vars).toEqual({ ansible_user: 'vncplay' });
  });

  it('links children declared before the child group itself', () => {
    expect(inv.groups.get('prod')!.children).toEqual(['web', 'db']);
    expect(inv.hosts.get('db1')!.groups).toEqual(['all', 'prod', 'db']);
    expect(inv.groups.get('db')!.depth).toBe(2);
  });

  it('records host positions', () => {
    expect(inv.hosts.get('web3')!.pos).toEqual({ file: '<inventory>.ini', line: 7, col: 1 });
  });

  it('moves a top host out of ungrouped when a section also lists it', () => {
    const i2 = parseInventory('h1\nh2\n[g]\nh1\n', 'ini');
    expect(i2.groups.get('ungrouped')!.hosts).toEqual(['h2']);
    expect(i2.hosts.get('h1')!.groups).toEqual(['all', 'g']);
  });

  it('lets [g:vars] come before [g] and an empty [g] declare a group', () => {
    const i3 = parseInventory('[g:vars]\nx=1\n[parent:children]\ng\n[g]\n', 'ini');
    expect(i3.groups.get('g')!.vars).toEqual({ x: 1 });
    expect(i3.groups.get('g')!.parents).toEqual(['parent']);
  });

  it('warns, as Ansible, when a host and a group share a name (the bare name then selects the host only)', () => {
    const i5 = parseInventory('[web]\nweb\nw2\n', 'ini');
    expect(i5.warnings).toEqual(['Found both group and host with same name: web']);
    expect(selectHosts(i5, 'web')).toEqual(['web']);
  });

  it('uses ansible_group_priority for equal-depth groups', () => {
    const i4 = parseInventory('[b]\nh\n[a]\nh\n[b:vars]\nansible_group_priority=0\n', 'ini');
    expect(i4.hosts.get('h')!.groups).toEqual(['all', 'b', 'a']);
    // A group property, not a variable (Ansible's Group.set_variable).
    expect(i4.groups.get('b')!.vars).toEqual({});
    expect(i4.groups.get('b')!.priority).toBe(0);
  });
});
