// Test-side view of the fleet made by test/fleet/fleet.sh: where its files are, which hosts exist,
// and a way to look inside a host that does not go through vncplay (so tests can check real host state).
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ConnectionSpec } from '../../src/connection/types.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const fleetScript: string = join(repoRoot, 'test/fleet/fleet.sh');

export interface FleetHost {
  /** 1-based index: h1 is 1. */
  index: number;
  name: string;
  address: string;
  /** Network namespace the host lives in (vp-h<i>). */
  netns: string;
}

export interface HostExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostExecOptions {
  stdin?: string;
  timeoutMs?: number;
}

interface FleetFile {
  /** Which of the side-by-side fleets this is (fleet.sh FLEET_SLOT): 1 is h1..hN at 198.18.0.11.. */
  slot: number;
  /** The controller's address on this fleet's bridge: servers the hosts must reach listen here. */
  bridgeAddress: string;
  stateDir: string;
  hosts: Array<FleetHost & { pidFile: string }>;
}

/** Directory holding inventory.yml, known_hosts and the key; set per test worker by test/fleet/worker-slot.ts. */
export function fleetDir(): string {
  return process.env.VNCPLAY_FLEET_DIR ?? process.env.FLEET_DIR ?? join(repoRoot, '.fleet');
}

/** Which of the side-by-side fleets this worker uses (1 unless test files run two at a time). */
export function fleetSlot(): number {
  return readFleetFile().slot ?? 1;
}

/** The controller's address on this fleet's bridge (198.18.0.1 for slot 1): where test servers listen for the hosts. */
export function fleetBridgeAddress(): string {
  // Without a fleet (describe.skipIf files still evaluate their constants) slot 1's address stands in.
  if (!existsSync(join(fleetDir(), 'fleet.json'))) return '198.18.0.1';
  return readFleetFile().bridgeAddress ?? '198.18.0.1';
}

/** An address in this worker's fleet subnet, by its last byte: 1 is the controller, 11.. are h1.., the rest unused. */
export function fleetAddress(lastByte: number): string {
  return fleetBridgeAddress().replace(/\.\d+$/, `.${lastByte}`);
}

/**
 * The environment fleet.sh needs to act on this worker's fleet: its slot, and FLEET_DIR naming slot 1's folder
 * (fleet.sh puts slot S's files in <FLEET_DIR>/slot-S itself).
 */
export function fleetScriptEnv(): NodeJS.ProcessEnv {
  const slot = fleetSlot();
  return { ...process.env, FLEET_SLOT: String(slot), FLEET_DIR: slot > 1 ? dirname(fleetDir()) : fleetDir() };
}

/** False when VNCPLAY_FLEET=off or no fleet has been brought up: use with describe.skipIf. */
export function fleetAvailable(): boolean {
  return process.env.VNCPLAY_FLEET !== 'off' && existsSync(join(fleetDir(), 'fleet.json'));
}

/** Path of the Ansible YAML inventory (group `fleet`, hosts h1..hN). */
export function fleetInventory(): string {
  return join(fleetDir(), 'inventory.yml');
}

/** Path of the same inventory in Ansible INI form. */
export function fleetInventoryIni(): string {
  return join(fleetDir(), 'inventory.ini');
}

/** Path of an OpenSSH known_hosts file with every host key of every fleet host. */
export function fleetKnownHosts(): string {
  return join(fleetDir(), 'known_hosts');
}

/** Path of the controller's private key (ed25519, no passphrase) accepted by the `vncplay` user. */
export function fleetKey(): string {
  return join(fleetDir(), 'id_ed25519');
}

function readFleetFile(): FleetFile {
  const file = join(fleetDir(), 'fleet.json');
  if (!existsSync(file)) {
    throw new Error(`no fleet at ${fleetDir()}: run \`bash test/fleet/fleet.sh up 3\` as root (or set VNCPLAY_FLEET=off)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as FleetFile;
}

export function fleetHosts(): FleetHost[] {
  return readFleetFile().hosts.map(({ index, name, address, netns }) => ({ index, name, address, netns }));
}

/** How the controller reaches a fleet host over SSH: the `vncplay` user, the fleet key, strict host keys. */
export function fleetConnectionSpec(h: Pick<FleetHost, 'name' | 'address'>, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    hostName: h.name,
    connection: 'ssh',
    address: h.address,
    port: 22,
    user: 'vncplay',
    privateKeyFile: fleetKey(),
    become: false,
    becomeUser: 'root',
    hostKeyChecking: 'strict',
    knownHostsFiles: [fleetKnownHosts()],
    connectTimeoutMs: 10_000,
    ...over,
  };
}

function findHost(host: number | string): FleetHost & { pidFile: string } {
  const hosts = readFleetFile().hosts;
  const found = hosts.find((h) => h.index === host || h.name === host || h.address === host);
  if (!found) throw new Error(`fleet has no host ${String(host)} (hosts: ${hosts.map((h) => h.name).join(', ')})`);
  return found;
}

// nspawn's only child is the container's PID 1; its namespaces are the host's namespaces.
function containerInitPid(host: FleetHost & { pidFile: string }): number {
  if (!existsSync(host.pidFile)) throw new Error(`${host.name} is not running (no ${host.pidFile})`);
  const nspawnPid = readFileSync(host.pidFile, 'utf8').trim();
  const taskDir = `/proc/${nspawnPid}/task`;
  if (!existsSync(taskDir)) throw new Error(`${host.name} is not running (nspawn pid ${nspawnPid} is gone)`);
  for (const tid of readdirSync(taskDir)) {
    const child = readFileSync(`${taskDir}/${tid}/children`, 'utf8').trim().split(/\s+/)[0];
    if (child) return Number(child);
  }
  throw new Error(`${host.name} has no init process under nspawn pid ${nspawnPid}`);
}

const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs argv as root inside fleet host `host` (index, name or address) by entering the namespaces of
 * its PID 1 with nsenter: no ssh, no vncplay, so it works even when a test has broken sshd.
 * Never throws for a non-zero exit; see hostExecOk.
 */
export async function hostExec(host: number | string, argv: readonly string[], opts: HostExecOptions = {}): Promise<HostExecResult> {
  const init = containerInitPid(findHost(host));
  const args = ['-t', String(init), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--',
    'env', '-i', `PATH=${CONTAINER_PATH}`, 'HOME=/root', 'LANG=C.UTF-8', ...argv];
  return new Promise((resolvePromise, reject) => {
    const stdin = opts.stdin === undefined ? 'ignore' : 'pipe';
    const child = spawn('nsenter', args, { stdio: [stdin, 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    if (child.stdin) {
      // A command that exits without reading its input must not turn into an EPIPE crash.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin);
    }
  });
}

/** hostExec that throws (with the command's stderr) unless the exit code is 0; returns stdout. */
export async function hostExecOk(host: number | string, argv: readonly string[], opts: HostExecOptions = {}): Promise<string> {
  const r = await hostExec(host, argv, opts);
  if (r.code !== 0) {
    throw new Error(`on ${String(host)}: \`${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

const execFileAsync = promisify(execFile);

/** Reboots one host from a clean upper layer (same address and ssh host keys); about 5-10 s. */
export async function fleetReset(host: number | string): Promise<void> {
  await execFileAsync('bash', [fleetScript, 'reset', String(findHost(host).index)], {
    env: fleetScriptEnv(),
    timeout: 180_000,
  });
}

/** The file holding the host's systemd-nspawn pid (it changes when the host is rebuilt). */
export function fleetHostPidFile(host: number | string): string {
  return findHost(host).pidFile;
}

/** Whether the host's nspawn still runs (a `shutdown -r` inside a host ends it: see fleet/README.md). */
export function fleetHostRunning(host: number | string): boolean {
  const { pidFile } = findHost(host);
  return existsSync(pidFile) && existsSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}/task`);
}

/** Powers one host off so it is unreachable (for "host down" tests); fleetReset or the next `up` revives it. */
export async function fleetStop(host: number | string): Promise<void> {
  await execFileAsync('bash', [fleetScript, 'stop', String(findHost(host).index)], {
    env: fleetScriptEnv(),
    timeout: 60_000,
  });
}
