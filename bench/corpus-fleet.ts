/**
 * `npm run corpus:fleet`: real roles of the compatibility corpus applied for real to a fleet host, by ansible-playbook
 * and by vncplay, from the same clean host each time (fleet.sh reset): the recap of a first run and of a re-run
 * (idempotence) under each tool, side by side. Needs the test fleet up (npm run fleet -- up 3) and the corpus sources
 * unpacked (npm run corpus -- --mirror DIR). VNCPLAY_FLEET_DIR=.fleet/slot-2 uses the second fleet (test/fleet/README.md);
 * --slot S uses fleet S (files under $FLEET_DIR, default .fleet, as `VNCPLAY_FLEET_SLOT=S vitest` does) and brings it
 * up first, so a run on an engineer's own slot leaves the suite's fleets alone.
 *
 *   npm run corpus:fleet -- [--src DIR] [--slot S] [--host 3] [--roles boutetnico_tigervnc,…] [--out bench/corpus]
 *
 * The hosts have no route to Debian's mirrors: the Debian packages a role installs are downloaded on the
 * controller (apt-get download) into a local repository served on the fleet bridge (test/fleet/deb-repo.ts), the
 * only apt source of the host while the role runs. Writes FLEET.md into --out.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ANSIBLE_APT_DEPS, attachHost, buildRepo, serveRepo } from '../test/fleet/deb-repo.js';
import { fleetInventory, fleetReset, fleetScript } from '../test/fleet/fleet.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const CORPUS_DIR = path.join(BENCH_DIR, 'corpus');

/** Roles run by default, with the Debian packages each installs that the fleet's host image lacks. */
/** Roles run by default: the Debian packages each installs that the fleet's host image lacks, and the variables its
 * README says a user must set (passed with -e, as a user would). */
const ROLES: Record<string, { repo: string; debs: string[]; vars?: Record<string, string> }> = {
  boutetnico_tigervnc: { repo: 'boutetnico/ansible-role-tigervnc', debs: ['dbus-x11'] },
  cisagov_vnc_server: { repo: 'cisagov/ansible-role-vnc-server', debs: [] },
  redhatqe_tigervnc: { repo: 'RedHatQE/ansible-role-tigervnc', debs: [] },
  grycap_vnc: { repo: 'grycap/ansible-role-vnc', debs: [] },
  shellbro_vnc_server: { repo: 'shellbro/ansible-role-vnc-server', debs: [], vars: { user: 'vncuser' } },
  evrardjp_keepalived: { repo: 'evrardjp/ansible-keepalived', debs: [] },
  'hifis-net_keepalived': { repo: 'hifis-net/ansible-role-keepalived', debs: [] },
};

interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

interface RoleRun {
  role: string;
  /** Each run's recap, or what the tool said when it stopped before any host (no recap). */
  ansible: (Recap | string)[];
  vncplay: (Recap | string)[];
  /** Task names vncplay reported as failed, for the report. */
  notes: string[];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, timeout: 900_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 124, out: `${stdout}${stderr}` });
    });
  });
}

/** The PLAY RECAP line of `host`, which both tools print in Ansible's format. */
function recapOf(out: string, host: string, code: number): Recap | string {
  const m = new RegExp(`^${host}\\s+:\\s+ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)\\s+skipped=(\\d+)`, 'm').exec(out);
  if (!m) return `stopped before any host, exit ${code}: ${(/(error\[\w+\]|ERROR!).*/.exec(out)?.[0] ?? out.trim().split('\n')[0] ?? '').slice(0, 160).replaceAll('|', '\\|')}`;
  const [ok, changed, unreachable, failed, skipped] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { ok, changed, unreachable, failed, skipped };
}

const recapText = (r: Recap | string): string => typeof r === 'string' ? r : `ok=${r.ok} changed=${r.changed} failed=${r.failed} skipped=${r.skipped}${r.unreachable ? ` unreachable=${r.unreachable}` : ''}`;
const same = (a: Recap | string, b: Recap | string): boolean => JSON.stringify(a) === JSON.stringify(b);


/** A local repository holding python3-apt (Ansible's apt needs it) and the role's packages, downloaded here. */
async function repositoryFor(debs: string[]): Promise<string> {
  const dir = await buildRepo([], ANSIBLE_APT_DEPS);
  if (debs.length > 0) execFileSync('apt-get', ['download', ...debs], { cwd: dir, stdio: 'inherit' });
  writeFileSync(path.join(dir, 'Packages'), execFileSync('apt-ftparchive', ['packages', '.'], { cwd: dir }));
  writeFileSync(path.join(dir, 'Release'), execFileSync('apt-ftparchive', ['release', '.'], { cwd: dir }));
  return dir;
}

async function runRole(role: string, debs: string[], src: string, host: number): Promise<RoleRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'vncplay-corpus-fleet-'));
  const repoDir = await repositoryFor(debs);
  const served = await serveRepo(repoDir);
  try {
    mkdirSync(path.join(work, 'roles'));
    symlinkSync(path.join(src, ROLES[role]!.repo.replace('/', '+')), path.join(work, 'roles', role));
    const playbook = path.join(work, 'play.yml');
    writeFileSync(playbook, readFileSync(path.join(CORPUS_DIR, 'wrappers', `role-${role}.yml`)));
    const env: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_ROLES_PATH: path.join(work, 'roles'), ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_RETRY_FILES_ENABLED: '0' };
    const name = `h${host}`;
    const extraVars = Object.entries(ROLES[role]!.vars ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const args = ['-i', fleetInventory(), '-l', name, ...extraVars, playbook];
    const tools = {
      ansible: (): Promise<{ code: number; out: string }> => run('ansible-playbook', args, env, work),
      vncplay: (): Promise<{ code: number; out: string }> => run('node', [path.join(REPO, 'bin/vncplay.js'), ...args], env, work),
    };
    const result: RoleRun = { role, ansible: [], vncplay: [], notes: [] };
    for (const tool of ['ansible', 'vncplay'] as const) {
      await fleetReset(host);
      await attachHost(host, served, { ansibleDeps: true });
      for (let i = 0; i < 2; i++) {
        const r = await tools[tool]();
        result[tool].push(recapOf(r.out, name, r.code));
        process.stdout.write(`${role} ${tool} run ${i + 1}: ${recapText(result[tool][i]!)}\n`);
        const fatalAt = r.out.search(/^fatal: \[/m);
        const failedTask = fatalAt < 0 ? undefined : [...r.out.slice(0, fatalAt).matchAll(/^TASK \[(.*?)\]/gm)].at(-1)?.[1];
        if (failedTask) result.notes.push(`${tool} run ${i + 1} failed at "${failedTask}"`);
      }
    }
    return result;
  } finally {
    await served.close();
    rmSync(repoDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    await fleetReset(host);
  }
}

function report(runs: RoleRun[]): string {
  return [
    '# Corpus roles run on a fleet host',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run corpus:fleet\` (bench/corpus-fleet.ts): each role applied to a clean`,
    'fleet host (Debian bookworm, systemd, sshd) by each tool, twice (the second run shows idempotence).',
    '',
    '| role | tool | first run | re-run | same recap as Ansible |',
    '|---|---|---|---|---|',
    ...runs.flatMap((r) => [
      `| ${r.role} | ansible-playbook | ${recapText(r.ansible[0]!)} | ${recapText(r.ansible[1]!)} | |`,
      `| ${r.role} | vncplay | ${recapText(r.vncplay[0]!)} | ${recapText(r.vncplay[1]!)} | ${same(r.ansible[0]!, r.vncplay[0]!) && same(r.ansible[1]!, r.vncplay[1]!) ? 'yes' : 'no'} |`,
    ]),
    '',
    ...runs.flatMap((r) => r.notes.map((n) => `- ${r.role}: ${n}`)),
    '',
  ].join('\n');
}

/** Points the fleet helpers at fleet `slot` (slot 1's folder is the base itself) after `fleet.sh up 3` there. */
function useFleetSlot(slot: string): void {
  if (!/^[1-9]$/.test(slot)) throw new Error(`--slot must be 1..9, got '${slot}'`);
  const base = process.env.FLEET_DIR ?? path.join(REPO, '.fleet');
  execFileSync('bash', [fleetScript, 'up', '3'], { stdio: 'inherit', env: { ...process.env, FLEET_DIR: base, FLEET_SLOT: slot } });
  process.env.VNCPLAY_FLEET_DIR = slot === '1' ? base : path.join(base, `slot-${slot}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      src: { type: 'string', default: path.join(BENCH_DIR, '.corpus') },
      slot: { type: 'string' },
      host: { type: 'string', default: '3' },
      roles: { type: 'string', default: Object.keys(ROLES).join(',') },
      out: { type: 'string', default: CORPUS_DIR },
    },
  });
  // bin/vncplay.js runs dist/bundle: built here, so the recaps are those of this checkout's source, not of an older build.
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (values.slot !== undefined) useFleetSlot(values.slot);
  // Made before the roles run (they take minutes), not found missing after them.
  const out = path.resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const runs: RoleRun[] = [];
  for (const role of values.roles!.split(',')) {
    if (!ROLES[role]) throw new Error(`unknown role ${role}: one of ${Object.keys(ROLES).join(', ')}`);
    runs.push(await runRole(role, ROLES[role].debs, path.resolve(values.src!), Number(values.host)));
  }
  const text = report(runs);
  writeFileSync(path.join(out, 'FLEET.md'), text);
  process.stdout.write(`\n${text}`);
}

await main();
