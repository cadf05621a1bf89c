/**
 * `npm run bench`: vncplay against ansible-playbook (defaults, pipelining, Mitogen) and two ssh2 floors on a light
 * fleet, side by side, alternating; then vncplay's scaling curve and the --syntax-check time. Writes RESULTS.md and
 * results.json (bench/ by default). With --curve '' the curve of the last results.json is kept (and dated).
 *
 *   npm run bench -- [--runs 5] [--ansible-runs 5] [--hosts 20] [--forks 20] [--curve 10,50,200]
 *                    [--curve-runs 3] [--no-ansible] [--quick] [--keep-fleet] [--out DIR] [--render] [--baseline REF]
 * --baseline REF = also run vncplay as built from git REF (e.g. main), side by side: before/after a change.
 * --quick = 1 run, 3 hosts, no curve, no ansible: a smoke run well under a minute.
 * --render = write RESULTS.md again from the results.json in --out (no measuring).
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HostCpu, lightSshdPids } from './host-cpu.js';
import { BENCH_ROOT, PLAYBOOK, TASK_COUNT } from './workload.js';
import { DIFF_SECTION_END, DIFF_SECTION_START, withDiffSection } from './diff-large.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const WORK = path.join(BENCH_DIR, '.work');
// A copy of bin/vncplay.js next to the benchmark's own dist/: it starts the CLI bundle as the shipped command does.
const VNCPLAY_BIN = path.join(WORK, 'bin', 'vncplay.js');
// The same override fleet.sh and test/fleet/fleet.ts honour.
const FLEET_DIR = process.env['FLEET_DIR'] ?? path.join(REPO, '.fleet');
const FLEET_SH = path.join(REPO, 'test/fleet/fleet.sh');

interface Options {
  runs: number;
  ansibleRuns: number;
  hosts: number;
  forks: number;
  curve: number[];
  curveRuns: number;
  ansible: boolean;
  /** --ansible-tools: which of the Ansible rows to measure (default all); the others (and all with --no-ansible) keep the last results.json's. */
  ansibleTools: AnsibleTool[];
  keepFleet: boolean;
  /** Only write RESULTS.md again from the results.json in `out` (after a change to the report's text). */
  render: boolean;
  /** A git ref whose vncplay runs too, as the row "vncplay before". */
  baseline?: string;
  out: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      'ansible-runs': { type: 'string' },
      hosts: { type: 'string' },
      forks: { type: 'string' },
      curve: { type: 'string' },
      'curve-runs': { type: 'string' },
      'no-ansible': { type: 'boolean' },
      'ansible-tools': { type: 'string' },
      quick: { type: 'boolean' },
      'keep-fleet': { type: 'boolean' },
      render: { type: 'boolean' },
      out: { type: 'string' },
      baseline: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const int = (v: string | undefined, d: number): number => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected a whole number ≥ 1, got '${v}'`);
    return n;
  };
  const runs = int(values.runs, quick ? 1 : 5);
  return {
    runs,
    ansibleRuns: int(values['ansible-runs'], runs),
    hosts: int(values.hosts, quick ? 3 : 20),
    forks: int(values.forks, 20),
    curve: (values.curve ?? (quick ? '' : '10,50,200')).split(',').filter(Boolean).map((s) => int(s, 0)),
    curveRuns: int(values['curve-runs'], quick ? 1 : 3),
    ansible: !(values['no-ansible'] ?? quick),
    ansibleTools: (values['ansible-tools'] ?? ANSIBLE_TOOLS.join(',')).split(',').map((t) => {
      if (!isAnsible(t as Tool)) throw new Error(`--ansible-tools: expected some of ${ANSIBLE_TOOLS.join(', ')}, got '${t}'`);
      return t as AnsibleTool;
    }),
    keepFleet: values['keep-fleet'] ?? false,
    render: values.render ?? false,
    out: path.resolve(values.out ?? BENCH_DIR),
    ...(values.baseline ? { baseline: values.baseline } : {}),
  };
}

/** One measured process: wall time from here, CPU and peak RSS from GNU time (the process and its children). */
interface Sample {
  wallS: number;
  userS: number;
  sysS: number;
  maxRssMb: number;
  rc: number;
  changed: number | undefined;
  /** CPU the light hosts used during the run (their sshd cgroup), when it can be measured. */
  hostCpuS?: number;
  /** Most file descriptors open at once in the vncplay process and its persistent-connection daemon (sampled). */
  maxOpenFiles?: number;
}

/**
 * vncplay's persistent-connection daemon (src/connection/persist-daemon.ts) for the benchmark: in a folder of its
 * own, stopped before every first run (a first run starts it) and after every pair (the next tool starts cold).
 * Its CPU and peak RSS during a run are added to the run's: it works for the run, outside the process GNU time watches.
 */
const PERSIST_DIR = path.join(WORK, 'persist');
const PERSIST_ENV = { VNCPLAY_PERSIST_DIR: PERSIST_DIR };

function daemonPid(): number | undefined {
  const file = existsSync(PERSIST_DIR) ? readdirSync(PERSIST_DIR).find((n) => n.endsWith('.pid')) : undefined;
  if (!file) return undefined;
  const pid = Number(readFileSync(path.join(PERSIST_DIR, file), 'utf8'));
  return existsSync(`/proc/${pid}`) ? pid : undefined;
}

/** user+system CPU seconds of a process so far (0 when it is gone). */
function processCpuS(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Peak RSS (VmHWM) of a process in MB, 0 when it is gone. */
function processPeakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function openFiles(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

function firstChild(pid: number | undefined): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]) || undefined;
  } catch {
    return undefined;
  }
}

function stopDaemon(): void {
  const pid = daemonPid();
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) execFileSync('sleep', ['0.05']);
}

/** The light hosts' CPU counter (bench/host-cpu.ts), opened once the fleet is up. */
let hostCpu: HostCpu | undefined;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function measure(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Sample & { stdout: string; stderr: string }> {
  const timeFile = path.join(WORK, 'time.txt');
  return new Promise((resolve, reject) => {
    const hostCpuAtStart = hostCpu?.usageMs();
    const daemonAtStart = daemonPid();
    const daemonCpuAtStart = processCpuS(daemonAtStart);
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // GNU time's child is the measured process: its open files and the daemon's, sampled every 200 ms.
    let maxOpenFiles = 0;
    const sampler = setInterval(() => {
      maxOpenFiles = Math.max(maxOpenFiles, openFiles(firstChild(child.pid)) + openFiles(daemonPid()));
    }, 200);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      const [u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      // A daemon that served this run: it started during a first run, or was there already for a re-run.
      const daemon = daemonPid();
      const daemonCpuS = daemon === undefined ? 0 : processCpuS(daemon) - (daemon === daemonAtStart ? daemonCpuAtStart : 0);
      const sample = {
        wallS,
        userS: (u ?? NaN) + daemonCpuS,
        sysS: s ?? NaN,
        maxRssMb: (m ?? NaN) / 1024 + processPeakRssMb(daemon),
        rc: code ?? -1,
        changed: totalChanged(stdout),
        ...(maxOpenFiles > 0 ? { maxOpenFiles } : {}),
        stdout,
        stderr,
      };
      if (hostCpuAtStart === undefined) return resolve(sample);
      // The hosts' sessions end a moment after the client: count their teardown with the run that caused it.
      setTimeout(() => resolve({ ...sample, hostCpuS: (hostCpu!.usageMs() - hostCpuAtStart) / 1000 }), 150);
    });
  });
}

/** Sum of changed= over the PLAY RECAP lines (vncplay and ansible print the same recap). */
function totalChanged(stdout: string): number | undefined {
  const counts = [...stdout.matchAll(/ changed=(\d+) /g)].map((m) => Number(m[1]));
  return counts.length ? counts.reduce((a, b) => a + b, 0) : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface LightHost {
  name: string;
  address: string;
}

/** Exactly n light hosts (fresh: none more left up from an earlier run; otherwise fleet.sh may reuse a bigger fleet). */
function fleetUp(n: number, opts: { fresh?: boolean } = {}): LightHost[] {
  log(`bringing up ${n} light hosts`);
  if (opts.fresh) execFileSync('bash', [FLEET_SH, 'down-light'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('bash', [FLEET_SH, 'up-light', String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const inv = readFileSync(path.join(FLEET_DIR, 'inventory-light.yml'), 'utf8');
  const hosts = [...inv.matchAll(/^\s+(l\d+): \{ansible_host: ([\d.]+)\}$/gm)].map((m) => ({ name: m[1]!, address: m[2]! }));
  if (hosts.length < n) throw new Error(`fleet.sh up-light ${n} gave ${hosts.length} hosts`);
  return hosts.slice(0, n);
}

/** An inventory of the first n light hosts, readable by vncplay and ansible-playbook alike. */
function writeInventory(hosts: LightHost[]): string {
  const file = path.join(WORK, `inventory-${hosts.length}.yml`);
  const kh = path.join(FLEET_DIR, 'known_hosts_light');
  const lines = [
    'all:',
    '  hosts:',
    ...hosts.map((h) => `    ${h.name}: {ansible_host: ${h.address}}`),
    '  vars:',
    '    ansible_user: vncplay',
    `    ansible_ssh_private_key_file: ${path.join(FLEET_DIR, 'id_ed25519')}`,
    '    ansible_python_interpreter: /usr/bin/python3',
    `    ansible_ssh_common_args: "-o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes"`,
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  const floorFile = path.join(WORK, `floor-hosts-${hosts.length}.json`);
  writeFileSync(floorFile, JSON.stringify({ user: 'vncplay', keyFile: path.join(FLEET_DIR, 'id_ed25519'), knownHostsFile: kh, hosts }));
  return file;
}

/** Build vncplay and the floor from this checkout, so the benchmark measures the source, not a stale dist/. */
function build(): void {
  log('building vncplay and the floor script');
  const tsc = path.join(REPO, 'node_modules/.bin/tsc');
  execFileSync(tsc, ['-p', 'tsconfig.build.json', '--outDir', path.join(WORK, 'dist')], { cwd: REPO, stdio: 'inherit' });
  // The CLI ships as the bundle of that output (npm run build does the same for dist/), so that is what is measured.
  execFileSync(process.execPath, [path.join(REPO, 'scripts/bundle.mjs'), '--dist', path.join(WORK, 'dist')], { cwd: REPO, stdio: 'inherit' });
  execFileSync(tsc, ['-p', 'bench/tsconfig.json'], { cwd: REPO, stdio: 'inherit' });
  // dist/bundle/ finds the precompiled validators and package.json at ../../ (as it does in the repo).
  for (const name of ['schemas', 'package.json']) {
    if (!existsSync(path.join(WORK, name))) symlinkSync(path.join(REPO, name), path.join(WORK, name));
  }
  mkdirSync(path.dirname(VNCPLAY_BIN), { recursive: true });
  copyFileSync(path.join(REPO, 'bin/vncplay.js'), VNCPLAY_BIN);
  writeFileSync(path.join(WORK, 'bench.yml'), PLAYBOOK);
}

const ANSIBLE_TOOLS = ['ansible', 'ansible-pipelining', 'ansible-mitogen'] as const;
type AnsibleTool = (typeof ANSIBLE_TOOLS)[number];
const TOOLS = ['vncplay', 'vncplay-no-persist', 'vncplay-before', ...ANSIBLE_TOOLS, 'floor', 'floor-trivial'] as const;
type Tool = (typeof TOOLS)[number];

/** Where --baseline REF is unpacked and built (its own dist/, the repo's node_modules). */
const BASELINE = path.join(WORK, 'baseline');

function buildBaseline(ref: string): void {
  log(`building vncplay as of ${ref} for the "before" row`);
  rmSync(BASELINE, { recursive: true, force: true });
  mkdirSync(BASELINE, { recursive: true });
  execFileSync('bash', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'archive', REPO, ref, BASELINE], { stdio: 'inherit' });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(BASELINE, 'node_modules'));
  // What its `npm run build` does: compile, then bundle the CLI.
  execFileSync(path.join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: BASELINE, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: BASELINE, stdio: 'inherit' });
}

const TOOL_NAMES: Record<Tool, string> = {
  vncplay: 'vncplay (persistent connections, the default)',
  'vncplay-no-persist': 'vncplay --no-persist',
  'vncplay-before': 'vncplay before (--baseline)',
  ansible: 'ansible-playbook (defaults)',
  'ansible-pipelining': 'ansible-playbook + pipelining',
  'ansible-mitogen': 'ansible-playbook + Mitogen (mitogen_linear)',
  floor: 'floor (ssh2, 1 command per task)',
  'floor-trivial': 'floor (ssh2, 1 trivial round trip per task)',
};

/** Debian's ansible-mitogen (scripts/setup.sh installs it): its strategy plugins. */
const MITOGEN_STRATEGIES = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy';

function commandFor(tool: Tool, inventory: string, hostCount: number, forks: number): string[] {
  const pb = path.join(WORK, 'bench.yml');
  const floor = [process.execPath, path.join(WORK, 'bin/floor.js'), '--hosts', path.join(WORK, `floor-hosts-${hostCount}.json`), '--forks', String(forks)];
  switch (tool) {
    case 'vncplay':
      return [process.execPath, VNCPLAY_BIN, pb, '-i', inventory, '-f', String(forks), '--no-color'];
    case 'vncplay-no-persist':
      return [process.execPath, VNCPLAY_BIN, pb, '-i', inventory, '-f', String(forks), '--no-color', '--no-persist'];
    case 'vncplay-before':
      return [process.execPath, path.join(BASELINE, 'bin/vncplay.js'), pb, '-i', inventory, '-f', String(forks), '--no-color'];
    case 'ansible':
    case 'ansible-pipelining':
    case 'ansible-mitogen':
      return ['ansible-playbook', pb, '-i', inventory, '-f', String(forks)];
    case 'floor':
      return floor;
    case 'floor-trivial':
      return [...floor, '--trivial'];
  }
}

/** How each Ansible row is tuned, as a user would: environment variables only. */
function ansibleEnv(tool: AnsibleTool): NodeJS.ProcessEnv {
  // No ControlPersist master may outlive a run: each ansible run starts cold, as the others do.
  // A connect timeout of 60 s, not 10: on this shared machine under load a host's handshake can take longer, and
  // one unreachable host would end the whole benchmark (it did, once, under Mitogen at a load of 20).
  const base = { ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(WORK, `cp-${process.hrtime.bigint()}`), ANSIBLE_TIMEOUT: '60' };
  if (tool === 'ansible-pipelining') return { ...base, ANSIBLE_PIPELINING: '1' };
  if (tool === 'ansible-mitogen') return { ...base, ANSIBLE_STRATEGY_PLUGINS: MITOGEN_STRATEGIES, ANSIBLE_STRATEGY: 'mitogen_linear' };
  return base;
}

const isAnsible = (tool: Tool): tool is AnsibleTool => (ANSIBLE_TOOLS as readonly string[]).includes(tool);

/** Light hosts share this machine's filesystem: a first run starts from no files at all. */
function cleanTargets(): void {
  rmSync(BENCH_ROOT, { recursive: true, force: true });
}

interface Pair {
  first: Sample;
  rerun: Sample;
}

async function runPair(tool: Tool, inventory: string, hostCount: number, forks: number): Promise<Pair> {
  cleanTargets();
  const argv = commandFor(tool, inventory, hostCount, forks);
  const env = isAnsible(tool) ? ansibleEnv(tool) : PERSIST_ENV;
  stopDaemon();
  const first = await measure(argv, WORK, env);
  const rerun = await measure(argv, WORK, env);
  stopDaemon();
  for (const [what, s] of [['first run', first], ['re-run', rerun]] as const) {
    if (s.rc !== 0) throw new Error(`${tool} ${what} exited ${s.rc}:\n${s.stdout.slice(-2000)}\n${s.stderr.slice(-2000)}`);
  }
  if (!tool.startsWith('floor') && rerun.changed !== 0) throw new Error(`${tool} re-run is not idempotent: changed=${rerun.changed}`);
  log(`${tool.padEnd(18)} first ${first.wallS.toFixed(2)} s, re-run ${rerun.wallS.toFixed(2)} s (cpu ${(first.userS + first.sysS).toFixed(2)} s, rss ${first.maxRssMb.toFixed(0)} MB)`);
  const strip = ({ stdout: _o, stderr: _e, ...s }: Sample & { stdout?: string; stderr?: string }): Sample => s;
  return { first: strip(first), rerun: strip(rerun) };
}

interface Summary {
  runs: number;
  firstWallS: number;
  rerunWallS: number;
  firstCpuS: number;
  rerunCpuS: number;
  /** Medians of the light hosts' CPU (undefined when it could not be measured). */
  firstHostCpuS?: number;
  rerunHostCpuS?: number;
  maxRssMb: number;
  samples: Pair[];
}

function summarize(pairs: Pair[]): Summary {
  return {
    runs: pairs.length,
    firstWallS: median(pairs.map((p) => p.first.wallS)),
    rerunWallS: median(pairs.map((p) => p.rerun.wallS)),
    firstCpuS: median(pairs.map((p) => p.first.userS + p.first.sysS)),
    rerunCpuS: median(pairs.map((p) => p.rerun.userS + p.rerun.sysS)),
    ...(pairs.every((p) => p.first.hostCpuS !== undefined && p.rerun.hostCpuS !== undefined)
      ? { firstHostCpuS: median(pairs.map((p) => p.first.hostCpuS!)), rerunHostCpuS: median(pairs.map((p) => p.rerun.hostCpuS!)) }
      : {}),
    maxRssMb: Math.max(...pairs.map((p) => Math.max(p.first.maxRssMb, p.rerun.maxRssMb))),
    samples: pairs,
  };
}

async function sideBySide(opts: Options, inventory: string): Promise<Partial<Record<Tool, Summary>>> {
  const tools: Tool[] = TOOLS.filter(
    (t) => (isAnsible(t) ? opts.ansible && opts.ansibleTools.includes(t) : true) && (t !== 'vncplay-before' || opts.baseline !== undefined),
  );
  const pairs = Object.fromEntries(TOOLS.map((t) => [t, [] as Pair[]])) as Record<Tool, Pair[]>;
  for (let i = 0; i < opts.runs; i++) {
    log(`side by side, round ${i + 1}/${opts.runs}`);
    for (const tool of tools) {
      if (isAnsible(tool) && i >= opts.ansibleRuns) continue;
      pairs[tool].push(await runPair(tool, inventory, opts.hosts, opts.forks));
    }
  }
  const out: Partial<Record<Tool, Summary>> = {};
  for (const tool of tools) out[tool] = summarize(pairs[tool]);
  return out;
}

interface CurvePoint {
  hosts: number;
  forks: number;
  firstWallS: number;
  rerunWallS: number;
  firstCpuS: number;
  /** Re-run CPU (vncplay + its daemon): the steady state, no handshakes. Absent in curves measured before it was kept. */
  rerunCpuS?: number;
  maxRssMb: number;
  maxOpenFiles?: number;
  floorFirstWallS: number;
  floorRerunWallS?: number;
}

async function curve(opts: Options): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const n of opts.curve) {
    const inventory = writeInventory(fleetUp(n, { fresh: true }));
    log(`curve: ${n} hosts`);
    const forks = Math.min(n, 50);
    const v: Pair[] = [];
    const f: Pair[] = [];
    for (let i = 0; i < opts.curveRuns; i++) {
      v.push(await runPair('vncplay', inventory, n, forks));
      f.push(await runPair('floor', inventory, n, forks));
    }
    const s = summarize(v);
    const fl = summarize(f);
    const openFilesMax = Math.max(0, ...v.flatMap((p) => [p.first.maxOpenFiles ?? 0, p.rerun.maxOpenFiles ?? 0]));
    points.push({
      hosts: n,
      forks,
      firstWallS: s.firstWallS,
      rerunWallS: s.rerunWallS,
      firstCpuS: s.firstCpuS,
      rerunCpuS: s.rerunCpuS,
      maxRssMb: s.maxRssMb,
      ...(openFilesMax > 0 ? { maxOpenFiles: openFilesMax } : {}),
      floorFirstWallS: fl.firstWallS,
      floorRerunWallS: fl.rerunWallS,
    });
  }
  return points;
}

async function syntaxCheck(runs: number): Promise<{ wallS: number; cpuS: number }> {
  const playbooks = execFileSync('bash', ['-c', 'ls playbooks/*.yml'], { cwd: REPO, encoding: 'utf8' }).trim().split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < Math.max(runs, 3); i++) {
    const s = await measure([process.execPath, VNCPLAY_BIN, '--syntax-check', ...playbooks], REPO);
    if (s.rc !== 0) throw new Error(`--syntax-check exited ${s.rc}: ${s.stderr}`);
    samples.push(s);
  }
  return { wallS: median(samples.map((s) => s.wallS)), cpuS: median(samples.map((s) => s.userS + s.sysS)) };
}

function versions(): Record<string, string> {
  const first = (cmd: string): string => {
    try {
      return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    } catch {
      return 'unknown';
    }
  };
  const pkg = (name: string): string => (JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    node: process.version,
    ansible: first('ansible-playbook --version 2>/dev/null | head -1'),
    openssh: first('ssh -V 2>&1'),
    ssh2: pkg('ssh2'),
    vncplay: first(`git -C ${REPO} rev-parse --short HEAD`),
  };
}

function machine(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="(.*)"$/m)?.[1] ?? 'linux',
  };
}

const f2 = (x: number): string => x.toFixed(2);

/**
 * How many hosts one controller core can drive: from the largest curve point's re-run CPU (CLI + daemon) per host
 * and task, a host running one task every `interval` seconds costs cpuPerHostTask / interval of a core.
 */
function coreCapacity(curve: CurvePoint[]): string[] {
  const p = [...curve].reverse().find((c) => c.rerunCpuS !== undefined);
  if (!p) return [];
  const perHostTask = p.rerunCpuS! / (p.hosts * TASK_COUNT);
  const hostsAt = (tasksPerMinute: number): string => Math.floor(60 / (perHostTask * tasksPerMinute)).toLocaleString('en-US');
  return [
    '',
    `Controller CPU per host and task at ${p.hosts} hosts (re-run, CLI + daemon, start-up included): ${(perHostTask * 1000).toFixed(2)} ms.`,
    `One controller core is saturated (the point where a user needs more than one controller, or a second core) at about`,
    `${hostsAt(1)} hosts running 1 task a minute each, ${hostsAt(10)} hosts at 10 tasks a minute, ${hostsAt(60)} hosts at one task a second —`,
    'if the network and the hosts keep up; on this machine the hosts share the same 2 cores, so wall time grows first.',
  ];
}

function markdown(r: Results): string {
  const t = r.tools;
  const lines = [
    '# vncplay benchmark',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.date}. Machine: ${r.machine['cpu']}, ${r.machine['cores']} cores, ${r.machine['memGiB']} GiB, ${r.machine['os']}.`,
    `Versions: node ${r.versions['node']}, ${r.versions['ansible']}, ${r.versions['openssh']}, ssh2 ${r.versions['ssh2']}, vncplay ${r.versions['vncplay']}.`,
    `Load average at start / end: ${r.loadStart.map(f2).join(' ')} / ${r.loadEnd.map(f2).join(' ')} (the machine is shared: compare the ratios, measured side by side, not the seconds).`,
    '',
    `## Side by side: ${r.options.hosts} light hosts (netns + sshd), ${TASK_COUNT}-task playbook, forks ${r.options.forks}, facts off`,
    '',
    'Medians of alternating runs (each tool in turn, the order of the table; every first run starts from no files).',
    '',
    '| tool | runs | first run (s) | re-run (s) | ÷ vncplay first / re-run | controller CPU first / re-run (s) | hosts\' CPU first / re-run (s) | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|---|',
    ...TOOLS.filter((k) => t[k]).map((k) => {
      const x = t[k]!;
      const v = t.vncplay!;
      const hosts = x.firstHostCpuS !== undefined && x.rerunHostCpuS !== undefined ? `${f2(x.firstHostCpuS)} / ${f2(x.rerunHostCpuS)}` : '(not measured)';
      const ratio = k === 'vncplay' ? '1' : `${ratioText(x.firstWallS / v.firstWallS)} / ${ratioText(x.rerunWallS / v.rerunWallS)}`;
      const from = r.toolsFrom?.[k] ? ` (not in this run: from ${r.toolsFrom[k]})` : '';
      return `| ${TOOL_NAMES[k]}${from} | ${x.runs} | ${f2(x.firstWallS)} | ${f2(x.rerunWallS)} | ${ratio} | ${f2(x.firstCpuS)} / ${f2(x.rerunCpuS)} | ${hosts} | ${x.maxRssMb.toFixed(0)} |`;
    }),
    '',
    "The hosts' CPU is every light host's sshd and all it starts (sessions, shells, commands), from a cpuacct cgroup:",
    'on this machine the hosts and the controller share the same 2 cores, so both halves make the wall time.',
    '',
    '| ratio | first run | re-run | target |',
    '|---|---|---|---|',
    ...(r.ratios.ansibleOverVncplay ? [`| ansible-playbook (defaults) / vncplay (speed-up) | ${r.ratios.ansibleOverVncplay.first.toFixed(1)}× | ${r.ratios.ansibleOverVncplay.rerun.toFixed(1)}× | |`] : []),
    ...(r.ratios.pipeliningOverVncplay ? [`| ansible-playbook + pipelining / vncplay | ${r.ratios.pipeliningOverVncplay.first.toFixed(1)}× | ${r.ratios.pipeliningOverVncplay.rerun.toFixed(1)}× | |`] : []),
    ...(r.ratios.mitogenOverVncplay ? [`| ansible-playbook + Mitogen / vncplay | ${r.ratios.mitogenOverVncplay.first.toFixed(1)}× | ${r.ratios.mitogenOverVncplay.rerun.toFixed(1)}× | ≥ 25× |`] : []),
    `| vncplay / floor | ${f2(r.ratios.vncplayOverFloor.first)} | ${f2(r.ratios.vncplayOverFloor.rerun)} | ≤ 1.5 |`,
    ...(r.ratios.vncplayOverTrivial ? [`| vncplay / trivial-round-trip floor | ${f2(r.ratios.vncplayOverTrivial.first)} | ${f2(r.ratios.vncplayOverTrivial.rerun)} | first ≤ 1.3, re-run ≤ 1.0 |`] : []),
    ...(r.ratios.noPersistOverTrivial ? [`| vncplay --no-persist / trivial-round-trip floor | ${f2(r.ratios.noPersistOverTrivial.first)} | ${f2(r.ratios.noPersistOverTrivial.rerun)} | |`] : []),
    ...(r.ratios.ansibleOverFloor
      ? [`| ansible-playbook / floor (the speed-up of a tool exactly as fast as the floor) | ${r.ratios.ansibleOverFloor.first.toFixed(1)}× | ${r.ratios.ansibleOverFloor.rerun.toFixed(1)}× | |`]
      : []),
    '',
    '## Scaling (vncplay; floor for reference)',
    '',
    ...(r.curve.length ? [] : ['(not measured in this run: --curve)']),
    ...(r.curveFrom ? [`Not measured in this run (--curve ''): the curve of the run of ${r.curveFrom}.`, ''] : []),
    'vncplay with its defaults (persistent connections: the re-run reuses the first run\'s); CPU, RSS and open files',
    'are the CLI\'s and its daemon\'s together (peak RSS: the sum of both peaks).',
    '',
    '| hosts | forks | first run (s) | re-run (s) | CPU first / re-run (s) | peak RSS (MB) | open files (max) | floor first / re-run (s) | s per host first / re-run |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.curve.map(
      (p) =>
        `| ${p.hosts} | ${p.forks} | ${f2(p.firstWallS)} | ${f2(p.rerunWallS)} | ${f2(p.firstCpuS)} / ${p.rerunCpuS !== undefined ? f2(p.rerunCpuS) : '–'} | ${p.maxRssMb.toFixed(0)} | ${p.maxOpenFiles ?? '–'} | ${f2(p.floorFirstWallS)} / ${p.floorRerunWallS !== undefined ? f2(p.floorRerunWallS) : '–'} | ${(p.firstWallS / p.hosts).toFixed(3)} / ${(p.rerunWallS / p.hosts).toFixed(3)} |`,
    ),
    ...coreCapacity(r.curve),
    '',
    `## --syntax-check playbooks/*.yml`,
    '',
    `median wall ${f2(r.syntaxCheck.wallS)} s, CPU ${f2(r.syntaxCheck.cpuS)} s (target < 0.5 s wall).`,
    '',
    '## What limits vncplay here (profiled in session 3; see the issue notes)',
    '',
    ...(r.tools['ansible-mitogen'] && r.tools['floor-trivial']
      ? [
          `- ≥ 25× ansible-playbook + Mitogen would need vncplay in ${f2(r.tools['ansible-mitogen'].firstWallS / 25)} s on the first run and`,
          `  ${f2(r.tools['ansible-mitogen'].rerunWallS / 25)} s on the re-run: ${f2(r.tools['ansible-mitogen'].firstWallS / 25 / r.tools['floor-trivial'].firstWallS)}× and ${f2(r.tools['ansible-mitogen'].rerunWallS / 25 / r.tools['floor-trivial'].rerunWallS)}× the`,
          '  trivial-round-trip floor, which opens a connection per host and does nothing else. Those connections (the SSH',
          '  handshakes) are most of that floor: only connections kept between runs (vncplay\'s persistent-connection',
          '  daemon, the default row) can get a re-run below it.',
        ]
      : []),
    '- The run is CPU-bound: the hosts share the controller\'s 2 cores (see the two CPU columns). On the hosts vncplay now',
    '  spends about what the floor does: one long-lived bash per host reads each command with one',
    '  `read -N`; the file probe and the atomic write are functions that run in that bash without a fork; a plain',
    '  command is one fork + exec. No python: wait_for checks a port, a banner or a file with a function of that bash',
    '  (one fork for a connect, none for a path; ~4 ms of host CPU for a banner against ~40-45 ms for the python3 probe',
    '  it replaced). What is left is what the work needs: one `stat` for existing paths, `dd` (fsync) + `mv` per',
    '  write, `file --mime` for the stat module of a regular file (Ansible\'s get_mime default; other types need none).',
    '- Connections: a run without kept connections (`--no-persist`, and every first run) opens one SSH connection per',
    '  host, as the floor does: ~18 ms of sshd CPU per host for the handshake, ~8 ms for the session channel and ~3-5 ms',
    '  of controller CPU, about a third of all CPU in a run here. By default the re-run reuses the connections and',
    '  line sessions the first run left in the daemon (as ansible-playbook\'s re-run reuses its ControlPersist masters);',
    '  the first run also pays for starting the daemon (a second Node process).',
    '- The controller uses ~0.2 s more CPU than the floor: start-up (Node with yaml, nunjucks, the playbook loader and',
    '  the module schemas, from one bundle: ~0.17 s for --syntax-check, against ~0.06 s for Node alone) and ~0.7 ms per',
    '  host and task for templating, argument checks, planning and reporting. Start-up is serial: one core waits.',
    '- The linear strategy keeps Ansible\'s lockstep (every host finishes a task before the next starts); on this',
    '  machine that costs only the idle tail of each task, since the cores are busy either way.',
    '',
    '## How it is measured',
    '',
    '- Only the hosts a measurement uses are up (the fleet is made anew for the side-by-side runs and for each curve',
    '  point): with 500 idle light hosts up, 20-host runs took ~15% longer here and varied more, for both alike.',
    '- Light hosts (`test/fleet/fleet.sh up-light N`) are a network namespace + one sshd each, on THIS machine: every',
    '  remote command (sshd session, shell, stat, python3 …) competes with the controller for the same 2 cores, so',
    '  host-side work counts fully in the wall time, unlike on a real fleet.',
    '- Wall time is measured by bench/run.ts around the process; CPU (user+sys, children included) and peak RSS by',
    '  GNU time. vncplay runs as `node bin/vncplay.js` (the CLI bundle) built from this checkout in bench/.work/, plain output.',
    '  Its persistent-connection daemon runs outside GNU time\'s view: its CPU during each run (from /proc) is added to',
    '  the controller CPU and its peak RSS to the peak RSS; it is stopped before each first run and after each re-run.',
    '- Scale: the light fleet writes permanent neighbour entries (fleet.sh, light.sh): the kernel\'s ARP table is one',
    '  table for every network namespace, with a machine-wide limit (gc_thresh3, 1024) the fleet must not change; N',
    '  hosts would hold 2N learned entries, which overflowed past ~500 hosts. Permanent entries do not count.',
    '- ansible-playbook runs with its defaults (ssh ControlPersist 60 s, no pipelining), a fresh control-path',
    '  folder per first-run/re-run pair, so its re-run reuses the masters its first run opened, as a user would see;',
    '  then tuned as users who care about speed run it: `ANSIBLE_PIPELINING=1`, and Debian\'s ansible-mitogen',
    '  (`ANSIBLE_STRATEGY_PLUGINS=/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy`,',
    '  `ANSIBLE_STRATEGY=mitogen_linear`).',
    `- The floor (bench/floor.ts) opens one ssh2 connection per host (host key checked) and sends the ${TASK_COUNT} task`,
    '  commands one by one (bench/workload.ts), no state probing: it does not know whether anything changed. The',
    '  trivial-round-trip floor (`floor.js --trivial`) opens the same connections and one channel running `cat` per',
    `  host, and makes ${TASK_COUNT} round trips on it (a line out, the same line back): the protocol\'s limit.`,
    '- `--baseline REF` adds vncplay built from that git ref (`vncplay before`), run in turn with the others.',
    '- First runs start from no files (the folder of every host is removed before); re-runs change nothing',
    '  (checked: changed=0, else the benchmark fails).',
    '',
  ];
  return lines.join('\n');
}

interface Results {
  date: string;
  machine: Record<string, string | number>;
  versions: Record<string, string>;
  options: Options;
  loadStart: number[];
  loadEnd: number[];
  tools: Partial<Record<Tool, Summary>>;
  /** Rows not measured in this run, kept from an earlier results.json: the date of the run each comes from. */
  toolsFrom?: Partial<Record<Tool, string>>;
  ratios: {
    ansibleOverVncplay?: { first: number; rerun: number };
    pipeliningOverVncplay?: { first: number; rerun: number };
    mitogenOverVncplay?: { first: number; rerun: number };
    /** vncplay against one connection and one trivial round trip per task: the protocol's limit. */
    vncplayOverTrivial?: { first: number; rerun: number };
    /** The same without persistent connections (every run opens its connections, as the trivial floor does). */
    noPersistOverTrivial?: { first: number; rerun: number };
    /** The speed-up vncplay would have if it were exactly as fast as the floor: the ceiling for one that is not faster. */
    ansibleOverFloor?: { first: number; rerun: number };
    vncplayOverFloor: { first: number; rerun: number };
  };
  curve: CurvePoint[];
  /** When the curve was not measured in this run: the date of the run it comes from. */
  curveFrom?: string;
  syntaxCheck: { wallS: number; cpuS: number };
}

const optional = <K extends string>(key: K, value: Ratio | undefined): Partial<Record<K, Ratio>> =>
  (value ? { [key]: value } : {}) as Partial<Record<K, Ratio>>;
const ratioText = (x: number): string => (x >= 10 ? `${x.toFixed(1)}×` : x.toFixed(2));
type Ratio = { first: number; rerun: number };
const ratioOf = (a: Summary | undefined, b: Summary | undefined): Ratio | undefined =>
  a && b ? { first: a.firstWallS / b.firstWallS, rerun: a.rerunWallS / b.rerunWallS } : undefined;

/** The Ansible rows this run did not measure (--ansible-tools), from the last results.json, with their date. */
function earlierAnsibleRows(out: string, measured: Partial<Record<Tool, Summary>>): Pick<Results, 'tools'> & { toolsFrom: Partial<Record<Tool, string>> } {
  const file = path.join(out, 'results.json');
  const tools: Partial<Record<Tool, Summary>> = {};
  const toolsFrom: Partial<Record<Tool, string>> = {};
  if (!existsSync(file)) return { tools, toolsFrom };
  const old = JSON.parse(readFileSync(file, 'utf8')) as Results;
  for (const t of ANSIBLE_TOOLS) {
    const row = old.tools[t];
    if (measured[t] || !row) continue;
    tools[t] = row;
    toolsFrom[t] = old.toolsFrom?.[t] ?? old.date;
  }
  return { tools, toolsFrom };
}

/** The curve of the last results.json, when this run measures none. */
function earlierCurve(out: string): { curve: CurvePoint[]; curveFrom?: string } {
  const file = path.join(out, 'results.json');
  if (!existsSync(file)) return { curve: [] };
  const old = JSON.parse(readFileSync(file, 'utf8')) as Results;
  return old.curve.length ? { curve: old.curve, curveFrom: old.curveFrom ?? old.date } : { curve: [] };
}

/** The new report, with the section bench/diff-large.ts wrote into the old one (it measures something else). */
function keepDiffSection(file: string, report: string): string {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = old.indexOf(DIFF_SECTION_START);
  const end = old.indexOf(DIFF_SECTION_END);
  return start >= 0 && end > start ? withDiffSection(report, old.slice(start, end + DIFF_SECTION_END.length)) : report;
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  if (opts.render) {
    const results = JSON.parse(readFileSync(path.join(opts.out, 'results.json'), 'utf8')) as Results;
    writeFileSync(path.join(opts.out, 'RESULTS.md'), keepDiffSection(path.join(opts.out, 'RESULTS.md'), markdown(results)));
    return;
  }
  mkdirSync(WORK, { recursive: true });
  mkdirSync(opts.out, { recursive: true });
  build();
  if (opts.baseline) buildBaseline(opts.baseline);
  const loadStart = os.loadavg();
  try {
    // Only the hosts a run uses are up: with 500 idle light hosts (netns + sshd each) up, the 20-host runs took
    // ~15% longer here and varied more (3 runs each, vncplay and the floor alike).
    const few = fleetUp(opts.hosts, { fresh: true });
    hostCpu = HostCpu.open(lightSshdPids());
    log(hostCpu ? 'host CPU: measured through a cpuacct cgroup of the light sshds' : 'host CPU: not measurable here (no cgroup access)');
    const measuredTools = await sideBySide(opts, writeInventory(few));
    const earlier = earlierAnsibleRows(opts.out, measuredTools);
    const tools = { ...measuredTools, ...earlier.tools };
    hostCpu?.close();
    hostCpu = undefined;
    const v = tools.vncplay!;
    const fl = tools.floor!;
    const points = opts.curve.length ? { curve: await curve(opts) } : earlierCurve(opts.out);
    const results: Results = {
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(),
      options: opts,
      loadStart,
      loadEnd: os.loadavg(),
      tools,
      ...(Object.keys(earlier.toolsFrom).length ? { toolsFrom: earlier.toolsFrom } : {}),
      ratios: {
        ...optional('ansibleOverVncplay', ratioOf(tools.ansible, v)),
        ...optional('pipeliningOverVncplay', ratioOf(tools['ansible-pipelining'], v)),
        ...optional('mitogenOverVncplay', ratioOf(tools['ansible-mitogen'], v)),
        ...optional('ansibleOverFloor', ratioOf(tools.ansible, fl)),
        ...optional('vncplayOverTrivial', ratioOf(v, tools['floor-trivial'])),
        ...optional('noPersistOverTrivial', ratioOf(tools['vncplay-no-persist'], tools['floor-trivial'])),
        vncplayOverFloor: ratioOf(v, fl)!,
      },
      ...points,
      syntaxCheck: await syntaxCheck(opts.runs),
    };
    writeFileSync(path.join(opts.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(path.join(opts.out, 'RESULTS.md'), keepDiffSection(path.join(opts.out, 'RESULTS.md'), markdown(results)));
    log(`wrote ${path.join(opts.out, 'RESULTS.md')}`);
    process.stdout.write(markdown(results));
  } finally {
    hostCpu?.close();
    cleanTargets();
    if (!opts.keepFleet) {
      log('taking the light fleet down (--keep-fleet keeps it)');
      execFileSync('bash', [FLEET_SH, 'down-light'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
