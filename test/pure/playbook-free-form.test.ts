import { describe, expect, it } from 'vitest';
import { coerceToSchemaType, parseKeyValue, splitArgs } from '../../src/playbook/free-form.js';

describe('splitArgs (Ansible split_args)', () => {
  const table: [string, string[]][] = [
    ['path=/x state=touch', ['path=/x', 'state=touch']],
    ['  a=1   b=2 ', ['a=1', 'b=2']],
    ['msg="hello world" x=1', ['msg="hello world"', 'x=1']],
    ["msg='it''s' y", ["msg='it''s'", 'y']],
    ['msg={{ a | default("b c") }} z=1', ['msg={{ a | default("b c") }}', 'z=1']],
    ['msg="{% if x %}a b{% endif %}"', ['msg="{% if x %}a b{% endif %}"']],
    ['echo "a \\" b" c', ['echo', '"a \\" b"', 'c']],
    ['', []],
  ];
  for (const [input, tokens] of table) {
    it(JSON.stringify(input), () => expect(splitArgs(input)).toEqual(tokens));
  }
});

describe('parseKeyValue', () => {
  it('splits at the first = and unquotes the value', () => {
    expect(parseKeyValue('msg="a b"')).toEqual(['msg', 'a b']);
    expect(parseKeyValue("x='1=2'")).toEqual(['x', '1=2']);
    expect(parseKeyValue('cmd=a=b')).toEqual(['cmd', 'a=b']);
    expect(parseKeyValue('msg="say \\"hi\\""')).toEqual(['msg', 'say "hi"']);
  });
  it("decodes backslash escapes as Ansible's parse_kv does (octal escapes stay as written)", () => {
    expect(parseKeyValue(String.raw`content=a\nb\tc`)).toEqual(['content', 'a\nb\tc']);
    expect(parseKeyValue(String.raw`content="x\x41\u00e9\U0001F600 \"q\" \\n \101"`)).toEqual(['content', 'xAé😀 "q" \\n \\101']);
    expect(parseKeyValue(String.raw`content='a\nb'`)).toEqual(['content', 'a\nb']);
    expect(parseKeyValue(String.raw`path=C:\temp`)).toEqual(['path', 'C:\temp']);
  });
  it('refuses non key=value tokens', () => {
    expect(parseKeyValue('/tmp/x')).toBeUndefined();
    expect(parseKeyValue('/tmp/x=1')).toBeUndefined();
    expect(parseKeyValue('=1')).toBeUndefined();
  });
});

describe('coerceToSchemaType', () => {
  const table: [string, unknown, unknown][] = [
    ['yes', { type: 'boolean' }, true],
    ['False', { type: 'boolean' }, false],
    ['maybe', { type: 'boolean' }, 'maybe'],
    ['5901', { type: 'integer' }, 5901],
    ['1.5', { type: 'number' }, 1.5],
    ['0644', { type: 'string' }, '0644'],
    ['{{ x }}', { type: 'integer' }, '{{ x }}'],
    ['7', undefined, '7'],
  ];
  for (const [v, schema, want] of table) {
    it(`${v} as ${JSON.stringify(schema)}`, () => expect(coerceToSchemaType(v, schema)).toEqual(want));
  }
});
