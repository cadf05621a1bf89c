import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './cli-helpers.js';

const run = promisify(execFile);

/** The live view needs a terminal: tmux gives the CLI a real one (120×40) and lets the test read the screen. */
describe('live view on a terminal', () => {
  it('shows one row per host with its task, then the recap, and exits with the run code', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-live-'));
    const pb = path.join(dir, 'live.yml');
    await writeFile(
      pb,
      `- hosts: all
  gather_facts: false
  tasks:
    - name: first step
      command: sleep 0.3
    - name: second step
      command: "true"
`,
    );
    const inv = path.join(dir, 'inv.ini');
    await writeFile(inv, 'alpha ansible_connection=local\nbeta ansible_connection=local\n');
    const session = `vncplay-live-${process.pid}`;
    const codeFile = path.join(dir, 'code');
    // CI=true (as CI sets it) asks for plain output on purpose; this test is about the terminal view.
    const cmd = `cd ${repoRoot} && env -u CI node bin/vncplay.js ${pb} -i ${inv}; echo $? > ${codeFile}; sleep 30`;
    await run('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', cmd]);
    try {
      let code = '';
      for (let i = 0; i < 100 && code === ''; i++) {
        await new Promise((r) => setTimeout(r, 200));
        code = await readFile(codeFile, 'utf8').catch(() => '');
      }
      expect(code.trim()).toBe('0');
      // Let tmux draw the last frame the CLI wrote before it exited.
      await new Promise((r) => setTimeout(r, 300));
      const screen = (await run('tmux', ['capture-pane', '-t', session, '-p'])).stdout;
      expect(screen).toMatch(/PLAY \[all\]/);
      expect(screen).toMatch(/✔ alpha: second step \(changed\)/);
      expect(screen, screen).toMatch(/✔ beta: second step \(changed\)/);
      expect(screen).toMatch(/^alpha\s+: ok=2\s+changed=2/m);
    } finally {
      await run('tmux', ['kill-session', '-t', session]).catch(() => undefined);
    }
  });
});
