/**
 * The floor: what a bare ssh2 script costs for the benchmark's workload. One connection per host, the task
 * commands one after another on it (one exec channel each), `forks` hosts at once. No state probing, no
 * templating, no reporting: the least any runner doing the same round trips can spend.
 * With --trivial, the protocol's own limit: one connection and one channel (`cat`) per host, and per task one
 * trivial round trip on it (a line sent, the same line back): no command, no process on the host per task.
 *
 *   node bench/.work/bin/floor.js --hosts hosts.json --forks 20 [--trivial]
 * hosts.json: { user, keyFile, knownHostsFile, hosts: [{ name, address }] }
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import { floorCommands, TASK_COUNT, type FloorCommand } from './workload.js';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

export interface FloorHosts {
  user: string;
  keyFile: string;
  knownHostsFile: string;
  hosts: { name: string; address: string }[];
}

/** address → base64 key blob, from an OpenSSH known_hosts file written by fleet.sh (plain, unhashed). */
function knownKeys(file: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [names, , blob] = line.trim().split(/\s+/);
    if (!names || !blob || names.startsWith('#')) continue;
    for (const n of names.split(',')) keys.set(n, blob);
  }
  return keys;
}

function connectHost(address: string, user: string, key: Buffer, expected: string | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => {
      client.setNoDelay(true);
      resolve(client);
    });
    client.once('error', reject);
    client.connect({
      host: address,
      port: 22,
      username: user,
      privateKey: key,
      readyTimeout: 20_000,
      // Checked like StrictHostKeyChecking=yes: the floor must not be cheaper by skipping the check.
      hostVerifier: (presented: Buffer) => expected !== undefined && presented.toString('base64') === expected,
    });
  });
}

function execOne(client: Client, cmd: FloorCommand): Promise<number> {
  return new Promise((resolve, reject) => {
    client.exec(cmd.command, (err, ch) => {
      if (err) return reject(err);
      let rc = -1;
      ch.on('exit', (code: number | null) => (rc = code ?? -1));
      ch.on('data', () => undefined);
      ch.stderr.on('data', () => undefined);
      ch.once('close', () => resolve(rc));
      ch.end(cmd.stdin ?? '');
    });
  });
}

/** TASK_COUNT round trips on one `cat` channel: a line out, wait for it to come back. */
function trivialRoundTrips(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec('cat', (err, ch) => {
      if (err) return reject(err);
      let sent = 0;
      let echoed = '';
      const next = (): void => {
        if (sent === TASK_COUNT) return void ch.end();
        sent++;
        ch.write(`task ${sent}\n`);
      };
      ch.on('data', (d: Buffer) => {
        echoed += d.toString();
        if (echoed.endsWith(`task ${sent}\n`)) next();
      });
      ch.once('close', () => (sent === TASK_COUNT ? resolve() : reject(new Error(`cat ended after ${sent} round trips`))));
      next();
    });
  });
}

async function runHost(h: { name: string; address: string }, cfg: FloorHosts, key: Buffer, known: Map<string, string>, trivial: boolean): Promise<void> {
  const client = await connectHost(h.address, cfg.user, key, known.get(h.address));
  try {
    if (trivial) return await trivialRoundTrips(client);
    for (const cmd of floorCommands(h.name, h.address)) {
      const rc = await execOne(client, cmd);
      if (rc !== 0) throw new Error(`${h.name}: '${cmd.command}' exited ${rc}`);
    }
  } finally {
    client.end();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { hosts: { type: 'string' }, forks: { type: 'string' }, trivial: { type: 'boolean' } } });
  if (!values.hosts) throw new Error('--hosts FILE is required');
  const cfg = JSON.parse(readFileSync(values.hosts, 'utf8')) as FloorHosts;
  const forks = Number(values.forks ?? 20);
  const parsed = utils.parseKey(readFileSync(cfg.keyFile));
  if (parsed instanceof Error) throw parsed;
  const key = readFileSync(cfg.keyFile);
  const known = knownKeys(cfg.knownHostsFile);
  const queue = [...cfg.hosts];
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let h = queue.shift(); h; h = queue.shift()) {
      await runHost(h, cfg, key, known, values.trivial ?? false).catch((e: unknown) => {
        failed++;
        process.stderr.write(`floor: ${h?.name}: ${e instanceof Error ? e.message : String(e)}\n`);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(forks, cfg.hosts.length) }, worker));
  process.stdout.write(`floor: ${cfg.hosts.length - failed}/${cfg.hosts.length} hosts ok\n`);
  return failed ? 2 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`floor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
