/**
 * Host-side CPU of the light fleet, measured exactly even on a busy machine: every light host's sshd (and so every
 * session, shell and command it forks) is moved into one cpuacct cgroup, whose usage counter is read around each
 * run. The light hosts share this machine's 2 cores with the controller, so this is the other half of the bill:
 * a tool that spawns fewer processes on the hosts leaves more CPU for everything else.
 * Works with cgroup v1 (cpuacct) and v2 (cpu.stat); without either, or not as root, the benchmark goes on without it.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const NAME = 'vncplay-bench-hosts';

interface Layout {
  dir: string;
  /** The cgroup the processes go back to at the end. */
  parent: string;
  usageMs(dir: string): number;
}

function layout(): Layout | undefined {
  const v1 = '/sys/fs/cgroup/cpuacct';
  if (existsSync(path.join(v1, 'cpuacct.usage'))) {
    return { dir: path.join(v1, NAME), parent: v1, usageMs: (d) => Number(readFileSync(path.join(d, 'cpuacct.usage'), 'utf8')) / 1e6 };
  }
  const v2 = '/sys/fs/cgroup';
  if (existsSync(path.join(v2, 'cgroup.controllers'))) {
    return {
      dir: path.join(v2, NAME),
      parent: v2,
      usageMs: (d) => Number(/^usage_usec (\d+)$/m.exec(readFileSync(path.join(d, 'cpu.stat'), 'utf8'))?.[1] ?? NaN) / 1e3,
    };
  }
  return undefined;
}

/** The pids of the light hosts' sshd listeners (fleet.sh writes one sshd.pid per host). */
export function lightSshdPids(lightRoot = '/var/lib/vncplay-fleet/light'): number[] {
  if (!existsSync(lightRoot)) return [];
  return readdirSync(lightRoot)
    .map((host) => path.join(lightRoot, host, 'sshd.pid'))
    .filter((f) => existsSync(f))
    .map((f) => Number(readFileSync(f, 'utf8').trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 1 && existsSync(`/proc/${pid}`));
}

export class HostCpu {
  private constructor(
    private readonly where: Layout,
    private readonly pids: number[],
  ) {}

  /** Moves `pids` into the benchmark's cgroup; undefined when this machine or user cannot. */
  static open(pids: number[]): HostCpu | undefined {
    const where = layout();
    if (!where || pids.length === 0) return undefined;
    try {
      mkdirSync(where.dir, { recursive: true });
      for (const pid of pids) writeFileSync(path.join(where.dir, 'cgroup.procs'), `${pid}\n`);
      const probe = where.usageMs(where.dir);
      if (!Number.isFinite(probe)) throw new Error('no usage counter');
      return new HostCpu(where, pids);
    } catch {
      return undefined;
    }
  }

  /** CPU time (user + system) the hosts used so far, in ms. */
  usageMs(): number {
    return this.where.usageMs(this.where.dir);
  }

  /** Moves the processes back and removes the cgroup. */
  close(): void {
    for (const pid of this.pids) {
      try {
        writeFileSync(path.join(this.where.parent, 'cgroup.procs'), `${pid}\n`);
      } catch {
        /* it has exited */
      }
    }
    // Sessions still winding down keep the cgroup busy for a moment; a leftover empty cgroup is harmless.
    try {
      rmdirSync(this.where.dir);
    } catch {
      /* not empty yet */
    }
  }
}
