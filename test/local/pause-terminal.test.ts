import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireProgram } from '../support/tools.js';
import { vncplay } from '../support/cli-helpers.js';
import { TmuxTerminal } from '../support/terminal-helpers.js';

/**
 * pause asks the person at the terminal only when there is one: in a real terminal (tmux) the typed line becomes
 * `user_input` (hidden with echo: false); with stdin not a terminal the prompt does not wait, as Ansible's.
 */
const playbook = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: ask
      pause: {prompt: Your name}
      register: asked
    - name: ask hidden
      pause: {prompt: Secret word, echo: false}
      register: hidden
    - name: show
      copy: {content: "input={{ asked.user_input }} hidden={{ hidden.user_input }} echo={{ hidden.echo }}", dest: "{{ playbook_dir }}/out.txt"}
`;

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-pause-'));
  writeFileSync(path.join(dir, 'pb.yml'), playbook);
  writeFileSync(path.join(dir, 'inv.ini'), 'localhost ansible_connection=local\n');
  return dir;
}

describe('pause: prompts only a terminal', () => {
  requireProgram('tmux');
  const terminal = new TmuxTerminal(`vncplay-pause-${process.pid}`);
  afterAll(() => terminal.close());

  it('in a terminal, the typed lines are user_input; echo: false does not show the second', async () => {
    const dir = project();
    const session = await terminal.start(['-i', path.join(dir, 'inv.ini'), path.join(dir, 'pb.yml')]);
    await terminal.waitFor(session, /Your name:/, 20_000);
    await terminal.sendKeys(session, 'bob');
    await terminal.waitFor(session, /Your name: bob/, 5000);
    await terminal.sendKeys(session, 'Enter');
    await terminal.waitFor(session, /Secret word \(output is hidden\):/, 10_000);
    await terminal.sendKeys(session, 'swordfish');
    await terminal.sendKeys(session, 'Enter');
    const { exitCode, screen } = await terminal.waitForExit(session, 20_000);
    expect(exitCode, screen).toBe(0);
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('input=bob hidden=swordfish echo=False');
    expect(screen, screen).not.toContain('swordfish');
  });

  it('without a terminal, a prompt does not wait', async () => {
    const dir = project();
    const started = Date.now();
    const run = await vncplay(['-i', path.join(dir, 'inv.ini'), path.join(dir, 'pb.yml')], { cwd: dir, timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('input= hidden= echo=False');
    expect(run.stdout).toContain('Not waiting for response to prompt as stdin is not interactive');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
