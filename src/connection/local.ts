import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { assertArgv, becomeNeeded, becomePasswordMissing, sudoNeedsPassword, wrapBecome } from './become.js';
import { drive, driveOptions, type ProcessIo } from './exec-driver.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

/**
 * Runs modules on the controller itself (`localhost`, `delegate_to: localhost`): child_process.spawn with the
 * argv array and no shell, so nothing is ever parsed by a shell that the module did not ask for.
 */
export interface LocalConnectionOptions {
  hostName: string;
  /** Default target of `become` (root). */
  becomeUser?: string;
  becomePassword?: string;
}

export class LocalConnection implements Connection {
  readonly hostName: string;
  readonly kind = 'local' as const;
  private readonly opts: LocalConnectionOptions;
  private readonly loginUser = userInfo().username;
  private readonly running = new Set<() => void>();

  constructor(opts: LocalConnectionOptions) {
    this.hostName = opts.hostName;
    this.opts = opts;
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    assertArgv(argv);
    const becomeUser = opts.becomeUser ?? this.opts.becomeUser ?? 'root';
    // Already root (or already the target user): run directly; root needs no sudo, and sudo may not even be installed.
    const useSudo = opts.become === true && becomeNeeded(this.loginUser, becomeUser);
    const password = this.loginUser === 'root' ? undefined : this.opts.becomePassword;
    const wrapped = useSudo ? wrapBecome(argv, { user: becomeUser, ...(password !== undefined ? { password } : {}) }) : { argv: [...argv] };
    const io = spawnIo(wrapped.argv);
    this.running.add(io.kill);
    try {
      const result = await drive(io, driveOptions(this.hostName, becomeUser, opts, wrapped.handshake));
      if (useSudo && !wrapped.handshake && sudoNeedsPassword(result.rc, result.stderr)) {
        throw becomePasswordMissing(this.hostName, becomeUser);
      }
      return result;
    } finally {
      this.running.delete(io.kill);
    }
  }

  /** Stops anything still running (a Ctrl-C'd run must not leave children behind). */
  async close(): Promise<void> {
    for (const kill of this.running) kill();
  }
}

/** Local commands still running: a second Ctrl-C exits vncplay at once and must not leave them behind. */
const liveGroups = new Set<number>();
let killGroupsOnExit = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function spawnIo(argv: readonly string[]): ProcessIo {
  const [file, ...args] = argv;
  // A process group of its own: the terminal's Ctrl-C goes to vncplay's foreground group, and the command must
  // finish its step as an SSH host's would (vncplay decides what an interrupt stops, not the terminal).
  const child = spawn(file ?? 'true', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid !== undefined) {
    liveGroups.add(pid);
    child.once('close', () => liveGroups.delete(pid));
    if (!killGroupsOnExit) {
      killGroupsOnExit = true;
      process.once('exit', () => liveGroups.forEach((group) => signalGroup(group, 'SIGTERM')));
    }
  }
  const done = new Promise<{ code: number | null; signal?: string; note?: string }>((resolve) => {
    let failed = false;
    // A spawn failure (ENOENT, EACCES) looks like the shell's "not found" (127) so local and ssh agree.
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      resolve({ code: e.code === 'ENOENT' ? 127 : 126, note: `${file ?? ''}: ${e.code === 'ENOENT' ? 'not found' : e.message}` });
    });
    child.once('close', (code, signal) => {
      if (failed) return;
      failed = true;
      resolve(signal ? { code: null, signal: signal.replace(/^SIG/, '') } : { code });
    });
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    done,
    kill: () => {
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(pid, 'SIGTERM');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) signalGroup(pid, 'SIGKILL');
      }, 3000).unref();
    },
  };
}
