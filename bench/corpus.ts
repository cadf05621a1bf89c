/**
 * `npm run corpus`: the compatibility corpus. Real public playbooks and roles (bench/corpus/sources.json, each pinned
 * to a commit) are loaded by ansible-playbook and by vncplay: which ones each accepts (--syntax-check), and for those
 * both accept, whether --list-tasks gives the same task names in the same order. Roles and collections are applied
 * through the small plays in bench/corpus/wrappers/ (ours).
 *
 *   npm run corpus -- [--src DIR] [--mirror DIR] [--filter TEXT] [--jobs 2] [--out bench/corpus]
 *
 * --src DIR    where the sources are unpacked, one folder per repository named owner+name (default bench/.corpus).
 * --mirror DIR a folder of git snapshots (owner+name/repo, as the team's `fetch` tool leaves them): sources missing
 *              from --src are unpacked from there at their pinned commit.
 * The sources themselves are not in this repository (their code is not ours to commit): a run without them says
 * which are missing and stops.
 * Writes RESULTS.md and results.json into --out.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const CORPUS_DIR = path.join(BENCH_DIR, 'corpus');

interface Source {
  repo: string;
  commit: string;
  /** Searched for playbooks of its own (ansible-examples, a book's examples). */
  playbooks: boolean;
  /** Installed under roles/ with this name. */
  role?: string;
  /** Installed as this collection (namespace.name). */
  collection?: string;
}

interface Result {
  playbook: string;
  ansible: boolean;
  vncplay?: boolean;
  sameTasks?: boolean;
  /** vncplay's first error line when it refuses a playbook Ansible accepts. */
  error?: string;
  code?: string;
  tasks?: { ansible: string[]; vncplay: string[] };
}

function options(argv: string[]): { src: string; mirror?: string; filter: string; jobs: number; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      src: { type: 'string', default: path.join(BENCH_DIR, '.corpus') },
      mirror: { type: 'string' },
      filter: { type: 'string', default: '' },
      jobs: { type: 'string', default: '2' },
      out: { type: 'string', default: CORPUS_DIR },
    },
  });
  return { src: path.resolve(values.src!), mirror: values.mirror, filter: values.filter!, jobs: Number(values.jobs), out: path.resolve(values.out!) };
}

const folderOf = (s: Source): string => s.repo.replace('/', '+');

/** Unpacks each missing source from its git snapshot at the pinned commit; returns the names still missing. */
function unpackSources(sources: Source[], src: string, mirror: string | undefined): string[] {
  const missing: string[] = [];
  for (const s of sources) {
    const dest = path.join(src, folderOf(s));
    if (existsSync(dest)) continue;
    const gitDir = mirror === undefined ? undefined : path.join(mirror, folderOf(s), 'repo');
    if (gitDir === undefined || !existsSync(gitDir)) {
      missing.push(s.repo);
      continue;
    }
    checkout(gitDir, s.commit, dest);
  }
  return missing;
}

/**
 * Writes the tree of `commit` into `dest`. Not `git archive`: a snapshot may lack its largest blobs (the fetch tool
 * leaves out files of 4 MiB and more), and those are skipped here instead of failing the whole source.
 */
function checkout(gitDir: string, commit: string, dest: string): void {
  const git = (args: string[], input?: Buffer): Buffer => execFileSync('git', ['--git-dir', gitDir, ...args], { input, maxBuffer: 1 << 30 });
  const entries = git(['ls-tree', '-r', '-z', commit])
    .toString('utf8')
    .split('\0')
    .filter((e) => e !== '')
    .map((e) => {
      const [meta, file] = e.split('\t') as [string, string];
      const [mode, type, id] = meta.split(' ') as [string, string, string];
      return { mode, type, id, file };
    })
    .filter((e) => e.type === 'blob');
  const batch = git(['cat-file', '--batch'], Buffer.from(entries.map((e) => `${e.id}\n`).join('')));
  let at = 0;
  for (const e of entries) {
    const headerEnd = batch.indexOf(0x0a, at);
    const header = batch.subarray(at, headerEnd).toString('utf8');
    at = headerEnd + 1;
    if (header.endsWith(' missing')) continue;
    const size = Number(header.split(' ')[2]);
    const content = batch.subarray(at, at + size);
    at += size + 1;
    const target = path.join(dest, e.file);
    mkdirSync(path.dirname(target), { recursive: true });
    if (e.mode === '120000') symlinkSync(content.toString('utf8'), target);
    else writeFileSync(target, content, { mode: e.mode === '100755' ? 0o755 : 0o644 });
  }
}

/** roles/ and collections/ folders that make each role and collection findable by both tools. */
function installRolesAndCollections(sources: Source[], src: string, work: string): void {
  mkdirSync(path.join(work, 'roles'), { recursive: true });
  for (const s of sources) {
    const from = path.join(src, folderOf(s));
    if (s.role !== undefined) symlinkSync(from, path.join(work, 'roles', s.role));
    if (s.collection !== undefined) {
      const [ns, name] = s.collection.split('.');
      mkdirSync(path.join(work, 'collections/ansible_collections', ns!), { recursive: true });
      symlinkSync(from, path.join(work, 'collections/ansible_collections', ns!, name!));
    }
  }
}

const NOT_PLAYBOOK_DIRS = /\/(roles|tasks|handlers|vars|defaults|molecule|\.github|meta|group_vars|host_vars|templates|files)\//;

/** A YAML file whose top level is a list of plays (hosts:, import_playbook: or the old include:). */
function isPlaybook(file: string): boolean {
  if (NOT_PLAYBOOK_DIRS.test(file)) return false;
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'), { logLevel: 'silent' });
  } catch {
    return false;
  }
  return (
    Array.isArray(data) &&
    data.length > 0 &&
    data.every((p) => p !== null && typeof p === 'object' && !Array.isArray(p)) &&
    data.some((p: Record<string, unknown>) => 'hosts' in p || 'import_playbook' in p || 'include' in p)
  );
}

function walkYaml(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walkYaml(p, out);
    else if (/\.ya?ml$/.test(entry.name) && isPlaybook(p)) out.push(p);
  }
}

function candidates(sources: Source[], src: string, work: string, filter: string): string[] {
  const out = readdirSync(path.join(CORPUS_DIR, 'wrappers'))
    .sort()
    .map((f) => {
      // The wrapper runs from the work folder, beside roles/ and collections/.
      const dest = path.join(work, f);
      writeFileSync(dest, readFileSync(path.join(CORPUS_DIR, 'wrappers', f)));
      return dest;
    });
  for (const s of sources) if (s.playbooks) walkYaml(path.join(src, folderOf(s)), out);
  return out.filter((p) => p.includes(filter));
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 124;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Task names of `--list-tasks` output, which both tools print as Ansible does ("      name\tTAGS: [..]"). */
function listedTasks(out: string): string[] {
  return out
    .split('\n')
    .map((line) => /^ {6}(\S.*?)\tTAGS: /.exec(line)?.[1]?.trim())
    .filter((n): n is string => n !== undefined);
}

function firstError(out: string): string {
  const lines = out.trim().split('\n');
  return (lines.find((l) => /error|E_[A-Z_]+/i.test(l)) ?? lines[0] ?? '').trim().slice(0, 240);
}

async function measure(playbook: string, name: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const cwd = path.dirname(playbook);
  const vncplay = path.join(REPO, 'bin/vncplay.js');
  const inventory = ['-i', 'localhost,'];
  const ansibleCheck = await run('ansible-playbook', [...inventory, '--syntax-check', playbook], cwd, env);
  if (ansibleCheck.code !== 0) return { playbook: name, ansible: false, error: firstError(ansibleCheck.out) };
  const check = await run('node', [vncplay, ...inventory, '--syntax-check', playbook], cwd, env);
  if (check.code !== 0) {
    return { playbook: name, ansible: true, vncplay: false, error: firstError(check.out), code: /\b(E_[A-Z_]+)/.exec(check.out)?.[1] ?? '?' };
  }
  const [a, v] = await Promise.all([
    run('ansible-playbook', [...inventory, '--list-tasks', playbook], cwd, env),
    run('node', [vncplay, ...inventory, '--list-tasks', playbook], cwd, env),
  ]);
  const ansibleTasks = listedTasks(a.out);
  const vncplayTasks = listedTasks(v.out);
  const sameTasks = JSON.stringify(ansibleTasks) === JSON.stringify(vncplayTasks);
  return { playbook: name, ansible: true, vncplay: true, sameTasks, ...(sameTasks ? {} : { tasks: { ansible: ansibleTasks, vncplay: vncplayTasks } }) };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, limit) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** What blocks vncplay, most frequent first: a missing module by name, otherwise the error code. */
function blockers(results: Result[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of results) {
    if (!r.ansible || r.vncplay) continue;
    const module = /`([\w.]+)` is an Ansible module/.exec(r.error ?? '')?.[1];
    const key = module === undefined ? (r.code ?? '?') : `module ${module}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const pct = (n: number, d: number): string => `${Math.round((100 * n) / Math.max(1, d))}%`;

function report(results: Result[], sources: Source[], ansibleVersion: string): string {
  const accepted = results.filter((r) => r.ansible);
  const loads = accepted.filter((r) => r.vncplay);
  const same = loads.filter((r) => r.sameTasks);
  const lines = [
    '# Compatibility corpus',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run corpus\` (bench/corpus.ts) against ${ansibleVersion}.`,
    `Sources: ${sources.length} public repositories pinned in sources.json; roles and collections are applied by the plays in wrappers/.`,
    '',
    '| | playbooks | share of those Ansible accepts |',
    '|---|---|---|',
    `| candidates found | ${results.length} | |`,
    `| ansible-playbook --syntax-check accepts | ${accepted.length} | 100% |`,
    `| vncplay --syntax-check accepts | ${loads.length} | ${pct(loads.length, accepted.length)} |`,
    `| … and --list-tasks gives the same tasks in the same order | ${same.length} | ${pct(same.length, accepted.length)} |`,
    '',
    '## What stops vncplay (playbooks Ansible accepts)',
    '',
    '| reason | playbooks |',
    '|---|---|',
    ...blockers(results).map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '## Per playbook',
    '',
    '| playbook | Ansible | vncplay | same tasks | vncplay says |',
    '|---|---|---|---|---|',
    ...results.map((r) => {
      const mark = (b: boolean | undefined): string => (b === undefined ? '' : b ? 'yes' : 'no');
      const said = r.ansible && r.vncplay === false ? (r.error ?? '').replace(/\|/g, '\\|').replace(/^.*?error\[/, 'error[') : '';
      return `| ${r.playbook} | ${mark(r.ansible)} | ${mark(r.vncplay)} | ${mark(r.sameTasks)} | ${said} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const { sources } = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'sources.json'), 'utf8')) as { sources: Source[] };
  mkdirSync(opts.src, { recursive: true });
  const missing = unpackSources(sources, opts.src, opts.mirror);
  if (missing.length > 0) {
    process.stderr.write(`corpus: ${missing.length} source(s) missing from ${opts.src}: ${missing.join(', ')}\n` +
      'corpus: unpack each repository there as owner+name at the commit in bench/corpus/sources.json, or pass --mirror DIR\n');
    process.exit(2);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'vncplay-corpus-'));
  try {
    installRolesAndCollections(sources, opts.src, work);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ANSIBLE_ROLES_PATH: path.join(work, 'roles'),
      ANSIBLE_COLLECTIONS_PATH: path.join(work, 'collections'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_DEPRECATION_WARNINGS: '0',
      ANSIBLE_LOCALHOST_WARNING: '0',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: '0',
      NO_COLOR: '1',
    };
    const playbooks = candidates(sources, opts.src, work, opts.filter);
    let done = 0;
    const results = await mapLimit(playbooks, opts.jobs, async (pb) => {
      const name = pb.startsWith(work) ? `wrappers/${path.basename(pb)}` : path.relative(opts.src, pb);
      const r = await measure(pb, name, env);
      done += 1;
      const mark = r.vncplay ? (r.sameTasks ? 'OK  ' : 'DIFF') : r.ansible ? 'NO  ' : '--  ';
      process.stdout.write(`[${done}/${playbooks.length}] ${mark} ${r.playbook}${r.ansible && !r.vncplay ? `  ${r.error}` : ''}\n`);
      return r;
    });
    const ansibleVersion = execFileSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(path.join(opts.out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    const text = report(results, sources, ansibleVersion);
    writeFileSync(path.join(opts.out, 'RESULTS.md'), text);
    process.stdout.write(`\n${text.split('\n## Per playbook')[0]}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
