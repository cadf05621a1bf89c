import { isIP } from 'node:net';
import { sessionScript } from '../connection/line-session.js';
import { ModuleError } from '../errors.js';
import type { ModuleContext } from './types.js';

/**
 * wait_for's checks on a remote host without python: one bash function, defined once per line session and run in
 * the session's own shell, so a check costs a round trip and at most one fork (the TCP connect, which needs a
 * child for its timeout), no exec. The controller runs the loop (delay, sleep, timeout) and matches search_regex.
 *
 *   open HOST PORT CONNECT_S [READ_S]  connect through bash's /dev/tcp in a child, giving up after CONNECT_S.
 *                                      Prints `connected`, `timeout` or `failed <bash's message>`. With READ_S the
 *                                      child stays, forwarding what the server sends, and the first `read` follows.
 *   read WAIT_S                        what the server sent: `data`, `quiet` (nothing for WAIT_S) or `eof`, then
 *                                      the text; quiet and eof close the connection.
 *   close                              stop the child (and with it the connection).
 *   path PATH [1]                      `absent`, `exists`, or with 1 `content` and the file's text (`unreadable`).
 *   tcp PORTHEX                        the lines of /proc/net/tcp and tcp6 that mention the port.
 *
 * Between `open` and `close` the child's pipe is held in the session's shell (VP_WAIT_FD, VP_WAIT_PID): the only
 * state a vncplay session function keeps across calls, because a banner has to be read until the controller's
 * regex matches. Run anywhere but in a line session (a channel, a task `environment:`) each call is a fresh bash:
 * everything but a banner read works the same; `open` with READ_S answers `nosession` and the caller falls back.
 * bash drops NUL bytes from what it reads (a file's or a banner's).
 *
 * Only the first read of a call waits (`read -t`): what follows is taken while `read -t 0` says it is there. A timed
 * read that times out can lose the byte it was reading (measured: a banner read as "SS" + "-2.0-…", the H gone, so
 * ^SSH-2\.0- never matched and the wait took connect_timeout + sleep more). The child forwards each burst the
 * server sends in one write, so one call usually brings a whole banner.
 */
const WAIT_SCRIPT = sessionScript(
  'wait',
  String.raw`local w= c= data= n=0 st line= msg=
case $1 in
open)
  if [ -n "$5" ] && [ -z "${'${VP_UMASK-}'}" ]; then printf 'nosession\n'; return 0; fi
  if [ -n "${'${VP_WAIT_FD-}'}" ]; then kill "$VP_WAIT_PID" 2>/dev/null; exec {VP_WAIT_FD}<&-; VP_WAIT_FD=; fi
  exec {VP_WAIT_FD}< <(exec 2>&1 3<>"/dev/tcp/$2/$3" || exit 0; printf 'connected\n'; [ -n "$5" ] || exit 0; while IFS= read -r -N 1 -u 3 c; do data=$c; while [ ${'${#data}'} -lt 4096 ] && read -t 0 -u 3 && IFS= read -r -N 1 -u 3 c; do data+=$c; done; printf '%s' "$data"; done)
  VP_WAIT_PID=$!
  if IFS= read -r -t "$4" -u "$VP_WAIT_FD" line; then
    if [ "$line" = connected ]; then
      printf 'connected\n'
      w=$5
    else
      msg=$line
      while IFS= read -r -t 1 -u "$VP_WAIT_FD" line; do msg="$msg; $line"; done
      printf 'failed %s\n' "$msg"
    fi
  elif [ $? -gt 128 ]; then printf 'timeout\n'
  else printf 'failed %s\n' "$line"
  fi
  if [ -z "$w" ]; then kill "$VP_WAIT_PID" 2>/dev/null; exec {VP_WAIT_FD}<&-; VP_WAIT_FD=; return 0; fi
  ;&
read)
  [ -n "$w" ] || w=$2
  if [ -z "${'${VP_WAIT_FD-}'}" ]; then printf 'eof\n'; return 0; fi
  IFS= read -r -N 1 -t "$w" -u "$VP_WAIT_FD" c; st=$?
  if [ "$st" -eq 0 ]; then
    data=$c
    while [ "$n" -lt 4096 ] && read -t 0 -u "$VP_WAIT_FD"; do
      IFS= read -r -N 1 -u "$VP_WAIT_FD" c; st=$?
      [ "$st" -eq 0 ] || break
      data+=$c; n=$((n + 1))
    done
  fi
  if [ "$st" -eq 0 ]; then printf 'data\n%s' "$data"; return 0; fi
  kill "$VP_WAIT_PID" 2>/dev/null; exec {VP_WAIT_FD}<&-; VP_WAIT_FD=
  if [ "$st" -gt 128 ]; then printf 'quiet\n'; else printf 'eof\n%s' "$data"; fi
  ;;
close)
  if [ -n "${'${VP_WAIT_FD-}'}" ]; then kill "$VP_WAIT_PID" 2>/dev/null; exec {VP_WAIT_FD}<&-; VP_WAIT_FD=; fi
  ;;
path)
  if [ ! -e "$2" ]; then printf 'absent\n'; return 0; fi
  if [ -z "$3" ]; then printf 'exists\n'; return 0; fi
  if [ -d "$2" ]; then printf 'unreadable\n'; return 0; fi
  local -a lines=()
  { line=1; mapfile lines; } 2>/dev/null <"$2"
  if [ -z "$line" ]; then printf 'unreadable\n'; return 0; fi
  printf 'content\n'
  printf '%s' "${'${lines[@]}'}"
  ;;
tcp)
  for c in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$c" ] || continue
    while IFS= read -r line; do case $line in *:"$2"\ *) printf '%s\n' "$line" ;; esac; done <"$c"
  done
  ;;
esac`,
  { inShell: () => true, shell: 'bash' },
);

/** The session function said it cannot keep a connection between calls (not in a line session). */
export class NoLineSession extends Error {}

/** One call of the host function: its first line (the status) and the rest (the text). */
async function call(ctx: ModuleContext, args: readonly string[]): Promise<{ status: string; text: string }> {
  const res = await ctx.exec(['bash', '-c', WAIT_SCRIPT, 'vncplay-wait', ...args], { signal: ctx.signal });
  const nl = res.stdout.indexOf('\n');
  if (res.rc !== 0 || nl < 0) {
    throw new ModuleError('E_WAIT_FOR_PROBE', `wait_for check on ${ctx.hostName} failed (rc ${res.rc}): ${(res.stderr || res.stdout).trim().slice(0, 500)}`, {
      hint: 'wait_for needs bash on the host',
    });
  }
  return { status: res.stdout.slice(0, nl), text: res.stdout.slice(nl + 1) };
}

/** Seconds as bash's `read -t` takes them (a decimal fraction, never 0: 0 means "poll"). */
const secondsArg = (ms: number): string => (Math.max(ms, 1) / 1000).toFixed(3);

export type ConnectOutcome = { connected: true; first?: ReadOutcome } | { connected: false; last: string };
export type ReadOutcome = { kind: 'data' | 'eof'; text: string } | { kind: 'quiet' };

/** Connect to host:port from the host; with readMs the connection stays open and the first read is done too. */
export async function hostConnect(ctx: ModuleContext, host: string, port: number, connectMs: number, readMs?: number): Promise<ConnectOutcome> {
  const args = ['open', host, String(port), secondsArg(connectMs), ...(readMs === undefined ? [] : [secondsArg(readMs)])];
  const { status, text } = await call(ctx, args);
  if (status === 'nosession') throw new NoLineSession();
  if (status === 'timeout') return { connected: false, last: 'connect timed out' };
  if (status.startsWith('failed')) {
    return { connected: false, last: /Connection refused/.test(status) ? 'connection refused' : `connect failed: ${bashReason(status)}` };
  }
  if (status !== 'connected') throw unexpected(ctx, status);
  if (readMs === undefined) return { connected: true };
  const nl = text.indexOf('\n');
  return { connected: true, first: readOutcome(ctx, text.slice(0, nl), text.slice(nl + 1)) };
}

/** bash's last complaint without its prefixes: "bash: line 1: /dev/tcp/h/1: No route to host" → "No route to host". */
function bashReason(status: string): string {
  const last = status.split('; ').pop() ?? status;
  return last.replace(/^failed /, '').split(': ').pop()?.trim() || 'unknown error';
}

function readOutcome(ctx: ModuleContext, status: string, text: string): ReadOutcome {
  if (status === 'quiet') return { kind: 'quiet' };
  if (status === 'data' || status === 'eof') return { kind: status, text };
  throw unexpected(ctx, status);
}

function unexpected(ctx: ModuleContext, status: string): ModuleError {
  return new ModuleError('E_WAIT_FOR_PROBE', `wait_for check on ${ctx.hostName} answered '${status.slice(0, 200)}'`);
}

/** The next text the open connection brings, waiting up to waitMs for it. */
export async function hostRead(ctx: ModuleContext, waitMs: number): Promise<ReadOutcome> {
  const { status, text } = await call(ctx, ['read', secondsArg(waitMs)]);
  return readOutcome(ctx, status, text);
}

export async function hostClose(ctx: ModuleContext): Promise<void> {
  await call(ctx, ['close']).catch(() => undefined);
}

export type PathOutcome = { kind: 'absent' | 'exists' | 'unreadable' } | { kind: 'content'; text: string };

export async function hostPath(ctx: ModuleContext, path: string, withContent: boolean): Promise<PathOutcome> {
  const { status, text } = await call(ctx, ['path', path, ...(withContent ? ['1'] : [])]);
  if (status === 'content') return { kind: 'content', text };
  if (status === 'absent' || status === 'exists' || status === 'unreadable') return { kind: status };
  throw unexpected(ctx, status);
}

/** The lines of the host's /proc/net/tcp{,6} about `port` (as countActive reads them). */
export async function hostTcpTable(ctx: ModuleContext, port: number): Promise<string> {
  const { text } = await call(ctx, ['tcp', port.toString(16).toUpperCase().padStart(4, '0')]);
  return text;
}

/** exclude_hosts as addresses, resolved on the host as Ansible does (getent: one exec per name, none for addresses). */
export async function hostResolve(ctx: ModuleContext, names: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of names) {
    if (isIP(name) !== 0) {
      out.add(name);
      continue;
    }
    const res = await ctx.exec(['getent', 'ahosts', name], { signal: ctx.signal });
    const addrs = res.rc === 0 ? res.stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter((a) => isIP(a) !== 0) : [];
    if (addrs.length === 0) out.add(name);
    for (const a of addrs) out.add(a);
  }
  return out;
}
