// A real Debian package repository for the package tests: small .debs built on the controller with dpkg-deb,
// indexed with apt-ftparchive, served over HTTP on the fleet's bridge (fleetBridgeAddress()) and wired into a fleet host's apt.
// The fleet hosts have no route to Debian's mirrors (apt-get update hangs on DNS), so while a host uses this repo
// its default sources.list is moved aside; `detachHost` puts it back.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requireProgram } from '../support/tools.js';
import { fleetBridgeAddress, hostExec, hostExecOk } from './fleet.js';

export interface DebSpec {
  name: string;
  version: string;
  depends?: string;
  /** Files the package installs: absolute path → content. */
  files?: Record<string, string>;
  /** Paths among `files` that are conffiles (under /etc). */
  conffiles?: string[];
  description?: string;
}

/** The small packages the apt/package tests use (names start with vp- so a leftover is easy to spot). */
export const TEST_DEBS: DebSpec[] = [
  { name: 'vp-hello', version: '1.0', files: { '/usr/share/vp-hello/version': '1.0\n' } },
  { name: 'vp-hello', version: '1.1', files: { '/usr/share/vp-hello/version': '1.1\n' } },
  { name: 'vp-base', version: '2.0', files: { '/usr/share/vp-base/README': 'base\n' } },
  { name: 'vp-dep', version: '1.0', depends: 'vp-base (>= 2.0)', files: { '/usr/share/vp-dep/README': 'dep\n' } },
  { name: 'vp-conf', version: '1.0', files: { '/etc/vp-conf.conf': 'setting = 1\n' }, conffiles: ['/etc/vp-conf.conf'] },
];

/** Every package TEST_DEBS names, for cleaning a host. */
export const TEST_DEB_NAMES = [...new Set(TEST_DEBS.map((d) => d.name))];

/**
 * Packages copied from the controller's own installation with dpkg-repack (same Debian release as the hosts):
 * Ansible's apt module needs python3-apt on the host, and the hosts cannot download it.
 */
export const ANSIBLE_APT_DEPS = ['python3-apt', 'python-apt-common', 'distro-info-data'];

/** Runs a build tool on the controller; resolves with its stdout, rejects with its stderr. */
export function runTool(cmd: string, args: string[], cwd?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Builds one .deb into `outDir` with dpkg-deb; returns its file name. */
export async function buildDeb(outDir: string, spec: DebSpec): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), `vncplay-deb-${spec.name}-`));
  try {
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    const control = [
      `Package: ${spec.name}`,
      `Version: ${spec.version}`,
      'Architecture: all',
      'Maintainer: vncplay tests <tests@vncplay.invalid>',
      ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
      'Section: misc',
      'Priority: optional',
      `Description: ${spec.description ?? `vncplay test package ${spec.name}`}`,
      '',
    ].join('\n');
    await writeFile(path.join(root, 'DEBIAN/control'), control);
    if (spec.conffiles?.length) await writeFile(path.join(root, 'DEBIAN/conffiles'), `${spec.conffiles.join('\n')}\n`);
    for (const [file, content] of Object.entries(spec.files ?? {})) {
      const target = path.join(root, file);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
      await chmod(target, 0o644);
    }
    const debName = `${spec.name}_${spec.version}_all.deb`;
    await runTool(requireProgram('dpkg-deb'), ['--root-owner-group', '--build', root, path.join(outDir, debName)], outDir);
    return debName;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Where scripts/setup.sh (`fetch_host_debs`) keeps Debian's own .debs that tests install into a host. */
export const HOST_DEBS_DIR = '/var/cache/vncplay-fleet/host-debs';

/** The .deb files of `names` in HOST_DEBS_DIR; throws naming setup.sh when one is missing. */
export async function hostDebs(names: readonly string[]): Promise<string[]> {
  const files = await readdir(HOST_DEBS_DIR).catch(() => [] as string[]);
  return names.map((name) => {
    const file = files.find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
    if (!file) throw new Error(`${name}'s .deb is not in ${HOST_DEBS_DIR}: run scripts/setup.sh (fetch_host_debs)`);
    return path.join(HOST_DEBS_DIR, file);
  });
}

/**
 * A flat repository (`deb [trusted=yes] URL ./`) in a new folder: the test debs, repacked extras, copies of
 * `copied` (.deb files, e.g. from hostDebs), Packages, Release.
 */
export async function buildRepo(debs: DebSpec[] = TEST_DEBS, repack: string[] = ANSIBLE_APT_DEPS, copied: readonly string[] = []): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-deb-repo-'));
  await chmod(dir, 0o755);
  for (const d of debs) await buildDeb(dir, d);
  if (repack.length) await runTool(requireProgram('dpkg-repack'), repack, dir);
  for (const file of copied) await copyFile(file, path.join(dir, path.basename(file)));
  const ftp = requireProgram('apt-ftparchive');
  await writeFile(path.join(dir, 'Packages'), await runTool(ftp, ['packages', '.'], dir));
  await writeFile(path.join(dir, 'Release'), await runTool(ftp, ['release', '.'], dir));
  return dir;
}

export interface ServedRepo {
  dir: string;
  url: string;
  /** The apt source line for this repo. */
  sourceLine: string;
  close(): Promise<void>;
}

/** Serves `dir` read-only over HTTP on the bridge address, on a free port. */
export async function serveRepo(dir: string): Promise<ServedRepo> {
  // Every file below dir, by its relative path (an RPM repository keeps its index in repodata/).
  const names = new Set((await readdir(dir, { recursive: true })).map((n) => n.split(path.sep).join('/')));
  const server: Server = createServer((req, res) => {
    // apt asks for `./Packages` under a flat repository's URL, dnf for repodata/repomd.xml
    const name = path.posix.normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^\/+/, '');
    if (!names.has(name)) {
      res.writeHead(404).end();
      return;
    }
    const file = path.join(dir, name);
    void stat(file).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end();
        // pip reads a find-links page only when it says it is HTML.
        const type = name.endsWith('.html') ? { 'content-type': 'text/html' } : {};
        res.writeHead(200, { 'content-length': st.size, 'last-modified': st.mtime.toUTCString(), ...type });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, fleetBridgeAddress(), () => resolvePromise());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${fleetBridgeAddress()}:${port}/`;
  return {
    dir,
    url,
    sourceLine: `deb [trusted=yes] ${url} ./`,
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}

const LIST_FILE = '/etc/apt/sources.list.d/vncplay-test.list';
const MAIN_LIST = '/etc/apt/sources.list';
const MAIN_LIST_ASIDE = '/etc/apt/sources.list.vncplay-aside';
const LISTS_ASIDE = '/var/lib/apt/lists.vncplay-aside';

/**
 * Points the host's apt at the repo only: the default list moved aside, the repo's list added, the cache updated.
 * With `ansibleDeps`, also installs python3-apt from the repo (Ansible's apt module needs it).
 */
export async function attachHost(host: number, repo: ServedRepo, opts: { ansibleDeps?: boolean } = {}): Promise<void> {
  const script = [
    'set -e',
    // apt-get update drops the lists of sources no longer configured: keep the host's own to put back.
    `[ -e ${LISTS_ASIDE} ] || cp -a /var/lib/apt/lists ${LISTS_ASIDE}`,
    `[ ! -e ${MAIN_LIST} ] || mv ${MAIN_LIST} ${MAIN_LIST_ASIDE}`,
    `printf '%s\\n' "$1" > ${LIST_FILE}`,
    'apt-get update -q >/dev/null',
    ...(opts.ansibleDeps ? [`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${ANSIBLE_APT_DEPS.join(' ')} >/dev/null`] : []),
  ];
  await hostExecOk(host, ['sh', '-c', script.join('\n'), 'sh', repo.sourceLine], { timeoutMs: 120_000 });
}

/** Purges those of `names` dpkg knows (installed or config files left). */
export async function purgePackages(host: number, names: readonly string[] = TEST_DEB_NAMES): Promise<void> {
  const script = [
    'fmt=$1; shift',
    'installed=$(dpkg-query -W -f="$fmt" "$@" 2>/dev/null | awk \'$1 != "un" {print $2}\')',
    'if [ -n "$installed" ]; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $installed >/dev/null; fi',
  ];
  await hostExecOk(host, ['sh', '-c', script.join('\n'), 'sh', '${db:Status-Abbrev} ${Package}\n', ...names], { timeoutMs: 120_000 });
}

/** Purges the test packages (and python3-apt when asked), removes the repo's list and lists, restores sources.list. */
export async function detachHost(host: number, opts: { ansibleDeps?: boolean } = {}): Promise<void> {
  await purgePackages(host, [...TEST_DEB_NAMES, ...(opts.ansibleDeps ? ANSIBLE_APT_DEPS : [])]);
  const script = [
    `rm -f ${LIST_FILE} /var/lib/apt/lists/${fleetBridgeAddress()}:* /var/cache/apt/*.bin`,
    `if [ -e ${LISTS_ASIDE} ]; then rm -rf /var/lib/apt/lists && mv ${LISTS_ASIDE} /var/lib/apt/lists; fi`,
    `[ ! -e ${MAIN_LIST_ASIDE} ] || mv ${MAIN_LIST_ASIDE} ${MAIN_LIST}`,
  ];
  await hostExecOk(host, ['sh', '-c', script.join('\n')], { timeoutMs: 120_000 });
}

/** What dpkg says about a package on the host: `ii 1.0`, `rc 1.0`, or `un` when dpkg does not know it. */
export async function hostPackageState(host: number, name: string): Promise<string> {
  const r = await hostExec(host, ['dpkg-query', '-W', '-f=${db:Status-Abbrev}${Version}', name]);
  if (r.code !== 0) return 'un';
  const m = /^(\S+)\s*(.*)$/.exec(r.stdout.trim());
  return m ? `${m[1]!.trim()} ${m[2]!}`.trim() : 'un';
}
