import { describe, expect, it } from 'vitest';
import { assembleFragments, assembleModule } from '../../src/modules/assemble.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

const frag = (name: string, text: string): { name: string; content: Buffer } => ({ name, content: Buffer.from(text) });
const none = { delimiter: undefined, regexp: undefined, ignore_hidden: false };

describe("assemble's join, as Ansible's assemble_from_fragments", () => {
  it('orders by name and adds a newline after a fragment without one', () => {
    expect(assembleFragments([frag('b', 'B'), frag('a', 'A\n'), frag('c', 'C')], none).toString()).toBe('A\nB\nC');
  });

  it('puts the decoded delimiter, then a newline, between fragments only', () => {
    expect(assembleFragments([frag('1', 'x\n'), frag('2', 'y\n')], { ...none, delimiter: '--\\t--' }).toString()).toBe('x\n--\t--\ny\n');
    expect(assembleFragments([frag('1', 'x\n')], { ...none, delimiter: '--' }).toString()).toBe('x\n');
  });

  it('filters by a Python regexp (search) and hidden names', () => {
    const all = [frag('.h', 'h\n'), frag('10-a', 'a\n'), frag('x10', 'x\n')];
    expect(assembleFragments(all, { ...none, regexp: '10' }).toString()).toBe('a\nx\n');
    expect(assembleFragments(all, { ...none, regexp: '^(?P<n>\\d)', ignore_hidden: true }).toString()).toBe('a\n');
    expect(assembleFragments(all, { ...none, ignore_hidden: true }).toString()).toBe('a\nx\n');
  });

  it('refuses a regexp Python would not compile at load time', () => {
    expect(checkArgs(assembleModule, { src: '/s', dest: '/d', regexp: '(' })).toMatch(/^assemble: Invalid Regexp/);
  });
});
