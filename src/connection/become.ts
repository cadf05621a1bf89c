import { randomBytes } from 'node:crypto';
import { ConnectionError, VncplayError } from '../errors.js';

/**
 * Privilege escalation through sudo. Without a password: `sudo -n` (never waits for a prompt). With one:
 * `sudo -S -p <random prompt>` and a success marker, so the password is written to stdin only when sudo actually
 * asks for it, and the command's own stdin only once sudo has handed over (see exec-driver.ts). The password is
 * never put in argv and never appears in any result.
 */

export interface BecomeRequest {
  /** Target user; root when empty. */
  user: string;
  password?: string;
}

/** What the exec driver needs to answer sudo's prompt and find where the command's own output starts. */
export interface BecomeHandshake {
  /** Unique prompt sudo prints on stderr when it wants the password. */
  prompt: string;
  /** Line the wrapped command prints on stdout once sudo has authenticated. */
  success: string;
  password: string;
}

export interface WrappedCommand {
  argv: string[];
  handshake?: BecomeHandshake;
}

/** Wrap argv so it runs as `req.user` through sudo. */
export function wrapBecome(argv: readonly string[], req: BecomeRequest): WrappedCommand {
  const user = req.user || 'root';
  if (req.password === undefined) {
    return { argv: ['sudo', '-n', '-H', '-u', user, '--', ...argv] };
  }
  const tag = randomBytes(12).toString('hex');
  const handshake: BecomeHandshake = {
    prompt: `[vncplay-sudo-${tag}] password: `,
    success: `VNCPLAY-BECOME-OK-${tag}`,
    password: req.password,
  };
  // `sh -c 'echo MARK; exec "$0" "$@"' argv…`: the marker proves sudo let us through, then the shell becomes the command.
  return {
    argv: ['sudo', '-S', '-p', handshake.prompt, '-H', '-u', user, '--', 'sh', '-c', `echo ${handshake.success} && exec "$0" "$@"`, ...argv],
    handshake,
  };
}

/** sudo -n refused because a password (or a tty for one) is needed. */
export function sudoNeedsPassword(rc: number, stderr: string): boolean {
  return rc === 1 && /^sudo: (a password is required|a terminal is required)/m.test(stderr);
}

export function becomePasswordMissing(hostName: string, user: string): ConnectionError {
  return new ConnectionError('E_BECOME_PASSWORD', `sudo on ${hostName} asks for a password to become ${user || 'root'}`, {
    hint: 'set ansible_become_password (ideally vault-encrypted) or use --ask-become-pass',
  });
}

export function becomePasswordWrong(hostName: string, user: string): ConnectionError {
  return new ConnectionError('E_BECOME_PASSWORD', `sudo on ${hostName} rejected the become password for ${user || 'root'}`, {
    hint: 'check ansible_become_password / the --ask-become-pass answer for this host',
  });
}

/** Does this become request need sudo at all? Not when we already are the target user. */
export function becomeNeeded(loginUser: string, becomeUser: string): boolean {
  return loginUser !== (becomeUser || 'root');
}

/** An empty argv would make sshd start an interactive login shell; refuse it loudly instead. */
export function assertArgv(argv: readonly string[]): void {
  if (argv.length === 0 || argv[0] === '') {
    throw new VncplayError('E_ARGV_EMPTY', 'internal error: a module asked to run an empty command', {
      hint: 'this is a bug in the module; please report it',
    });
  }
}
