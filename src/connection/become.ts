import { randomBytes } from 'node:crypto';
import { ConnectionError, VncplayError } from '../errors.js';
import { joinArgv } from './quote.js';

/**
 * Privilege escalation through sudo (the default) or su. Without a password: `sudo -n` (never waits for a prompt).
 * With one: `sudo -S -p <random prompt>` (or `su USER -c …`, which reads the target user's password from stdin)
 * and a success marker, so the password is written to stdin only when sudo or su actually asks for it, and the
 * command's own stdin only once it has handed over (see exec-driver.ts). The password is never put in argv and
 * never appears in any result.
 */

/** Ansible's become plugins that vncplay implements (`become_method`, `ansible_become_method`). */
export type BecomeMethod = 'sudo' | 'su';

/** `sudo`, `su` or their `ansible.builtin.` names; undefined for any other method. */
export function becomeMethodNamed(name: string): BecomeMethod | undefined {
  const short = name.trim().replace(/^ansible\.builtin\./, '');
  return short === 'sudo' || short === 'su' ? short : undefined;
}

export interface BecomeRequest {
  /** Target user; root when empty. */
  user: string;
  password?: string;
  /** sudo when absent. */
  method?: BecomeMethod;
}

/** What the exec driver needs to answer the password prompt and find where the command's own output starts. */
export interface BecomeHandshake {
  /** The prompt sudo or su prints on stderr when it wants the password (sudo's is unique, su's is PAM's). */
  prompt: string | RegExp;
  /** Line the wrapped command prints on stdout once sudo/su has authenticated. */
  success: string;
  password: string;
  /** What su prints when it refuses the password (it does not ask again, as sudo does). */
  refused?: RegExp;
}

/**
 * PAM's password prompt as su prints it, in the languages Ansible's su plugin knows best; `g` because the driver
 * counts the prompts (a second one means the first answer was wrong).
 */
const SU_PROMPT = /(?:^|\n)[^\n:]*(?:[Pp]assword|[Pp]asswort|[Mm]ot de passe|[Cc]ontraseña|[Ss]enha|[Pp]arola|[Ll]ösenord|パスワード|密码|Пароль)[^\n:]*[:：] ?/g;
const SU_REFUSED = /(?:^|\s)su: (?:Authentication failure|incorrect password|Sorry)/m;

export interface WrappedCommand {
  argv: string[];
  handshake?: BecomeHandshake;
}

/** Wrap argv so it runs as `req.user` through sudo or su. */
export function wrapBecome(argv: readonly string[], req: BecomeRequest): WrappedCommand {
  const user = req.user || 'root';
  if (req.method === 'su') return wrapSu(argv, user, req.password);
  if (req.password === undefined) {
    return { argv: ['sudo', '-n', '-H', '-u', user, '--', ...argv] };
  }
  const tag = randomBytes(12).toString('hex');
  const prompt = `[vncplay-sudo-${tag}] password: `;
  const handshake: BecomeHandshake = { prompt, success: `VNCPLAY-BECOME-OK-${tag}`, password: req.password };
  // `sh -c 'echo MARK; exec "$0" "$@"' argv…`: the marker proves sudo let us through, then the shell becomes the command.
  return {
    argv: ['sudo', '-S', '-p', prompt, '-H', '-u', user, '--', 'sh', '-c', `echo ${handshake.success} && exec "$0" "$@"`, ...argv],
    handshake,
  };
}

/**
 * `su USER -c 'sh -c "echo MARK && exec \"$0\" \"$@\"" argv…'`: su runs the user's login shell with -c, so the
 * command line is quoted once more for it. su always asks for the target user's password (unless the login user is
 * root, which never needs become), so it is required here rather than discovered from a refusal.
 */
function wrapSu(argv: readonly string[], user: string, password: string | undefined): WrappedCommand {
  if (password === undefined) throw becomePasswordMissing('', user, 'su');
  const tag = randomBytes(12).toString('hex');
  const handshake: BecomeHandshake = { prompt: SU_PROMPT, success: `VNCPLAY-BECOME-OK-${tag}`, password, refused: SU_REFUSED };
  const inner = joinArgv(['sh', '-c', `echo ${handshake.success} && exec "$0" "$@"`, ...argv]);
  return { argv: ['su', user, '-c', inner], handshake };
}

/** sudo -n refused because a password (or a tty for one) is needed. */
export function sudoNeedsPassword(rc: number, stderr: string): boolean {
  return rc === 1 && /^sudo: (a password is required|a terminal is required)/m.test(stderr);
}

export function becomePasswordMissing(hostName: string, user: string, method: BecomeMethod = 'sudo'): ConnectionError {
  const where = hostName ? ` on ${hostName}` : '';
  return new ConnectionError('E_BECOME_PASSWORD', `${method}${where} asks for a password to become ${user || 'root'}`, {
    hint:
      method === 'su'
        ? `become_method su needs ${user || 'root'}'s password: set ansible_become_password (ideally vault-encrypted) or use --ask-become-pass`
        : 'set ansible_become_password (ideally vault-encrypted) or use --ask-become-pass',
  });
}

export function becomePasswordWrong(hostName: string, user: string, method: BecomeMethod = 'sudo'): ConnectionError {
  return new ConnectionError('E_BECOME_PASSWORD', `${method} on ${hostName} rejected the become password for ${user || 'root'}`, {
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
