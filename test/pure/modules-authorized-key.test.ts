import { describe, expect, it } from 'vitest';
import { authorizedKeyModule, parseKey, parseOptions, plannedContent } from '../../src/modules/authorized-key.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

const A = 'ssh-ed25519 AAAAkeyA alice@vp';
const B = 'ssh-rsa AAAAkeyB';
const plan = (key: string, existing: string, over: Partial<Parameters<typeof plannedContent>[0]> = {}): string | undefined =>
  plannedContent({ key, state: 'present', key_options: undefined, comment: undefined, exclusive: false, ...over }, existing);

describe("authorized_key's file edit, as Ansible's module computes it", () => {
  it('reads options with quoted commas and keys with their options and comments', () => {
    expect([...parseOptions('no-pty,from="a,b",command=\'x\'')]).toEqual([['no-pty', null], ['from', '"a,b"'], ['command', "'x'"]]);
    expect(parseKey('no-pty ssh-rsa AAAA c d', 0)).toMatchObject({ id: 'AAAA', type: 'ssh-rsa', comment: 'c d' });
    expect(parseKey('ssh-foo AAAA', 0)).toBeUndefined();
  });

  it('appends a new key, leaves a present one, and rewrites lines in its normal form (a key without comment keeps a trailing space)', () => {
    expect(plan(A, '')).toBe(`${A}\n`);
    expect(plan(A, `${A}\n`)).toBeUndefined();
    expect(plan(A, `# mine\n${B}\n`)).toBe(`# mine\n${B} \n${A}\n`);
  });

  it('replaces a key whose options or comment differ, removes, and makes the file exclusive', () => {
    expect(plan(A, `${A}\n`, { key_options: 'no-pty' })).toBe(`no-pty ${A}\n`);
    expect(plan(A, `${B}\n${A}\n`, { state: 'absent' })).toBe(`${B} \n`);
    expect(plan(A, `${B}\n${A}\n`, { state: 'absent', comment: 'other' })).toBe(`${B} \n`);
    expect(plan(A, `${B}\n# note\n${A}\n`, { exclusive: true })).toBe(`${A}\n`);
  });

  it('refuses an invalid key and a key URL', () => {
    expect(() => plan('ssh-foo AAAA', '')).toThrow('invalid key specified: ssh-foo AAAA');
    expect(checkArgs(authorizedKeyModule, { user: 'u', key: 'https://github.com/u.keys' })).toBe('authorized_key: keys from a URL are not supported by vncplay');
  });
});
