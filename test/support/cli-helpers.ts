import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
const { dirname, join, resolve } = path;
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/runner/events.js';
import { requireProgram } from './tools.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(repoRoot, 'bin/vncplay.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed NDJSON events when the run used --json. */
  events: RunEvent[];
  recap: Record<string, { ok: number; changed: number; unreachable: number; failed: number; skipped: number; rescued: number; ignored: number }>;
}

/** Runs the built CLI (`npm run build` is part of `npm test`'s setup) and parses its output. */
export function vncplay(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return runProcess('node', [bin, ...args], opts);
}

/** ansible-playbook from Debian's ansible-core, for side-by-side comparisons of counts. */
export function ansiblePlaybook(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return runProcess(requireProgram('ansible-playbook'), args, { ...opts, env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ...opts.env } });
}

function runProcess(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = stdout.startsWith('{') ? stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent) : [];
      resolvePromise({ code: code ?? -1, stdout, stderr, events, recap: parseRecap(stdout, events) });
    });
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

/** The PLAY RECAP counters, from the NDJSON recap event or from the text block (ours and Ansible's look alike). */
export function parseRecap(stdout: string, events: RunEvent[]): CliRun['recap'] {
  const ev = events.find((e) => e.type === 'recap');
  if (ev && ev.type === 'recap') return ev.hosts;
  const out: CliRun['recap'] = {};
  const block = stdout.split('PLAY RECAP').pop() ?? '';
  const line = /^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)/gm;
  for (const m of block.matchAll(line)) {
    out[m[1]!] = { ok: +m[2]!, changed: +m[3]!, unreachable: +m[4]!, failed: +m[5]!, skipped: +m[6]!, rescued: +m[7]!, ignored: +m[8]! };
  }
  return out;
}

/**
 * Writes a YAML inventory with the given fleet hosts in group `vnc`, connection variables for the fleet's login
 * user, and extra group variables (JSON is valid YAML, so values go in as JSON). Returns its path.
 */
export async function writeVncInventory(
  dir: string,
  hosts: readonly { name: string; address: string }[],
  vars: Record<string, unknown>,
  fleet: { key: string; knownHosts: string },
): Promise<string> {
  const file = path.join(dir, 'inventory.yml');
  const allVars = {
    ansible_user: 'vncplay',
    ansible_become: true,
    ansible_ssh_private_key_file: fleet.key,
    vncplay_known_hosts_file: fleet.knownHosts,
    ...vars,
  };
  const varLines = Object.entries(allVars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const hostLines = hosts.map((h) => `        ${h.name}:\n          ansible_host: ${h.address}`);
  await writeFile(file, ['all:', '  vars:', ...varLines, '  children:', '    vnc:', '      hosts:', ...hostLines, ''].join('\n'));
  return file;
}

/** The first bytes a VNC server sends (its RFB version banner), read from the controller; '' when none came. */
export function rfbBanner(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: address, port, timeout: 3000 });
    let got = '';
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.length >= 12) sock.destroy();
    });
    sock.on('close', () => resolve(got));
    sock.on('timeout', () => sock.destroy());
    sock.on('error', () => resolve(''));
  });
}

/** The `"msg": …` lines a run printed (debug's messages, one per line, trimmed): what parity tests compare. */
export function debugMessages(run: CliRun): string[] {
  return run.stdout
    .split('\n')
    .filter((l) => l.trimStart().startsWith('"msg"'))
    .map((l) => l.trim());
}
