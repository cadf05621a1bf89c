import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireProgram } from './tools.js';
import { vncplay, type CliRun } from './cli-helpers.js';

/**
 * The same playbook run by ansible-playbook (json callback) and by vncplay (--json), with each task's registered
 * result on one host, by task name, so a parity test compares the fields playbooks read.
 */
export interface ParityRun {
  /** Task name → the host's result (a loop's results list under `results`). */
  theirs: Record<string, Record<string, unknown>>;
  ours: Record<string, Record<string, unknown>>;
  theirsRecap: Record<string, unknown>;
  oursRecap: CliRun['recap'][string] | undefined;
  dir: string;
  theirsOutput: string;
  oursOutput: string;
}

export interface ParityOptions {
  /** Inventory file (absolute) or the text of an INI inventory written beside the playbook. */
  inventory: { file: string } | { text: string };
  host: string;
  /** Other files of the project (vars files, roles), relative path → content. */
  files?: Record<string, string>;
  /** Extra command-line arguments for both (`--check`, `-e x=y`, `--vault-password-file f`). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** An INI inventory of hosts that both tools reach on the controller itself (ansible_connection=local). */
export function localInventory(names: readonly string[]): string {
  return names.map((name) => `${name} ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n`).join('');
}

export function writeProject(files: Record<string, string>, dir = mkdtempSync(path.join(tmpdir(), 'vncplay-parity-'))): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

interface AnsibleJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[];
  stats: Record<string, Record<string, unknown>>;
}

/** A program's whole stdout and stderr, without blocking the event loop; killed after timeoutMs. */
function runToEnd(program: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

/** Runs `playbook` with both tools; names every task (a name is the key both outputs are matched on). */
export async function runBoth(playbook: string, opts: ParityOptions): Promise<ParityRun> {
  const dir = writeProject({ 'pb.yml': playbook, ...(opts.files ?? {}) });
  const inventory = 'file' in opts.inventory ? opts.inventory.file : path.join(dir, 'inventory.ini');
  if ('text' in opts.inventory) writeFileSync(inventory, opts.inventory.text);
  const args = ['-i', inventory, 'pb.yml', ...(opts.args ?? [])];
  // Not cli-helpers' ansiblePlaybook: the json callback prints one JSON document, not NDJSON events.
  // Not spawnSync: a test may serve what the play fetches (get_url, uri) from this very process.
  const theirsRun = await runToEnd(requireProgram('ansible-playbook'), args, {
    cwd: dir,
    env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0', ...opts.env },
    timeoutMs: 170_000,
  });
  const theirs: ParityRun['theirs'] = {};
  let theirsRecap: Record<string, unknown> = {};
  try {
    // A task may print before the document (pause's "Pausing for 1 seconds"): the document starts at a line's `{`.
    const start = theirsRun.stdout.startsWith('{') ? 0 : theirsRun.stdout.indexOf('\n{') + 1;
    const doc = JSON.parse(theirsRun.stdout.slice(start)) as AnsibleJson;
    for (const play of doc.plays) for (const t of play.tasks) if (t.hosts[opts.host]) theirs[t.task.name] = t.hosts[opts.host]!;
    theirsRecap = doc.stats[opts.host] ?? {};
  } catch {
    // left empty: the caller's expectations show the output
  }
  const oursRun = await vncplay([...args, '--json'], { cwd: dir, ...(opts.env ? { env: opts.env } : {}), timeoutMs: 170_000 });
  const ours: ParityRun['ours'] = {};
  for (const e of oursRun.events) {
    if (e.type === 'task_result' && e.host === opts.host && e.task.name !== undefined) ours[e.task.name] = { ...(e.result ?? {}), ...(e.failed ? { failed: true } : {}) };
  }
  return {
    theirs,
    ours,
    theirsRecap,
    oursRecap: oursRun.recap[opts.host],
    dir,
    theirsOutput: theirsRun.stdout + theirsRun.stderr,
    oursOutput: oursRun.stdout + oursRun.stderr,
  };
}

/**
 * The listed fields of each task's result (absent fields as undefined), for toEqual between the two runs.
 * `failed: false` counts as absent: Ansible writes it for some results (failed_when), vncplay for others.
 */
export function pick(results: Record<string, Record<string, unknown>>, fields: readonly string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(results)) out[name] = Object.fromEntries(fields.map((f) => [f, f === 'failed' && r[f] === false ? undefined : r[f]]));
  return out;
}

/** ok/changed/failed/skipped of a recap, spelled the same for both tools. */
export function counts(recap: Record<string, unknown> | undefined): Record<string, unknown> {
  const r = recap ?? {};
  return { ok: r['ok'], changed: r['changed'], failed: r['failed'] ?? r['failures'], skipped: r['skipped'], ignored: r['ignored'] };
}
