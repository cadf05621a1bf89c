import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vncplay } from '../support/cli-helpers.js';
import { TmuxTerminal } from '../support/terminal-helpers.js';
import { requireProgram } from '../support/tools.js';

/**
 * `vars_prompt`: asked on a real terminal (tmux), answered from a pipe, skipped for names given with -e, refused
 * with a hint when nobody can answer, and `encrypt` hashed exactly as Python's crypt (what Ansible calls) does.
 */
const PLAYBOOK = `
- hosts: localhost
  gather_facts: false
  vars_prompt:
    - name: user_name
      prompt: Which user
      private: false
      default: alice
    - name: secret
      prompt: Password
      confirm: true
    - name: hashed
      prompt: Hash me
      encrypt: sha512_crypt
      salt: abcdefgh
    - name: raw
      prompt: Raw
      private: false
      unsafe: true
  tasks:
    - debug:
        msg: "{{ [user_name, secret, hashed, raw] | to_json }}"
`;

let dir: string;
let playbook: string;
const terminal = new TmuxTerminal(`vncplay-vars-prompt-${process.pid}`);

beforeAll(async () => {
  requireProgram('tmux');
  requireProgram('openssl');
  dir = await mkdtemp(path.join(tmpdir(), 'vncplay-vars-prompt-'));
  playbook = path.join(dir, 'prompt.yml');
  await writeFile(playbook, PLAYBOOK);
});
afterAll(() => terminal.close());

/** The debug message of the run, decoded. */
function shown(stdout: string): unknown {
  const m = /"msg": "(.*)"\n/.exec(stdout);
  if (!m) throw new Error(`no msg in:\n${stdout}`);
  return JSON.parse(JSON.parse(`"${m[1]}"`) as string);
}

const cryptOf = (word: string): string =>
  spawnSync(requireProgram('python3'), ['-W', 'ignore', '-c', 'import crypt, sys; print(crypt.crypt(sys.argv[1], "$6$abcdefgh"))', word], { encoding: 'utf8' }).stdout.trim();

describe('vars_prompt', () => {
  it('on a terminal: asks each question (hidden unless private: false), confirms, takes the default on Enter', async () => {
    const session = await terminal.start(['-i', 'localhost,', playbook]);
    await terminal.waitFor(session, /Which user \[alice\]: $/m, 20_000);
    await terminal.sendKeys(session, 'Enter');
    await terminal.waitFor(session, /^Password: $/m, 5000);
    await terminal.sendKeys(session, 's3cret');
    await terminal.sendKeys(session, 'Enter');
    await terminal.waitFor(session, /^confirm Password: $/m, 5000);
    await terminal.sendKeys(session, 'other');
    await terminal.sendKeys(session, 'Enter');
    // A mismatch asks again.
    await terminal.waitFor(session, /VALUES ENTERED DO NOT MATCH[\s\S]*Password: $/m, 5000);
    for (const keys of ['s3cret', 'Enter', 's3cret', 'Enter', 'pw', 'Enter', '{{ not_a_template }}', 'Enter']) await terminal.sendKeys(session, keys);
    const run = await terminal.waitForExit(session, 30_000);
    expect(run.exitCode, run.screen).toBe(0);
    // What was typed for a private prompt never shows; a visible one does.
    expect(run.screen).not.toContain('s3cret');
    expect(run.screen).toContain('Raw: {{ not_a_template }}');
  });

  it('on a terminal: answers typed ahead in one go (a paste, fast typing) go to the questions in turn', async () => {
    const session = await terminal.start(['-i', 'localhost,', playbook]);
    await terminal.waitFor(session, /Which user \[alice\]: $/m, 20_000);
    // Every answer in one write: the program reads them in one chunk, as from a paste.
    await terminal.sendKeys(session, 'carol\rs3cret\rs3cret\rpw\rraw\r');
    const run = await terminal.waitForExit(session, 30_000);
    expect(run.exitCode, run.screen).toBe(0);
    expect(run.screen).not.toContain('VALUES ENTERED DO NOT MATCH');
    expect(run.screen).toContain('carol');
    expect(run.screen).toContain('Raw: raw');
  });

  it('answers from a pipe; -e skips a question; encrypt gives the crypt(3) hash; unsafe answers stay text', async () => {
    const r = await vncplay(['-i', 'localhost,', playbook, '-e', 'user_name=bob'], { cwd: dir, stdin: 's3cret\ns3cret\npw\n{{ x }}\n' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(shown(r.stdout)).toEqual(['bob', 's3cret', cryptOf('pw'), '{{ x }}']);
  });

  it('nobody to answer (stdin ended) and no default: exit 5 (bad usage) with a hint, before any task runs', async () => {
    const r = await vncplay(['-i', 'localhost,', playbook], { cwd: dir, stdin: '\n' });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error\[E_VARS_PROMPT\]: vars_prompt `secret` got no answer: standard input ended/);
    expect(r.stderr).toMatch(/hint: pass it on the command line: -e secret=VALUE/);
    expect(r.stdout).not.toContain('TASK');
  });
});
