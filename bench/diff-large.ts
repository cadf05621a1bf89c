/**
 * `node --import tsx bench/diff-large.ts [--runs 3] [--no-write]`: the --diff line diff on large files, before and
 * after issue 13 (M4), side by side in one run, with Python's difflib (what ansible-playbook's --diff uses) for
 * reference; then `--check --diff` end to end, the CLI of this checkout (`npm run build` first) against
 * ansible-playbook. Each measurement is its own process, so its peak RSS is its own; runs alternate between the
 * tools. Prints Markdown and writes it into bench/RESULTS.md between its markers (--no-write: print only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { splitLinesKeepEnds, diffLines } from '../src/output/diff.js';
import { quadraticDiffLines } from './diff-quadratic.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const VNCPLAY_BIN = path.join(path.dirname(BENCH_DIR), 'bin', 'vncplay.js');
const RESULTS = path.join(BENCH_DIR, 'RESULTS.md');
export const DIFF_SECTION_START = '<!-- bench/diff-large.ts: start -->';
export const DIFF_SECTION_END = '<!-- bench/diff-large.ts: end -->';

type Tool = 'before' | 'after' | 'difflib';
const TOOLS: Tool[] = ['before', 'after', 'difflib'];
const TOOL_NAMES: Record<Tool, string> = {
  before: 'vncplay before (ae24324: Myers, V copied per edit)',
  after: 'vncplay after (one row in 64 kept, limits per file)',
  difflib: 'Python difflib.unified_diff (Ansible)',
};

interface Case {
  name: string;
  before: string;
  after: string;
}

function cases(): Case[] {
  const lines = (n: number, line: (i: number) => string): string => Array.from({ length: n }, (_, i) => `${line(i)}\n`).join('');
  return [
    { name: '8000 lines, all changed', before: lines(8000, (i) => `key_${i} = value_${i}`), after: lines(8000, (i) => `key_${i} = other_${i}`) },
    // Every line in both texts, none set aside: the search itself goes past its 4096 edits, in steps.
    { name: '4000 lines, reversed order', before: lines(4000, (i) => `key_${i} = value_${i}`), after: lines(4000, (i) => `key_${3999 - i} = value_${3999 - i}`) },
    {
      name: '10000 lines, 100 scattered changes',
      before: lines(10000, (i) => `key_${i} = value_${i}`),
      after: lines(10000, (i) => (i % 100 === 7 ? `key_${i} = changed_${i}` : `key_${i} = value_${i}`)),
    },
  ];
}

interface Measurement {
  ms: number;
  peakRssMb: number;
  edits: number;
}

/** One measurement in this process (run as a child of the benchmark). */
function measureHere(tool: 'before' | 'after', c: Case): Measurement {
  const started = performance.now();
  const a = splitLinesKeepEnds(c.before);
  const b = splitLinesKeepEnds(c.after);
  const ops = tool === 'before' ? quadraticDiffLines(a, b) : diffLines(a, b);
  const ms = performance.now() - started;
  return { ms, peakRssMb: process.resourceUsage().maxRSS / 1024, edits: ops.filter((o) => o.kind !== ' ').length };
}

/** difflib's unified diff, as Ansible's --diff computes it; edits counted from its -/+ lines. */
const DIFFLIB = `
import difflib, json, resource, sys, time
case = json.load(sys.stdin)
t = time.perf_counter()
out = list(difflib.unified_diff(case['before'].splitlines(True), case['after'].splitlines(True), 'before', 'after'))
ms = (time.perf_counter() - t) * 1000
edits = sum(1 for l in out[2:] if l[:1] in '-+')
print(json.dumps({'ms': ms, 'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'edits': edits}))
`;

function measureChild(tool: Tool, caseIndex: number): Measurement {
  if (tool === 'difflib') {
    const c = cases()[caseIndex]!;
    return JSON.parse(execFileSync('python3', ['-c', DIFFLIB], { input: JSON.stringify(c), encoding: 'utf8', maxBuffer: 1 << 26 })) as Measurement;
  }
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', tool, '--case', String(caseIndex)], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as Measurement;
}

/** The baseline a child starts from: the same process measuring nothing (Node with tsx, or Python). */
function idleRssMb(): { node: number; python: number } {
  const node = JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', 'idle'], { encoding: 'utf8' })) as { peakRssMb: number };
  const python = Number(execFileSync('python3', ['-c', 'import difflib, json, resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)'], { encoding: 'utf8' }));
  return { node: node.peakRssMb, python };
}

interface EndToEnd {
  tool: string;
  wallS: number[];
  peakRssMb: number[];
  /** The diff's @@/-/+ lines, to check both tools printed the same hunks. */
  hunks: string;
}

/**
 * `--check --diff` of a copy that would change every line of an 8000-line file of short lines (48 KB, under
 * Ansible's 104448-byte diff limit), timed with GNU time: the whole process, start-up included.
 */
function endToEnd(runs: number): EndToEnd[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vncplay-diff-bench-'));
  try {
    writeFileSync(path.join(dir, 'dest.txt'), Array.from({ length: 8000 }, (_, i) => `a${i}\n`).join(''));
    writeFileSync(path.join(dir, 'new.txt'), Array.from({ length: 8000 }, (_, i) => `b${i}\n`).join(''));
    writeFileSync(path.join(dir, 'play.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: {src: new.txt, dest: ${path.join(dir, 'dest.txt')}}\n`);
    writeFileSync(path.join(dir, 'local.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
    const tools: Array<[string, string[]]> = [
      ['vncplay --check --diff', [process.execPath, VNCPLAY_BIN, 'play.yml', '-i', 'local.yml', '--check', '--diff']],
      ['ansible-playbook --check --diff', ['ansible-playbook', 'play.yml', '-i', 'localhost,', '-c', 'local', '--check', '--diff']],
    ];
    const out: EndToEnd[] = tools.map(([tool]) => ({ tool, wallS: [], peakRssMb: [], hunks: '' }));
    for (let r = 0; r < runs; r++) {
      for (const [i, [, argv]] of tools.entries()) {
        const res = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { cwd: dir, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1' } });
        if (res.status !== 0) throw new Error(`${argv.join(' ')} exited ${res.status}: ${res.stderr}`);
        const [wall, rssKb] = res.stderr.trim().split('\n').pop()!.split(' ').map(Number);
        out[i]!.wallS.push(wall!);
        out[i]!.peakRssMb.push(rssKb! / 1024);
        out[i]!.hunks = res.stdout.split('\n').filter((l) => /^(@@|[-+][ab])/.test(l)).join('\n');
        process.stderr.write(`end to end · ${out[i]!.tool} · run ${r + 1}: ${wall} s, ${(rssKb! / 1024).toFixed(0)} MB\n`);
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function main(): void {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, child: { type: 'string' }, case: { type: 'string' }, 'no-write': { type: 'boolean', default: false } },
  });
  if (values.child === 'idle') {
    process.stdout.write(JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  if (values.child === 'before' || values.child === 'after') {
    process.stdout.write(JSON.stringify(measureHere(values.child, cases()[Number(values.case)]!)));
    return;
  }
  const runs = Number(values.runs);
  const loadStart = os.loadavg();
  const idle = idleRssMb();
  const rows: string[] = [];
  for (const [i, c] of cases().entries()) {
    const got: Record<Tool, Measurement[]> = { before: [], after: [], difflib: [] };
    for (let r = 0; r < runs; r++) {
      for (const tool of TOOLS) {
        const m = measureChild(tool, i);
        got[tool].push(m);
        process.stderr.write(`${c.name} · ${tool} · run ${r + 1}: ${m.ms.toFixed(0)} ms, ${m.peakRssMb.toFixed(0)} MB, ${m.edits} edits\n`);
      }
    }
    for (const tool of TOOLS) {
      const ms = got[tool].map((m) => m.ms);
      const rss = got[tool].map((m) => m.peakRssMb);
      rows.push(`| ${c.name} | ${TOOL_NAMES[tool]} | ${runs} | ${(median(ms) / 1000).toFixed(2)} | ${median(rss).toFixed(0)} | ${got[tool][0]!.edits} |`);
    }
  }
  const e2e = endToEnd(runs);
  const sameHunks = e2e[0]!.hunks !== '' && e2e[0]!.hunks === e2e[1]!.hunks;
  const section = [
    DIFF_SECTION_START,
    '## --diff of large files (bench/diff-large.ts)',
    '',
    `Measured ${new Date().toISOString()} (node ${process.version}, ${os.cpus().length} cores; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} at start,`,
    `${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at end: the machine is shared, compare the tools side by side). Each run is its own process;`,
    `time is the line diff alone (splitting included; difflib: the whole unified_diff), peak RSS is the process's,`,
    `of which ${idle.node.toFixed(0)} MB (Node with tsx) and ${idle.python.toFixed(0)} MB (Python with difflib) is the idle process. Medians of ${runs} alternating runs.`,
    '',
    '| case | diff | runs | median time (s) | peak RSS (MB) | edit lines |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'All changed: every line is in one text only, more than one search explores (4096 edits), so they are set aside',
    'before the search (as GNU diff does). Reversed: every line is in both texts; the script needs ~8000 edits, so the',
    'new diff searches in steps of 4096 edits, each continuing from the furthest point of the last (a correct diff, not',
    'always the shortest; here as short as the old). Scattered changes: the shortest diff, the same script as before.',
    '',
    'End to end, the whole process (GNU time), a copy that would change every line of an 8000-line file of short lines',
    `(48 KB, under Ansible's 104448-byte diff limit), medians of ${runs} alternating runs; the hunks printed are ${sameHunks ? 'the same' : 'NOT the same'}:`,
    '',
    '| command | runs | median wall (s) | peak RSS (MB) |',
    '|---|---|---|---|',
    ...e2e.map((t) => `| ${t.tool} | ${runs} | ${median(t.wallS).toFixed(2)} | ${median(t.peakRssMb).toFixed(0)} |`),
    DIFF_SECTION_END,
  ].join('\n');
  process.stdout.write(`${section}\n`);
  if (!values['no-write']) writeFileSync(RESULTS, withDiffSection(readFileSync(RESULTS, 'utf8'), section));
}

/** RESULTS.md with this benchmark's section replaced (or appended). */
export function withDiffSection(markdown: string, section: string): string {
  const start = markdown.indexOf(DIFF_SECTION_START);
  const end = markdown.indexOf(DIFF_SECTION_END);
  if (start >= 0 && end > start) return markdown.slice(0, start) + section + markdown.slice(end + DIFF_SECTION_END.length);
  return `${markdown.trimEnd()}\n\n${section}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
