import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprintSha256,
  hashHostName,
  hostFieldMatches,
  hostKeyName,
  KnownHostsStore,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/connection/known-hosts.js';

interface TestKey {
  type: string;
  b64: string;
  blob: Buffer;
  /** what `ssh-keygen -lf` prints, e.g. "256 SHA256:abc… comment (ED25519)" */
  keygenLine: string;
}

const dir = mkdtempSync(join(tmpdir(), 'vp-kh-'));

/** Real keys from ssh-keygen, so fingerprints and blobs are checked against OpenSSH itself. */
function makeKey(name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): TestKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', path]);
  const [keyType, b64] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ') as [string, string];
  const keygenLine = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).trim();
  return { type: keyType, b64, blob: Buffer.from(b64, 'base64'), keygenLine };
}

let ed: TestKey;
let ed2: TestKey;
let ec: TestKey;
let rsa: TestKey;

beforeAll(() => {
  ed = makeKey('ed', 'ed25519');
  ed2 = makeKey('ed2', 'ed25519');
  ec = makeKey('ec', 'ecdsa');
  rsa = makeKey('rsa', 'rsa');
});

describe('fingerprints and key blobs', () => {
  it('prints SHA256 fingerprints exactly like ssh-keygen -lf', () => {
    for (const k of [ed, ec, rsa]) {
      expect(k.keygenLine).toContain(` ${fingerprintSha256(k.blob)} `);
    }
  });
  it('reads the key type from the blob', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(ec.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
    expect(keyTypeOf(Buffer.from([0, 0]))).toBe('');
  });
});

describe('host field matching', () => {
  const table: Array<[string, string[], boolean]> = [
    ['h1', ['h1'], true],
    ['H1', ['h1'], true],
    ['h1,198.18.0.11', ['198.18.0.11'], true],
    ['h1,198.18.0.11', ['198.18.0.12'], false],
    ['[198.18.0.11]:2222', ['[198.18.0.11]:2222'], true],
    ['[198.18.0.11]:2222', ['198.18.0.11'], false],
    ['198.18.0.11', ['[198.18.0.11]:2222'], false],
    ['198.18.0.*', ['198.18.0.42'], true],
    ['198.18.0.?', ['198.18.0.42'], false],
    ['*.example.com,!bad.example.com', ['good.example.com'], true],
    ['*.example.com,!bad.example.com', ['bad.example.com'], false],
    ['a.b', ['aXb'], false], // the dot is literal
    ['*', ['anything'], true],
  ];
  it.each(table)('%s vs %j → %s', (field, names, want) => {
    expect(hostFieldMatches(field, names)).toBe(want);
  });

  it('matches hashed entries written by ssh-keygen -H, for both port forms', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `198.18.0.11 ${ed.type} ${ed.b64}\n[198.18.0.12]:2222 ${ed.type} ${ed.b64}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const { entries } = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.hostField.startsWith('|1|'))).toBe(true);
    expect(hostFieldMatches(entries[0]!.hostField, [hostKeyName('198.18.0.11', 22)])).toBe(true);
    expect(hostFieldMatches(entries[0]!.hostField, ['198.18.0.12'])).toBe(false);
    expect(hostFieldMatches(entries[1]!.hostField, [hostKeyName('198.18.0.12', 2222)])).toBe(true);
    expect(hostFieldMatches(entries[1]!.hostField, ['198.18.0.12'])).toBe(false);
  });

  it('hashes names the way ssh-keygen -F finds them', () => {
    const file = join(dir, 'ours-hashed');
    writeFileSync(file, `${hashHostName('[10.1.2.3]:2200')} ${ed.type} ${ed.b64}\n`);
    const out = execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2200', '-f', file], { encoding: 'utf8' });
    expect(out).toContain('found');
  });
});

describe('parseKnownHosts', () => {
  it('skips comments, blanks, malformed lines and @cert-authority with notes; keeps @revoked', () => {
    const text = [
      '# comment',
      '',
      `h1 ${ed.type} ${ed.b64} comment words`,
      'garbage',
      `h1 ssh-rsa ${ed.b64}`, // type field disagrees with blob
      `@cert-authority *.example.com ${ec.type} ${ec.b64}`,
      `@revoked * ${rsa.type} ${rsa.b64}`,
      `@bogus h1 ${ed.type} ${ed.b64}`,
      `h1,h2 ${ec.type} ${ec.b64}`,
    ].join('\n');
    const { entries, notes } = parseKnownHosts(text, 'kh');
    expect(entries.map((e) => [e.line, e.marker ?? '', e.keyType])).toEqual([
      [3, '', 'ssh-ed25519'],
      [6, 'cert-authority', 'ecdsa-sha2-nistp256'],
      [7, 'revoked', 'ssh-rsa'],
      [9, '', 'ecdsa-sha2-nistp256'],
    ]);
    expect(notes.join('\n')).toMatch(/kh:4: malformed/);
    expect(notes.join('\n')).toMatch(/kh:5: key does not decode/);
    expect(notes.join('\n')).toMatch(/kh:6: @cert-authority/);
    expect(notes.join('\n')).toMatch(/kh:8: unknown marker/);
  });
});

describe('checkHostKey', () => {
  const entriesFor = (text: string) => parseKnownHosts(text, 'kh').entries;
  it('known when any entry for the host has the same key, among several types', () => {
    const e = entriesFor(`h1 ${ec.type} ${ec.b64}\nh1 ${ed.type} ${ed.b64}\n`);
    expect(checkHostKey(e, ['h1'], ed.blob).status).toBe('known');
    expect(knownKeyTypes(e, ['h1'])).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  });
  it('changed when the same type has another key', () => {
    const e = entriesFor(`h1 ${ed.type} ${ed.b64}\n`);
    const v = checkHostKey(e, ['h1'], ed2.blob);
    expect(v.status).toBe('changed');
  });
  it('changed (not unknown) when the host is known only under other key types', () => {
    const e = entriesFor(`h1 ${ed.type} ${ed.b64}\n`);
    expect(checkHostKey(e, ['h1'], rsa.blob).status).toBe('changed');
  });
  it('unknown when no entry names the host', () => {
    const e = entriesFor(`h2 ${ed.type} ${ed.b64}\n`);
    expect(checkHostKey(e, ['h1'], ed.blob).status).toBe('unknown');
  });
  it('revoked beats a matching plain entry', () => {
    const e = entriesFor(`h1 ${ed.type} ${ed.b64}\n@revoked * ${ed.type} ${ed.b64}\n`);
    expect(checkHostKey(e, ['h1'], ed.blob).status).toBe('revoked');
  });
});

describe('verifyHostKey policies', () => {
  const base = { hostName: 'web1', address: '198.18.0.11', port: 2222 };

  it('strict: unknown key fails with the fingerprint and a keyscan hint', async () => {
    const file = join(dir, 'strict-empty');
    writeFileSync(file, '');
    const err = await verifyHostKey({ ...base, policy: 'strict', files: [file], key: ed.blob, store: new KnownHostsStore() }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E_HOSTKEY_UNKNOWN' });
    const e = err as Error & { hint: string };
    expect(e.message).toContain(fingerprintSha256(ed.blob));
    expect(e.message).toContain('web1');
    expect(e.hint).toContain(`ssh-keyscan -p 2222 198.18.0.11 >> ${file}`);
  });

  it('accept-new: records an unknown key (plain [host]:port line) and then knows it', async () => {
    const file = join(dir, 'sub', 'accept-new');
    const store = new KnownHostsStore();
    const r = await verifyHostKey({ ...base, policy: 'accept-new', files: [file], key: ed.blob, store });
    expect(r.learnedIn).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe(`[198.18.0.11]:2222 ${ed.type} ${ed.b64}\n`);
    const again = await verifyHostKey({ ...base, policy: 'accept-new', files: [file], key: ed.blob, store });
    expect(again).toEqual({ verdict: 'known' });
    // OpenSSH agrees the recorded line is valid.
    expect(execFileSync('ssh-keygen', ['-F', '[198.18.0.11]:2222', '-f', file], { encoding: 'utf8' })).toContain(ed.b64);
  });

  it('accept-new: a changed key still fails and the file is untouched', async () => {
    const file = join(dir, 'accept-new-changed');
    const text = `[198.18.0.11]:2222 ${ed.type} ${ed.b64}\n`;
    writeFileSync(file, text);
    const err = await verifyHostKey({
      ...base,
      policy: 'accept-new',
      files: [file],
      key: ed2.blob,
      store: new KnownHostsStore(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_HOSTKEY_CHANGED' });
    expect((err as Error).message).toContain(fingerprintSha256(ed2.blob));
    expect((err as Error).message).toContain(fingerprintSha256(ed.blob));
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('parallel accept-new appends never interleave', async () => {
    const file = join(dir, 'parallel');
    const store = new KnownHostsStore();
    const keys = [ed, ed2, ec, rsa];
    await Promise.all(
      keys.map((k, i) =>
        verifyHostKey({ hostName: `h${i}`, address: `10.0.0.${i}`, port: 22, policy: 'accept-new', files: [file], key: k.blob, store }),
      ),
    );
    const { entries, notes } = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(notes).toEqual([]);
    expect(entries).toHaveLength(4);
  });

  it('off accepts unknown and changed keys, never a revoked one (as OpenSSH with StrictHostKeyChecking=no)', async () => {
    expect((await verifyHostKey({ ...base, policy: 'off', files: ['/nonexistent/x'], key: ed.blob })).verdict).toBe('unchecked');
    const file = join(dir, 'off-revoked');
    writeFileSync(file, `[198.18.0.11]:2222 ${ed.type} ${ed.b64}\n@revoked * ${ed2.type} ${ed2.b64}\n`);
    const store = new KnownHostsStore();
    expect((await verifyHostKey({ ...base, policy: 'off', files: [file], key: ec.blob, store })).verdict).toBe('unchecked');
    const err = await verifyHostKey({ ...base, policy: 'off', files: [file], key: ed2.blob, store }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_HOSTKEY_CHANGED', message: expect.stringContaining('REVOKED') });
  });

  it('the address ssh connects to decides when it is listed; the inventory name is only a fallback', async () => {
    const file = join(dir, 'addr-first');
    writeFileSync(file, `[198.18.0.11]:2222 ${ed.type} ${ed.b64}\n[web1]:2222 ${ed2.type} ${ed2.b64}\n`);
    const err = await verifyHostKey({ ...base, policy: 'strict', files: [file], key: ed2.blob, store: new KnownHostsStore() }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E_HOSTKEY_CHANGED' });
  });

  // OpenSSH (and so Ansible, which passes ansible_host to ssh) looks a key up under the address it connects to only.
  it('looks the key up under the address only: a line for the inventory name, or one that negates the address, is no match', async () => {
    const store = new KnownHostsStore();
    const verdict = async (name: string, text: string): Promise<unknown> => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return verifyHostKey({ ...base, policy: 'strict', files: [file], key: ed.blob, store }).then((r) => r.verdict, (e: { code: string }) => e.code);
    };
    expect(await verdict('by-name', `[web1]:2222 ${ed.type} ${ed.b64}\n`)).toBe('E_HOSTKEY_UNKNOWN');
    expect(await verdict('negated', `*,![198.18.0.11]:2222 ${ed.type} ${ed.b64}\n`)).toBe('E_HOSTKEY_UNKNOWN');
    expect(await verdict('by-address', `*,![198.18.0.12]:2222 ${ed.type} ${ed.b64}\n`)).toBe('known');
    for (const file of ['by-name', 'negated', 'by-address']) {
      // ssh-keygen -F exits 1 when no line matches.
      const listed = (() => {
        try {
          return execFileSync('ssh-keygen', ['-F', '[198.18.0.11]:2222', '-f', join(dir, file)], { encoding: 'utf8' }).includes(ed.b64);
        } catch {
          return false;
        }
      })();
      expect(listed, file).toBe(file === 'by-address');
    }
  });
});
