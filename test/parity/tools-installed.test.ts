// Guards the promise of the README's test command on a brand-new machine: every external program a test or the
// benchmark starts comes from a Debian package that scripts/setup.sh installs or that the base image has. A fresh
// machine once failed 14 tests because `ansible` and `sudo` had only ever been installed by hand on the machines
// where CI passed; with this check the same mistake fails here, on the developer's own machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_PROGRAMS, findProgram, requireProgram, type TestProgram } from '../support/tools.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Packages of the node machine image that the tests rely on without setup.sh installing them (each checked
 * against the image's package list). Anything not here must be in setup.sh's APT_PACKAGES.
 */
const BASE_IMAGE_PACKAGES = ['bash', 'dash', 'coreutils', 'bsdutils', 'util-linux', 'systemd', 'time', 'openssl', 'python3', 'nodejs', 'dpkg', 'apt'];

/** Programs the machine image may also provide outside dpkg (Node.js is the README's prerequisite; a pyenv python3). */
const PREREQUISITES_OUTSIDE_DPKG = new Set<string>(['node', 'python3']);

/** A file of Debian's `ansible` package (not ansible-core's) that the parity tests use: the json stdout callback. */
const ANSIBLE_POSIX_JSON_CALLBACK = '/usr/lib/python3/dist-packages/ansible_collections/ansible/posix/plugins/callback/json.py';

/** The names in scripts/setup.sh's `APT_PACKAGES=( … )` list, as the fresh-machine install sees them. */
export function setupAptPackages(setupScript: string): string[] {
  const list = /^APT_PACKAGES=\(([^)]*)\)/m.exec(setupScript);
  if (!list?.[1]) throw new Error('scripts/setup.sh has no APT_PACKAGES=( … ) list');
  return list[1]
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Program names that TypeScript sources start with a literal first argument (spawn, execFile, requireProgram …). */
export function programsStartedIn(source: string): string[] {
  const starts = /\b(?:spawn|spawnSync|execFile|execFileSync|runProcess|requireProgram)\(\s*(['"`])([^'"`$]+)\1/g;
  const absolute = /(['"`])\/usr\/(?:s?bin)\/([A-Za-z0-9._-]+)\1/g;
  const names = new Set<string>();
  for (const m of source.matchAll(starts)) names.add(path.basename(m[2] ?? ''));
  for (const m of source.matchAll(absolute)) names.add(m[2] ?? '');
  names.delete('');
  return [...names];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' || name === '.work' ? [] : sourceFiles(full);
    return /\.(ts|mjs)$/.test(name) ? [full] : [];
  });
}

/**
 * The Debian package that owns a file: its real path (alternatives, /usr/bin/sh → dash), tried in the /bin and
 * /usr/bin spellings of a merged-/usr system.
 */
function owningPackage(file: string): string | undefined {
  const real = realpathSync(file);
  const spellings = [real, real.replace(/^\/usr\//, '/'), real.startsWith('/usr/') ? real : `/usr${real}`];
  for (const spelling of spellings) {
    const res = spawnSync('dpkg-query', ['-S', spelling], { encoding: 'utf8' });
    // `diversion by dash from: /bin/sh` lines name no owner; `pkg: /path` (or `pkg:amd64: /path`) do.
    const owner = res.status === 0 ? /^(?!diversion )([^:,\s]+)[^:]*: /m.exec(res.stdout)?.[1] : undefined;
    if (owner) return owner;
  }
  return undefined;
}

const aptPackages = setupAptPackages(readFileSync(path.join(REPO, 'scripts/setup.sh'), 'utf8'));
const programs = Object.keys(TEST_PROGRAMS) as TestProgram[];

describe('external programs of the tests and the benchmark', () => {
  it('reads the APT_PACKAGES list of setup.sh, comments and all', () => {
    expect(setupAptPackages('x\nAPT_PACKAGES=(\n  a b # not-c\n  d\n)\n')).toEqual(['a', 'b', 'd']);
    expect(aptPackages).toContain('ansible');
  });

  it('finds the programs a source starts', () => {
    const src = "spawnSync('ansible-playbook', []); execFileSync(\"/usr/bin/ansible-vault\", x); spawn(`${x}`); requireProgram('tmux')";
    expect(programsStartedIn(src).sort()).toEqual(['ansible-playbook', 'ansible-vault', 'tmux']);
  });

  it.each(programs)('%s comes from a package setup.sh installs or the base image has', (program) => {
    const pkg = TEST_PROGRAMS[program];
    expect([...aptPackages, ...BASE_IMAGE_PACKAGES], `${program}'s package ${pkg}`).toContain(pkg);
  });

  it.each(programs)('%s is installed here, from the package the table names', (program) => {
    const found = requireProgram(program);
    const owner = owningPackage(found);
    // A program that dpkg does not know is accepted only where the machine image may provide it another way.
    if (owner === undefined) expect(PREREQUISITES_OUTSIDE_DPKG.has(program), `${found} belongs to no Debian package`).toBe(true);
    else expect(owner, `${found}`).toBe(TEST_PROGRAMS[program]);
  });

  it("the parity tests' Ansible collections come from Debian's ansible package, which setup.sh installs", () => {
    expect(existsSync(ANSIBLE_POSIX_JSON_CALLBACK), `${ANSIBLE_POSIX_JSON_CALLBACK} (ansible.posix's json callback)`).toBe(true);
    expect(owningPackage(ANSIBLE_POSIX_JSON_CALLBACK)).toBe('ansible');
    expect(aptPackages).toContain('ansible');
  });

  it('every program a test or the benchmark starts is in the table of test/support/tools.ts', () => {
    const self = fileURLToPath(import.meta.url);
    const files = [...sourceFiles(path.join(REPO, 'test')), ...sourceFiles(path.join(REPO, 'bench'))].filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(50);
    const unknown = files.flatMap((file) =>
      programsStartedIn(readFileSync(file, 'utf8'))
        .filter((name) => !(name in TEST_PROGRAMS))
        .map((name) => `${path.relative(REPO, file)}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('no test probes whether a program is installed (to skip without it): it asks requireProgram instead', () => {
    const self = fileURLToPath(import.meta.url);
    const probes = /(?:spawnSync|execFileSync)\([^)]*\[\s*'--version'\s*\]|existsSync\(\s*['"`]\/usr\/s?bin\//;
    const offenders = sourceFiles(path.join(REPO, 'test'))
      .filter((file) => file !== self && probes.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(REPO, file));
    expect(offenders).toEqual([]);
  });

  it('requireProgram names the package to install when a program is missing', () => {
    expect(findProgram('vncplay-no-such-program')).toBeUndefined();
    expect(() => requireProgram('vncplay-no-such-program' as TestProgram)).toThrow(/is not installed.*scripts\/setup\.sh/);
  });
});
