// A real RPM repository for the dnf/yum/rpm_key tests: small noarch packages built on the controller with rpmbuild,
// signed with rpmsign and an OpenPGP key gpg makes for the run, indexed with createrepo_c and served over HTTP on the
// fleet bridge (serveRepo). The hosts run Debian's dnf against it on their own root: their rpm database holds only
// these packages, so what dnf installs, upgrades and removes there is exactly what the tests ask for.
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireProgram } from '../support/tools.js';
import { runTool, type ServedRepo } from './deb-repo.js';
import { fleetBridgeAddress, hostExecOk } from './fleet.js';

export interface RpmSpec {
  name: string;
  version: string;
  requires?: string;
  /** Left unsigned (the others are signed with the run's key). */
  unsigned?: boolean;
  /** Goes into the `extra/` repository (disabled on the host until a task enables it). */
  extra?: boolean;
}

/** The packages the tests use (names start with vp- so a leftover is easy to spot). */
export const TEST_RPMS: RpmSpec[] = [
  { name: 'vp-hello', version: '1.0' },
  { name: 'vp-hello', version: '1.1' },
  { name: 'vp-base', version: '2.0' },
  { name: 'vp-dep', version: '1.0', requires: 'vp-base >= 2.0' },
  { name: 'vp-unsigned', version: '1.0', unsigned: true },
  { name: 'vp-extra', version: '1.0', extra: true },
];

function specFile(p: RpmSpec): string {
  return [
    `Name: ${p.name}`,
    `Version: ${p.version}`,
    'Release: 1',
    `Summary: vncplay test package ${p.name}`,
    'License: MIT',
    'BuildArch: noarch',
    ...(p.requires ? [`Requires: ${p.requires}`] : []),
    '%description',
    `vncplay test package ${p.name}`,
    '%install',
    `mkdir -p %{buildroot}/usr/share/${p.name}`,
    `echo ${p.version} > %{buildroot}/usr/share/${p.name}/version`,
    '%files',
    `/usr/share/${p.name}/version`,
    '',
  ].join('\n');
}

export interface RpmRepo {
  dir: string;
  /** The signing key's fingerprint (40 hex digits) and its armored public key at `<dir>/key.asc`. */
  fingerprint: string;
}

const KEY_USER = 'vncplay tests <rpm-tests@vncplay.invalid>';

/** Builds the packages, signs them, and indexes `dir` (main repository) and `dir/extra`. */
export async function buildRpmRepo(rpms: RpmSpec[] = TEST_RPMS): Promise<RpmRepo> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'vncplay-rpm-build-'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vncplay-rpm-repo-'));
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'extra'));
  const gnupg = path.join(work, 'gnupg');
  await mkdir(gnupg, { mode: 0o700 });
  const env = { GNUPGHOME: gnupg };
  try {
    const gpg = requireProgram('gpg');
    await runTool(gpg, ['--batch', '--passphrase', '', '--quick-gen-key', KEY_USER, 'rsa2048', 'sign', 'never'], undefined, env);
    const colons = await runTool(gpg, ['--batch', '--with-colons', '--fingerprint', KEY_USER], undefined, env);
    const fingerprint = /^fpr:{9}([0-9A-F]{40}):/m.exec(colons)?.[1];
    if (!fingerprint) throw new Error(`no fingerprint in gpg's output: ${colons}`);
    await writeFile(path.join(dir, 'key.asc'), await runTool(gpg, ['--batch', '--armor', '--export', KEY_USER], undefined, env));
    const top = path.join(work, 'top');
    for (const p of rpms) {
      const spec = path.join(work, `${p.name}-${p.version}.spec`);
      await writeFile(spec, specFile(p));
      await runTool(requireProgram('rpmbuild'), ['--quiet', '--define', `_topdir ${top}`, '--define', '_build_id_links none', '-bb', spec]);
      const file = `${p.name}-${p.version}-1.noarch.rpm`;
      const target = path.join(dir, p.extra ? 'extra' : '', file);
      await copyFile(path.join(top, 'RPMS/noarch', file), target);
      if (!p.unsigned) {
        await runTool(requireProgram('rpmsign'), ['--define', `_gpg_name ${KEY_USER}`, '--define', `__gpg ${gpg}`, '--addsign', target], undefined, env);
      }
    }
    const createrepo = requireProgram('createrepo_c');
    await runTool(createrepo, ['-q', path.join(dir, 'extra')]);
    await runTool(createrepo, ['-q', '--excludes', 'vp-extra-*', dir]);
    return { dir, fingerprint };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const REPO_FILE = '/etc/yum.repos.d/vncplay-test.repo';

/** The repositories on the host: vp-test (enabled, signatures checked) and vp-extra (disabled). */
export async function attachRpmRepo(host: number, repo: ServedRepo): Promise<void> {
  const text = [
    '[vp-test]',
    'name=vncplay test packages',
    `baseurl=${repo.url}`,
    'gpgcheck=1',
    '',
    '[vp-extra]',
    'name=vncplay extra test packages',
    `baseurl=${repo.url}extra/`,
    'enabled=0',
    'gpgcheck=1',
    '',
  ].join('\n');
  await hostExecOk(host, ['sh', '-c', 'mkdir -p /etc/yum.repos.d && printf "%s" "$1" > $2', 'sh', text, REPO_FILE]);
}

/**
 * Removes every vp-* package and imported key from the host's rpm database, the repository file and dnf's cache,
 * history and logs (a host starts with none of them).
 */
export async function detachRpmRepo(host: number): Promise<void> {
  const script = [
    'pkgs=$(rpm -qa "vp-*" 2>/dev/null); [ -z "$pkgs" ] || rpm -e --nodeps $pkgs 2>/dev/null',
    'keys=$(rpm -qa gpg-pubkey 2>/dev/null); [ -z "$keys" ] || rpm -e --allmatches $keys 2>/dev/null',
    `rm -rf ${REPO_FILE} /var/cache/dnf /var/lib/dnf /var/log/dnf*.log /var/log/hawkey.log /usr/share/vp-*`,
    'true',
  ];
  await hostExecOk(host, ['sh', '-c', script.join('\n')], { timeoutMs: 60_000 });
}

/** The vp-* packages rpm has on the host, as name-version-release, sorted. */
export async function hostRpms(host: number, root = '/'): Promise<string[]> {
  const out = await hostExecOk(host, ['sh', '-c', 'rpm --root "$1" -qa --qf "%{NAME}-%{VERSION}-%{RELEASE}\\n" "vp-*" 2>/dev/null | sort', 'sh', root]);
  return out.split('\n').filter(Boolean);
}

/**
 * Serves `dir` over HTTP on the bridge from a child process (Python's http.server): the parity helper runs
 * ansible-playbook synchronously, which would stall a server in the test's own event loop while Ansible's dnf and
 * rpm_key fetch from it.
 */
export function serveRepoInChild(dir: string): Promise<ServedRepo> {
  const child = spawn(requireProgram('python3'), ['-u', '-m', 'http.server', '0', '--bind', fleetBridgeAddress(), '--directory', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 -m http.server exited ${code}: ${out}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const port = /port (\d+)/.exec(out)?.[1];
      if (!port) return;
      child.removeAllListeners('exit');
      const url = `http://${fleetBridgeAddress()}:${port}/`;
      resolvePromise({
        dir,
        url,
        sourceLine: `baseurl=${url}`,
        close: () => new Promise<void>((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill()))),
      });
    });
  });
}
