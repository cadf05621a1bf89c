import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vncplay } from '../support/cli-helpers.js';
import { requireProgram } from '../support/tools.js';

/** `vncplay vault …` against Debian's ansible-vault: each side opens what the other wrote. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-vault-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => path.join(dir, f);
writeFileSync(at('pass'), 'first password\n');
writeFileSync(at('pass2'), 'second password\n');
const PLAIN = 'vnc_password: "s3cret ✓"\nports: [5901, 5902]\n';

const av = (args: string[], input?: string): string =>
  execFileSync(requireProgram('ansible-vault'), args, { cwd: dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
const vault = (args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) => vncplay(['vault', ...args], { cwd: dir, ...opts });

describe('vncplay vault and ansible-vault', () => {
  it('encrypt in place → ansible-vault view; decrypt in place restores the bytes', async () => {
    writeFileSync(at('a.yml'), PLAIN);
    const enc = await vault(['encrypt', '--vault-password-file', 'pass', 'a.yml']);
    expect(enc.code, enc.stderr).toBe(0);
    const text = readFileSync(at('a.yml'), 'utf8');
    expect(text.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(text).not.toContain('s3cret');
    expect(av(['view', '--vault-password-file', 'pass', 'a.yml'])).toBe(PLAIN);
    expect((await vault(['decrypt', '--vault-password-file', 'pass', 'a.yml'])).code).toBe(0);
    expect(readFileSync(at('a.yml'), 'utf8')).toBe(PLAIN);
  });

  it('files ansible-vault made (1.1, and 1.2 with --vault-id) open with view and decrypt', async () => {
    writeFileSync(at('b.yml'), PLAIN);
    av(['encrypt', '--vault-id', 'prod@pass', 'b.yml']);
    expect(readFileSync(at('b.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    // Several ids: the one whose label matches is tried first, the others after it.
    const v = await vault(['view', '--vault-id', 'dev@pass2', '--vault-id', 'prod@pass', 'b.yml']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(PLAIN);
    const d = await vault(['decrypt', '--vault-id', 'prod@pass', '--output', '-', 'b.yml']);
    expect(d.stdout).toBe(PLAIN);
  });

  it('encrypt with a vault id writes 1.2 that ansible-vault opens with that id', async () => {
    writeFileSync(at('c.yml'), PLAIN);
    const r = await vault(['encrypt', '--vault-id', 'dev@pass2', '--vault-id', 'prod@pass', '--encrypt-vault-id', 'prod', 'c.yml']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(at('c.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(av(['view', '--vault-id', 'prod@pass', 'c.yml'])).toBe(PLAIN);
    // Two labels and no --encrypt-vault-id: ambiguous, a usage error (as ansible-vault).
    writeFileSync(at('c2.yml'), PLAIN);
    expect((await vault(['encrypt', '--vault-id', 'dev@pass2', '--vault-id', 'prod@pass', 'c2.yml'])).code).toBe(5);
  });

  it('rekey keeps the vault id; ansible-vault opens the result with the new password only', async () => {
    writeFileSync(at('d.yml'), PLAIN);
    av(['encrypt', '--vault-id', 'prod@pass', 'd.yml']);
    const r = await vault(['rekey', '--vault-id', 'prod@pass', '--new-vault-password-file', 'pass2', 'd.yml']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(at('d.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(av(['view', '--vault-id', 'prod@pass2', 'd.yml'])).toBe(PLAIN);
    expect((await vault(['view', '--vault-password-file', 'pass', 'd.yml'])).code).toBe(4);
  });

  it('encrypt_string output is an inline value ansible-vault decrypts', async () => {
    const r = await vault(['encrypt_string', '--vault-password-file', 'pass', '--name', 'vnc_pw', 'p@ss w0rd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vnc_pw: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n( {10}[0-9a-f]{1,80}\n)+$/);
    const body = r.stdout.split('\n').slice(1).map((l) => l.trim()).join('\n');
    expect(av(['decrypt', '--vault-password-file', 'pass', '--output', '-', '-'], body)).toBe('p@ss w0rd');
  });

  it('a password script prints the password; a …-client script is asked for its label', async () => {
    writeFileSync(at('pw.sh'), '#!/bin/sh\necho "first password"\n');
    writeFileSync(at('pw-client.sh'), '#!/bin/sh\n[ "$1" = --vault-id ] && [ "$2" = prod ] && echo "first password"\n');
    chmodSync(at('pw.sh'), 0o755);
    chmodSync(at('pw-client.sh'), 0o755);
    writeFileSync(at('e.yml'), PLAIN);
    av(['encrypt', '--vault-id', 'prod@pass', 'e.yml']);
    expect((await vault(['view', '--vault-password-file', 'pw.sh', 'e.yml'])).stdout).toBe(PLAIN);
    expect((await vault(['view', '--vault-id', 'prod@pw-client.sh', 'e.yml'])).stdout).toBe(PLAIN);
    // The client script answers only for 'prod': for another label it fails, and that is reported.
    const bad = await vault(['view', '--vault-id', 'dev@pw-client.sh', 'e.yml']);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('E_VAULT_PASSWORD_SCRIPT');
  });

  it('edit re-encrypts with $EDITOR and leaves no plaintext behind', async () => {
    writeFileSync(at('f.yml'), PLAIN);
    av(['encrypt', '--vault-id', 'prod@pass', 'f.yml']);
    // The "editor" appends a line and records where the plaintext was.
    writeFileSync(at('editor.sh'), `#!/bin/sh\necho "$1" > ${at('edited-path')}\necho 'extra: 1' >> "$1"\n`);
    chmodSync(at('editor.sh'), 0o755);
    const r = await vault(['edit', '--vault-id', 'prod@pass', 'f.yml'], { env: { EDITOR: at('editor.sh') } });
    expect(r.code, r.stderr).toBe(0);
    const tmp = readFileSync(at('edited-path'), 'utf8').trim();
    expect(tmp.startsWith(os.tmpdir())).toBe(true);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(path.dirname(tmp))).toBe(false);
    expect(readFileSync(at('f.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(av(['view', '--vault-id', 'prod@pass', 'f.yml'])).toBe(`${PLAIN}extra: 1\n`);
    // A failing editor leaves the file as it was, and still no plaintext.
    const before = readFileSync(at('f.yml'), 'utf8');
    const fail = await vault(['edit', '--vault-id', 'prod@pass', 'f.yml'], { env: { EDITOR: 'false' } });
    expect(fail.code).toBe(4);
    expect(readFileSync(at('f.yml'), 'utf8')).toBe(before);
  });

  it('create, encrypt_string --stdin-name, rekey --new-vault-id, and a LABEL@prompt password read from stdin', async () => {
    writeFileSync(at('writer.sh'), `#!/bin/sh\necho 'created: yes' > "$1"\n`);
    chmodSync(at('writer.sh'), 0o755);
    const c = await vault(['create', '--vault-id', 'ops@pass', 'new.yml'], { env: { EDITOR: at('writer.sh') } });
    expect(c.code, c.stderr).toBe(0);
    expect(av(['view', '--vault-id', 'ops@pass', 'new.yml'])).toBe('created: yes\n');
    expect((await vault(['create', '--vault-id', 'ops@pass', 'new.yml'], { env: { EDITOR: at('writer.sh') } })).code).toBe(5);

    const s = await vault(['encrypt_string', '--vault-password-file', 'pass', '--stdin-name', 'from_stdin'], { stdin: 'piped value' });
    expect(s.stdout.startsWith('from_stdin: !vault |\n')).toBe(true);
    const body = s.stdout.split('\n').slice(1).map((l) => l.trim()).join('\n');
    expect(av(['decrypt', '--vault-password-file', 'pass', '--output', '-', '-'], body)).toBe('piped value');

    const r = await vault(['rekey', '--vault-id', 'ops@pass', '--new-vault-id', 'ops2@pass2', 'new.yml']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(at('new.yml'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;ops2');
    const p = await vault(['view', '--vault-id', 'ops2@prompt', 'new.yml'], { stdin: 'second password\n' });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe('created: yes\n');
  });

  it('exit codes: wrong password 4, damaged file 4, not encrypted 4, bad command line 5', async () => {
    writeFileSync(at('g.yml'), PLAIN);
    av(['encrypt', '--vault-password-file', 'pass', 'g.yml']);
    const wrong = await vault(['view', '--vault-password-file', 'pass2', 'g.yml']);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('g.yml:1:1: error[E_VAULT_PASSWORD]');
    writeFileSync(at('h.yml'), readFileSync(at('g.yml'), 'utf8').slice(0, 100));
    expect((await vault(['view', '--vault-password-file', 'pass', 'h.yml'])).code).toBe(4);
    expect((await vault(['decrypt', '--vault-password-file', 'pass', 'a.yml'])).code).toBe(4);
    expect((await vault(['frobnicate', 'g.yml'])).code).toBe(5);
    expect((await vault(['view', '--vault-password-file', 'no-such-file', 'g.yml'])).code).toBe(5);
    expect((await vault(['view', '--bogus', 'g.yml'])).code).toBe(5);
  });
});
