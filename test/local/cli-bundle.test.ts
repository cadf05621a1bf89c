// The vncplay command runs the CLI bundle (dist/bundle/, scripts/bundle.mjs in `npm run build`), not the ~90 files
// of tsc output: checked by recording every module node resolves while bin/vncplay.js runs. Lazily imported parts
// (vault, drill…) stay separate chunks that load on demand; stack traces of internal errors name src/*.ts lines.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../support/temp-tree.js';
import { repoRoot } from '../support/cli-helpers.js';

const bin = path.join(repoRoot, 'bin/vncplay.js');
const bundleDir = pathToFileURL(path.join(repoRoot, 'dist/bundle')).href + '/';
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

// A module customization hook that appends every resolved URL to the file named by VNCPLAY_TEST_MODULE_LOG.
const hooks = tempTree({
  'hooks.mjs': [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, next) {',
    '  const resolved = await next(specifier, context);',
    "  appendFileSync(process.env.VNCPLAY_TEST_MODULE_LOG, resolved.url + '\\n');",
    '  return resolved;',
    '}',
  ].join('\n'),
  'register.mjs': "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
});

interface Traced {
  status: number | null;
  stdout: string;
  stderr: string;
  /** URLs of vncplay's own modules (file: URLs outside node_modules), in load order. */
  own: string[];
}

/** Runs `node <script> …args` with the resolve hook and returns which of vncplay's files it loaded. */
function traced(script: string, args: string[]): Traced {
  const log = path.join(tempTree({}), 'modules.log');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(hooks, 'register.mjs')).href, script, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, VNCPLAY_TEST_MODULE_LOG: log },
  });
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  const own = urls.filter((u) => u.startsWith('file:') && !u.includes('/node_modules/') && !u.startsWith(pathToFileURL(hooks).href));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, own: [...new Set(own)] };
}

const chunkName = (url: string): string => url.slice(bundleDir.length);
const repoUrl = pathToFileURL(repoRoot).href;
/** Modules of vncplay's code that did not come from the bundle: tsc's dist/cli, dist/runner… or src/. */
const unbundled = (urls: string[]): string[] =>
  urls.filter((u) => (u.startsWith(`${repoUrl}/dist/`) && !u.startsWith(bundleDir)) || u.startsWith(`${repoUrl}/src/`));

describe('the CLI runs from its bundle', () => {
  it('npm run build made dist/bundle/main.js with its source maps, and bin/vncplay.js imports it', () => {
    expect(existsSync(path.join(repoRoot, 'dist/bundle/main.js'))).toBe(true);
    expect(existsSync(path.join(repoRoot, 'dist/bundle/main.js.map'))).toBe(true);
    expect(readFileSync(bin, 'utf8')).toContain("'../dist/bundle/'");
  });

  it('--version loads only the bundle entry (and its shared chunks) and still reads package.json', () => {
    const r = traced(bin, ['--version']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`vncplay ${version}\n`);
    const loaded = r.own.filter((u) => u !== pathToFileURL(bin).href);
    expect(loaded).toContain(`${bundleDir}main.js`);
    // --version reads no schema either: only bin/vncplay.js and bundle chunks.
    expect(loaded.filter((u) => !u.startsWith(bundleDir))).toEqual([]);
    // No lazily loaded part: --version pays for none of them.
    expect(loaded.map(chunkName).filter((n) => /^(vault|drill|schedule|run|load|live)-/.test(n))).toEqual([]);
  });

  it('a lazily imported chunk still loads: `vault --help` pulls the vault chunk that --version did not', () => {
    const r = traced(bin, ['vault', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: vncplay vault');
    const chunks = r.own.filter((u) => u.startsWith(bundleDir)).map(chunkName);
    expect(chunks).toContain('main.js');
    expect(chunks.some((n) => /^vault-[A-Z0-9]+\.js$/.test(n))).toBe(true);
    expect(unbundled(r.own)).toEqual([]);
  });

  it('--syntax-check of the shipped playbooks loads the playbook loader chunk and passes', () => {
    const playbooks = ['failover-drill.yml', 'harden.yml', 'restart.yml', 'vnc-setup.yml'].map((p) => `playbooks/${p}`);
    const r = traced(bin, ['--syntax-check', ...playbooks]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.own.filter((u) => u.startsWith(bundleDir)).map(chunkName).some((n) => n.startsWith('load-'))).toBe(true);
    // The precompiled validators in schemas/ load as before; vncplay's code all comes from the bundle.
    expect(r.own.some((u) => u.startsWith(`${repoUrl}/schemas/validators/`))).toBe(true);
    expect(unbundled(r.own)).toEqual([]);
  });

  it('an internal error’s stack trace names src/*.ts lines, not bundle chunk lines', () => {
    // Loads bin/vncplay.js as the command does (--version), then calls the same main() with an argv no parser
    // expects (a number): that TypeError is reported as an internal error with its stack.
    const dir = tempTree({
      'crash.mjs': [
        "process.argv = [process.argv[0], 'vncplay', '--version'];",
        `await import(${JSON.stringify(pathToFileURL(bin).href)});`,
        `const { main } = await import(${JSON.stringify(`${bundleDir}main.js`)});`,
        'process.exitCode = await main([42]);',
      ].join('\n'),
    });
    const r = spawnSync(process.execPath, [path.join(dir, 'crash.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status).toBe(70);
    expect(r.stderr).toContain('internal error: TypeError');
    const frames = r.stderr.split('\n').filter((l) => l.startsWith('    at '));
    expect(frames.some((l) => l.includes(`${path.join(repoRoot, 'src/cli/main.ts')}:`))).toBe(true);
    expect(frames.filter((l) => l.includes('/dist/bundle/'))).toEqual([]);
  });
});

describe('bin/vncplay.js picks the bundle unless tsc wrote dist/ after it', () => {
  // A stand-in installation: a copy of bin/vncplay.js with two one-line entries that say which one ran.
  const entry = (what: string): string => `export async function main() { process.stdout.write('${what}\\n'); return 0; }\n`;
  function install(files: Record<string, string>): string {
    const dir = tempTree(files);
    copyFileSync(bin, path.join(dir, 'bin/vncplay.js'));
    return dir;
  }
  const run = (dir: string) => spawnSync(process.execPath, [path.join(dir, 'bin/vncplay.js')], { encoding: 'utf8' });
  const setMtime = (file: string, s: number): void => utimesSync(file, s, s);

  const cases: { name: string; bundleAge?: number; tscAge: number; ran: string; warned: boolean }[] = [
    { name: 'bundle built after tsc (npm run build)', bundleAge: 10, tscAge: 20, ran: 'bundle', warned: false },
    { name: 'same mtime (npm pack sets one date for every file)', bundleAge: 10, tscAge: 10, ran: 'bundle', warned: false },
    { name: 'tsc ran alone after the bundle', bundleAge: 20, tscAge: 10, ran: 'tsc', warned: true },
    { name: 'no bundle at all', tscAge: 10, ran: 'tsc', warned: true },
  ];
  it.each(cases)('$name → runs $ran', ({ bundleAge, tscAge, ran, warned }) => {
    const dir = install({
      'bin/.keep': '',
      'dist/cli/main.js': entry('tsc'),
      ...(bundleAge !== undefined ? { 'dist/bundle/main.js': entry('bundle') } : {}),
    });
    const now = Date.now() / 1000;
    setMtime(path.join(dir, 'dist/cli/main.js'), now - tscAge);
    if (bundleAge !== undefined) setMtime(path.join(dir, 'dist/bundle/main.js'), now - bundleAge);
    const r = run(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${ran}\n`);
    if (warned) expect(r.stderr).toMatch(/^vncplay: dist\/bundle\/ (is older than dist\/cli\/|is missing).*`npm run build`/);
    else expect(r.stderr).toBe('');
  });
});
