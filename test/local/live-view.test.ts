import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxTerminal } from '../support/terminal-helpers.js';

// Runs that end in well under a second; a view that does not end within this is hung.
const RUN_LIMIT_MS = 15_000;

/** Waits until every file exists (a step's command made it); throws after `timeoutMs`. */
async function waitForFiles(files: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await Promise.all(files.map((f) => access(f).then(() => true, () => false)));
    if (found.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`not all of ${files.join(', ')} exist after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The live view needs a terminal: tmux gives the CLI a real one (120×40) and lets the test read the screen. */
describe('live view on a terminal', () => {
  const terminal = new TmuxTerminal(`vncplay-live-${process.pid}`);
  let dir = '';
  let localInventory = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-live-'));
    localInventory = path.join(dir, 'local.ini');
    await writeFile(localInventory, 'alpha ansible_connection=local\nbeta ansible_connection=local\n');
  });
  afterAll(async () => {
    await terminal.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const playbook = async (name: string, yaml: string): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, yaml);
    return file;
  };

  it('shows one row per host with its task, then the recap, and exits with the run code', async () => {
    const pb = await playbook(
      'two-steps.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - name: first step
      command: sleep 0.3
    - name: second step
      command: "true"
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', localInventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(/PLAY \[all\]/);
    expect(screen).toMatch(/✔ alpha: second step \(changed\)/);
    expect(screen, screen).toMatch(/✔ beta: second step \(changed\)/);
    expect(screen).toMatch(/^alpha\s+: ok=2\s+changed=2/m);
  });

  it('ends a play that is over before the view has started its rows (one debug task)', async () => {
    const pb = await playbook(
      'debug.yml',
      `- hosts: alpha
  gather_facts: false
  tasks:
    - debug:
        msg: hello
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', localInventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(/✔ alpha: debug \(ok\)/);
    expect(screen).toMatch(/^alpha\s+: ok=1\s+changed=0\s+unreachable=0\s+failed=0/m);
  });

  it('ends a play in which every task is skipped', async () => {
    const pb = await playbook(
      'skipped.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - name: not today
      command: "true"
      when: false
    - name: nor now
      debug:
        msg: never
      when: false
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', localInventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(/✔ beta: nor now \(skipped\)/);
    expect(screen).toMatch(/^alpha\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=0\s+skipped=2/m);
    expect(screen).toMatch(/^beta\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=0\s+skipped=2/m);
  });

  it('shows a failed task on its host row and exits 2', async () => {
    const pb = await playbook(
      'failing.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - name: fails on beta
      command: "{{ 'false' if inventory_hostname == 'beta' else 'true' }}"
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', localInventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(2);
    expect(screen).toMatch(/✔ alpha: fails on beta \(changed\)/);
    expect(screen).toMatch(/✖ beta: fails on beta: non-zero return code/);
    expect(screen).toMatch(/^alpha\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0/m);
    expect(screen).toMatch(/^beta\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1/m);
  });

  it('shows a host refused at connect and exits 3', async () => {
    // A loopback listener that accepts and never says a word: the connection times out. (An address in the fleet's
    // range is routed out of the machine when no fleet bridge is up, where a proxy may answer it.)
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const inventory = path.join(dir, 'ghost.ini');
    await writeFile(inventory, `ghost ansible_host=127.0.0.1 ansible_port=${(silent.address() as AddressInfo).port} ansible_ssh_timeout=2\n`);
    const pb = await playbook(
      'unreachable.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - name: reach it
      command: "true"
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', inventory], RUN_LIMIT_MS).finally(() => silent.close());
    expect(exitCode, screen).toBe(3);
    expect(screen).toMatch(/✖ ghost: reach it: error\[E_TIMEOUT\]/);
    expect(screen).toMatch(/^ghost\s+: ok=0\s+changed=0\s+unreachable=1\s+failed=0/m);
  });

  it('prints a warning between the lists, where it happened in the run', async () => {
    const inventory = path.join(dir, 'with-empty-group.ini');
    await writeFile(inventory, 'alpha ansible_connection=local\n[empty]\n');
    const pb = await playbook(
      'warning.yml',
      `- name: first
  hosts: alpha
  gather_facts: false
  tasks:
    - debug:
        msg: one
- name: nobody
  hosts: empty
  gather_facts: false
  tasks:
    - debug:
        msg: never
- name: last
  hosts: alpha
  gather_facts: false
  tasks:
    - debug:
        msg: two
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', inventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(/PLAY \[first\]\n.*\n\[WARNING\]: play 'nobody': no hosts matched 'empty', skipping\nPLAY \[last\]/);
  });

  it('draws every play of a run whose fast first play is followed by slower ones', async () => {
    const pb = await playbook(
      'plays.yml',
      `- name: fast
  hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: quick
- name: slow
  hosts: all
  gather_facts: false
  tasks:
    - name: take a while
      command: sleep 0.5
- name: slower
  hosts: beta
  gather_facts: false
  tasks:
    - name: take longer
      command: sleep 1
`,
    );
    const { exitCode, screen } = await terminal.runToEnd([pb, '-i', localInventory], RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(0);
    expect(screen).toMatch(/PLAY \[fast\][^]*PLAY \[slow\][^]*PLAY \[slower\][^]*PLAY RECAP/);
    expect(screen).toMatch(/✔ alpha: take a while \(changed\)/);
    expect(screen).toMatch(/✔ beta: take longer \(changed\)/);
    expect(screen).toMatch(/^alpha\s+: ok=2\s+changed=1/m);
    expect(screen).toMatch(/^beta\s+: ok=3\s+changed=2/m);
  });

  it('on Ctrl-C says on each running row that it finishes its step, then prints the recap and exits 130', async () => {
    const pb = await playbook(
      'interrupted.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    # Says it has started, then sleeps in its own session: the terminal's Ctrl-C does not reach it.
    - name: long step
      command: sh -c 'touch "$0" && exec setsid -w sleep 4' ${dir}/interrupted-started-{{ inventory_hostname }}
    - name: never started
      command: "true"
`,
    );
    const session = await terminal.start([pb, '-i', localInventory]);
    await waitForFiles([`${dir}/interrupted-started-alpha`, `${dir}/interrupted-started-beta`], RUN_LIMIT_MS);
    await terminal.sendKeys(session, 'C-c');
    const during = await terminal.waitFor(session, /beta: long step - interrupted: finishing this step \(Ctrl-C again to quit now\)/, 3000);
    expect(during).toMatch(/alpha: long step - interrupted: finishing this step/);
    const { exitCode, screen } = await terminal.waitForExit(session, RUN_LIMIT_MS);
    expect(exitCode, screen).toBe(130);
    expect(screen).toMatch(/✔ alpha: long step \(changed\)\n/);
    expect(screen).toMatch(/PLAY RECAP[^]*^alpha\s+: ok=1\s+changed=1/m);
    expect(screen).toMatch(/interrupted: no new tasks were started after Ctrl-C/);
    expect(screen).not.toMatch(/never started/);
  });

  it('exits 130 at once on a second Ctrl-C and gives the terminal its cursor back', async () => {
    const pb = await playbook(
      'interrupted-twice.yml',
      `- hosts: alpha
  gather_facts: false
  tasks:
    # Its own session keeps it from the terminal's Ctrl-C: it is still running at the second one.
    - name: long step
      command: sh -c 'touch "$0" && exec setsid -w sleep 10' ${dir}/twice-started
`,
    );
    const session = await terminal.start([pb, '-i', localInventory]);
    await waitForFiles([`${dir}/twice-started`], RUN_LIMIT_MS);
    await terminal.sendKeys(session, 'C-c');
    await terminal.waitFor(session, /finishing this step/, 3000);
    await terminal.sendKeys(session, 'C-c');
    // Well before the step would end.
    const { exitCode, screen } = await terminal.waitForExit(session, 5000);
    expect(exitCode, screen).toBe(130);
    expect(screen).not.toMatch(/PLAY RECAP/);
    expect(await terminal.cursorVisible(session)).toBe(true);
  });
});
