import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { LINE_SESSION_DRIVER, LineSession } from '../../src/connection/line-session.js';

/**
 * A LineSession on a local bash instead of an SSH channel: the same driver, framing and session functions, so a
 * module's host-side functions can be driven call by call, as on a host, without the fleet.
 */
export async function localLineSession(): Promise<{ session: LineSession; close(): void }> {
  const child = spawn('bash', ['-c', LINE_SESSION_DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const channel = Object.assign(new EventEmitter(), {
    stderr: child.stderr,
    write: (data: string): boolean => child.stdin.write(data),
    end: (): void => void child.stdin.end(),
    close: (): void => void child.kill(),
  });
  child.stdout.on('data', (d: Buffer) => channel.emit('data', d));
  child.on('close', () => channel.emit('close'));
  const session = new LineSession(channel as unknown as ClientChannel);
  await session.waitReady();
  return { session, close: () => child.stdin.end() };
}
