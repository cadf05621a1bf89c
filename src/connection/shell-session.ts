import type { ClientChannel } from 'ssh2';
import type { BecomeHandshake } from './become.js';
import { ChannelSession } from './channel-session.js';
import type { ExecResult } from './types.js';

/**
 * A long-lived `sh` on one SSH channel that runs commands one after another, so a command costs one fork on the
 * host instead of a new sshd session (+ PAM, + sudo + PAM under become). Opt-in (SshConnectOptions.shellSession).
 *
 * Wire format, chosen so no byte of a command, its stdin or its output can be mistaken for framing:
 *   controller → host:  "<script bytes> <stdin bytes>\n" then exactly those bytes (GNU/busybox `head -c` reads no more)
 *   host → controller:  "VP-RESULT <rc> <stdout bytes> <stderr bytes>\n" then exactly those bytes
 * Output goes to files first, so a command's output can never interleave with the framing. The driver checks it
 * received every byte before running anything: a controller that dies mid-send never runs a truncated command.
 * Each command runs in a subshell: `exit`, `cd` and variables do not leak into the next one.
 */
export const SESSION_DRIVER = `d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
echo VP-READY
while IFS= read -r hdr; do
  set -- $hdr; n=$1 m=$2
  head -c "$n" > "$d/c" && head -c "$m" > "$d/i" || exit 1
  set -- $(wc -c "$d/c" "$d/i")
  [ "$1" = "$n" ] && [ "$3" = "$m" ] || exit 1
  ( . "$d/c" ) < "$d/i" > "$d/o" 2> "$d/e"; rc=$?
  set -- $(wc -c "$d/o" "$d/e")
  echo "VP-RESULT $rc $1 $3"
  cat "$d/o" "$d/e"
done`;

const READY = Buffer.from('VP-READY\n');

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: Error): void;
}

export class ShellSession extends ChannelSession<Pending> {
  private buf: Buffer = Buffer.alloc(0);
  private prompts = 0;
  private errText = '';

  constructor(
    ch: ClientChannel,
    private readonly handshake?: BecomeHandshake,
  ) {
    super(ch, 'shell session');
    ch.on('data', (d: Buffer) => this.onData(d));
    ch.stderr.on('data', (d: Buffer) => this.onStderr(d));
  }

  /** Run one shell command line (already quoted by joinArgv). Rejects only if the session itself broke. */
  run(script: string, stdin: Uint8Array): Promise<ExecResult> {
    if (!this.usable) return this.refused();
    const cmd = Buffer.from(script, 'utf8');
    return new Promise<ExecResult>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.ch.write(`${cmd.length} ${stdin.length}\n`);
      this.ch.write(cmd);
      if (stdin.length > 0) this.ch.write(stdin);
    });
  }

  private onStderr(d: Buffer): void {
    if (this.ready || !this.handshake) return;
    this.errText += d.toString('latin1');
    const seen = this.errText.split(this.handshake.prompt).length - 1;
    while (this.prompts < seen) {
      this.prompts++;
      if (this.prompts === 1) this.ch.write(`${this.handshake.password}\n`);
      else this.kill(); // a second prompt: wrong password; the caller falls back to a channel and reports it
    }
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (!this.ready) {
      const at = this.buf.indexOf(READY);
      if (at < 0) return;
      this.buf = this.buf.subarray(at + READY.length);
      this.markReady();
    }
    this.parseResult();
  }

  private parseResult(): void {
    if (!this.pending) return;
    const nl = this.buf.indexOf(0x0a);
    if (nl < 0) return;
    const m = /^VP-RESULT (\d+) +(\d+) +(\d+)$/.exec(this.buf.subarray(0, nl).toString('latin1'));
    if (!m) return this.protocolError(JSON.stringify(this.buf.subarray(0, Math.min(nl, 80)).toString()));
    const outLen = Number(m[2]);
    const errLen = Number(m[3]);
    const start = nl + 1;
    if (this.buf.length < start + outLen + errLen) return;
    const stdout = this.buf.subarray(start, start + outLen).toString('utf8');
    const stderr = this.buf.subarray(start + outLen, start + outLen + errLen).toString('utf8');
    this.buf = this.buf.subarray(start + outLen + errLen);
    const p = this.pending;
    this.pending = undefined;
    p.resolve({ rc: Number(m[1]), stdout, stderr });
  }
}
