import { describe, expect, it } from 'vitest';
import { ErrorList, InventoryError, VncplayError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/index.js';

/** The errors a parse throws, flattened (one error is thrown as is, several as an ErrorList). */
function errorsOf(text: string, format: 'yaml' | 'ini'): VncplayError[] {
  try {
    parseInventory(text, format);
  } catch (e) {
    if (e instanceof ErrorList) return e.errors;
    if (e instanceof VncplayError) return [e];
    throw e;
  }
  throw new Error('expected the inventory to be refused');
}

function one(text: string, format: 'yaml' | 'ini'): InventoryError {
  const errs = errorsOf(text, format);
  expect(errs).toHaveLength(1);
  expect(errs[0]).toBeInstanceOf(InventoryError);
  return errs[0] as InventoryError;
}

describe('YAML inventory errors', () => {
  it.each<[string, string, string, string, number, number, RegExp | undefined]>([
    ['not a mapping', '- web1\n- web2\n', 'E_INV_NOT_MAPPING', 'a YAML inventory must be a mapping of group names, found a list', 1, 1, /start with `all:`/],
    ['a scalar file', 'web1\n', 'E_INV_NOT_MAPPING', "a YAML inventory must be a mapping of group names, found the string 'web1'", 1, 1, undefined],
    ['unknown key with a close name', 'web:\n  host:\n    w1:\n', 'E_INV_UNKNOWN_KEY', "unknown key 'host' in group 'web'; a group has only hosts, children and vars", 2, 3, /did you mean 'hosts'\?/],
    ['a host directly under a group', 'web:\n  w1.example.com:\n', 'E_INV_UNKNOWN_KEY', "unknown key 'w1.example.com' in group 'web'; a group has only hosts, children and vars", 2, 3, /put it under `hosts:`/],
    ['hosts as a list', 'web:\n  hosts:\n    - w1\n    - w2\n', 'E_INV_BAD_SECTION', "'hosts' of group 'web' must be a mapping, found a list", 3, 5, /not as a '- item' list/],
    ['vars as a list', 'web:\n  vars:\n    - a\n', 'E_INV_BAD_SECTION', "'vars' of group 'web' must be a mapping, found a list", 3, 5, undefined],
    ['a group that is a list', 'web:\n  - w1\n', 'E_INV_BAD_GROUP', "group 'web' must be a mapping with hosts, children or vars, found a list", 2, 3, /hosts:/],
    ['host vars not a mapping', 'web:\n  hosts:\n    w1: 192.0.2.1\n', 'E_INV_BAD_HOST_VARS', "vars of host 'w1' must be a mapping, found the string '192.0.2.1'", 3, 9, /ansible_host/],
    ['a numeric host name', 'web:\n  hosts:\n    1234:\n', 'E_INV_BAD_NAME', 'host name 1234 must be a string', 3, 5, /quote it/],
    ['an empty host name', 'web:\n  hosts:\n    "":\n', 'E_INV_EMPTY_HOST', 'empty host name', 3, 5, undefined],
    ['a bad range', 'web:\n  hosts:\n    w[3:1]:\n', 'E_INV_RANGE', "bad host range in 'w[3:1]': host range must have begin <= end, got '[3:1]'", 3, 5, undefined],
    ['a plugin config', 'plugin: aws_ec2\nregions: [eu-west-1]\n', 'E_INV_PLUGIN', 'this is an inventory plugin configuration (`plugin:`), not a YAML inventory', 1, 1, /not supported/],
    ['a YAML syntax error', 'web:\n  hosts: [w1\n', 'E_INV_YAML_SYNTAX', 'YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]', 3, 1, /fix the YAML syntax/],
    ['a tab in indentation', 'web:\n\thosts:\n', 'E_INV_YAML_SYNTAX', 'YAML syntax: Tabs are not allowed as indentation', 2, 1, /line 2 is indented with a tab/],
    [
      'aliases of aliases (a billion laughs)',
      'all:\n  vars:\n    a: &a [x, x, x, x, x, x, x, x, x]\n    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n    d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
      'E_INV_YAML_ALIAS',
      "alias `*b` repeats a value that holds aliases itself: the file's aliases would expand to more than 100 copies",
      5,
      12,
      /write the repeated values out/,
    ],
    ['an alias to no anchor', 'all:\n  vars:\n    a: *nowhere\n', 'E_INV_YAML_ALIAS', 'alias `*nowhere` names no anchor defined before it', 3, 8, /define `&nowhere`/],
  ])('%s', (_name, text, code, message, line, col, hint) => {
    const e = one(text, 'yaml');
    expect(e.code).toBe(code);
    if (message) expect(e.message).toBe(message);
    if (line) expect(e.pos).toEqual({ file: '<inventory>.yml', line, col });
    if (hint) expect(e.hint ?? '').toMatch(hint);
    expect(e.format()).toContain('^');
  });

  it('reports a duplicate key (PyYAML would keep the last silently) and still checks the rest', () => {
    const errs = errorsOf('web:\n  hosts:\n    h1: {p: 1}\n    h1: {p: 2}\n  hostz:\n', 'yaml');
    expect(errs.map((e) => [e.code, e.message, e.pos?.line, e.pos?.col])).toEqual([
      ['E_INV_DUPLICATE_KEY', "duplicate key 'h1': each key may appear once in a mapping", 4, 5],
      ['E_INV_UNKNOWN_KEY', "unknown key 'hostz' in group 'web'; a group has only hosts, children and vars", 5, 3],
    ]);
  });

  it('names a cycle in children', () => {
    const e = one('a:\n  children:\n    b:\n      children:\n        c:\n          children:\n            a:\n', 'yaml');
    expect(e.code).toBe('E_INV_CYCLE');
    expect(e.message).toBe("group 'b' as a child of 'a' makes a loop: a → b → c → a");
    expect(e.pos).toEqual({ file: '<inventory>.yml', line: 3, col: 5 });
  });

  it('refuses `all` as a child', () => {
    const e = one('web:\n  children:\n    all:\n', 'yaml');
    expect(e.message).toBe("group 'all' as a child of 'web' makes a loop: web → all → web");
  });

  it('collects every error of a file at once', () => {
    const errs = errorsOf('web:\n  host:\n    w1:\ndb:\n  hosts:\n    - d1\nlb:\n  hosts:\n    l1: x\n', 'yaml');
    expect(errs.map((e) => [e.code, e.pos?.line])).toEqual([
      ['E_INV_UNKNOWN_KEY', 2],
      ['E_INV_BAD_SECTION', 6],
      ['E_INV_BAD_HOST_VARS', 9],
    ]);
  });

  it('formats with file:line:col, excerpt, caret and hint', () => {
    expect(one('web:\n  host:\n    w1:\n', 'yaml').format()).toBe(
      [
        "<inventory>.yml:2:3: error[E_INV_UNKNOWN_KEY]: unknown key 'host' in group 'web'; a group has only hosts, children and vars",
        '1 | web:',
        '2 |   host:',
        '  |   ^',
        "hint: did you mean 'hosts'?",
      ].join('\n'),
    );
  });
});

describe('a host with an empty address', () => {
  it.each<[string, string, 'yaml' | 'ini', string, number, number]>([
    ['empty ansible_host on the host', 'web:\n  hosts:\n    w1:\n      ansible_host: ""\n', 'yaml', "host 'w1' has an empty ansible_host (set in its host vars)", 3, 5],
    ['null ansible_host on the host', 'web:\n  hosts:\n    w1:\n      ansible_host:\n', 'yaml', "host 'w1' has an empty ansible_host (set in its host vars)", 3, 5],
    ['empty ansible_host from a group', '[web]\nw1\n[web:vars]\nansible_host=\n', 'ini', "host 'w1' has an empty ansible_host (set in the inventory vars of group 'web')", 2, 1],
  ])('%s', (_n, text, format, message, line, col) => {
    const e = one(text, format);
    expect(e.code).toBe('E_INV_EMPTY_ADDRESS');
    expect(e.message).toBe(message);
    expect(e.pos).toMatchObject({ line, col });
    expect(e.hint).toMatch(/DNS name or IP address/);
  });

  it('is fine without ansible_host (the name is the address) and when a host overrides an empty group value', () => {
    expect(() => parseInventory('[web]\nw1\nw2 ansible_host=192.0.2.1\n[web:vars]\n', 'ini')).not.toThrow();
    expect(() => parseInventory('[web]\nw1 ansible_host=192.0.2.1\n[web:vars]\nansible_host=\n', 'ini')).not.toThrow();
  });
});

describe('INI inventory errors', () => {
  it.each<[string, string, string, string, number, number, RegExp | undefined]>([
    ['unknown section type', '[web:var]\nx=1\n', 'E_INV_INI_SECTION', "section [web:var] has unknown type 'var'", 1, 6, /did you mean \[web:vars\]\?/],
    ['a section with spaces', '[web servers]\n', 'E_INV_INI_SECTION', "invalid section header '[web servers]'", 1, 1, /no spaces/],
    ['a vars line without =', '[web]\n[web:vars]\nhttp_port 80\n', 'E_INV_INI_LINE', "expected key=value in [web:vars], got 'http_port 80'", 3, 1, /one variable per line/],
    ['a host var without =', '[web]\nw1 ansible_port\n', 'E_INV_INI_LINE', "expected key=value after host 'w1', got 'ansible_port'", 2, 4, /quote values/],
    ['a variable where a host belongs', '[web]\nhttp_port=80\n', 'E_INV_INI_LINE', "expected a host name in [web], got the assignment 'http_port=80'", 2, 1, /\[web:vars\]/],
    ['an unclosed quote', '[web]\nw1 motd="hello\n', 'E_INV_INI_LINE', 'cannot parse host line: no closing quotation', 2, 9, undefined],
    ['a bad children line', '[prod:children]\nweb db\n', 'E_INV_INI_LINE', "expected a group name in [prod:children], got 'web db'", 2, 1, /one child group/],
    ['a bad range', '[web]\nw[01:9]\n', 'E_INV_RANGE', "bad host range in 'w[01:9]': host range must specify equal-length begin and end formats, got '[01:9]'", 2, 1, undefined],
    ['YAML given as INI', '---\nall:\n', 'E_INV_INI_LINE', "'---' in an INI inventory", 1, 1, /\.yml/],
    ['a host ending in a colon', '[web]\nw1:\n', 'E_INV_INI_LINE', "host 'w1:' ends with ':'", 2, 1, undefined],
    ['an undefined child group', '[prod:children]\nwebservres\n[webservers]\nw1\n', 'E_INV_UNDEFINED_GROUP', "section [prod:children] includes undefined group 'webservres'", 2, 1, /did you mean 'webservers'\?/],
    ['vars for an undefined group', '[web:vars]\nx=1\n', 'E_INV_UNDEFINED_GROUP', 'section [web:vars] is for a group that is never defined', 1, 2, /\[web\] section/],
  ])('%s', (_name, text, code, message, line, col, hint) => {
    const e = one(text, 'ini');
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(e.pos).toEqual({ file: '<inventory>.ini', line, col });
    if (hint) expect(e.hint ?? '').toMatch(hint);
  });

  it('names a cycle through :children sections', () => {
    const e = one('[a:children]\nb\n[b:children]\nc\n[c:children]\na\n', 'ini');
    expect(e.code).toBe('E_INV_CYCLE');
    expect(e.message).toBe("group 'a' as a child of 'c' makes a loop: c → a → b → c");
    expect(e.pos).toEqual({ file: '<inventory>.ini', line: 6, col: 1 });
  });

  it('skips the lines of a section it could not read instead of misreading them as hosts', () => {
    const errs = errorsOf('[web:hostz]\nnot a host line at all\n[db]\nd1\n', 'ini');
    expect(errs.map((e) => e.code)).toEqual(['E_INV_INI_SECTION']);
  });

  it('collects every error of a file at once', () => {
    const errs = errorsOf('[web]\nw1 a\n[web:vars]\nnope\n[x:children]\nmissing\n', 'ini');
    expect(errs.map((e) => [e.code, e.pos?.line])).toEqual([
      ['E_INV_INI_LINE', 2],
      ['E_INV_INI_LINE', 4],
      ['E_INV_UNDEFINED_GROUP', 6],
    ]);
  });
});
