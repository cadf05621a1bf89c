import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from './cli-helpers.js';

const run = promisify(execFile);

export interface TerminalRun {
  /** The exit code the shell in the pane printed after the CLI ended. */
  exitCode: number;
  /** Everything the pane shows, scrollback included, without colours. */
  screen: string;
}

/** Single-quotes a word for the pane's bash. */
function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A tmux server on its own socket (one per test file, so test files and other tmux users never share sessions)
 * in which the real CLI runs on a real 120×40 pseudo-terminal. The shell in the pane prints `EXIT=<code>` when the
 * CLI ends; every wait is bounded, so a CLI that hangs fails the test with the screen it left.
 */
export class TmuxTerminal {
  private sessions = 0;

  constructor(private readonly socket: string) {}

  private tmux(args: string[]): Promise<{ stdout: string }> {
    return run('tmux', ['-L', this.socket, ...args]);
  }

  /** Starts `node bin/vncplay.js ARGS` in a new session and returns the session's name. */
  async start(args: readonly string[]): Promise<string> {
    const session = `run${++this.sessions}`;
    // CI=true (as CI sets it) asks for plain output on purpose; these tests are about the terminal view.
    const cli = ['env', '-u', 'CI', 'node', 'bin/vncplay.js', ...args].map(shellWord).join(' ');
    // The pane stays open after the CLI ends so the screen can still be read.
    // EXIT= on a line of its own, also after the terminal's echo of a ^C.
    const script = `${cli}; code=$?; printf '\\nEXIT=%s\\n' "$code"; exec sleep 600`;
    await this.tmux(['new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', repoRoot, 'bash', '-c', script]);
    return session;
  }

  async screen(session: string): Promise<string> {
    return (await this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', session])).stdout;
  }

  /** Waits until the screen matches `pattern`; throws with the screen after `timeoutMs`. */
  async waitFor(session: string, pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen(session);
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`no ${String(pattern)} on the terminal within ${timeoutMs} ms; the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Runs the CLI to its end: a CLI that has not exited within `timeoutMs` fails with the screen it left. */
  async runToEnd(args: readonly string[], timeoutMs: number): Promise<TerminalRun> {
    const session = await this.start(args);
    return this.waitForExit(session, timeoutMs);
  }

  async waitForExit(session: string, timeoutMs: number): Promise<TerminalRun> {
    const screen = await this.waitFor(session, /^EXIT=\d+$/m, timeoutMs);
    return { exitCode: Number(/^EXIT=(\d+)$/m.exec(screen)![1]), screen };
  }

  /** Whether the pane shows its cursor (programs hide it with `ESC [?25l` while they draw). */
  async cursorVisible(session: string): Promise<boolean> {
    return (await this.tmux(['display-message', '-p', '-t', session, '#{cursor_flag}'])).stdout.trim() === '1';
  }

  async sendKeys(session: string, keys: string): Promise<void> {
    await this.tmux(['send-keys', '-t', session, keys]);
  }

  /** Ends this socket's tmux server and everything still running in it. */
  async close(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined);
  }
}
