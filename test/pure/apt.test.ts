import { describe, expect, it } from 'vitest';
import { aptGetArgv, aptModule, aptNoopReason, parseGather, planPackages, splitPackage, type AptFacts, type PackageFacts } from '../../src/modules/apt.js';
import { fnmatch } from '../../src/playbook/fnmatch.js';
import { compareDebianVersions } from '../../src/modules/debian-version.js';
import { dpkgSelectionsModule } from '../../src/modules/dpkg-selections.js';
import { packageModule } from '../../src/modules/package.js';
import { parseInstalled } from '../../src/modules/package-facts.js';
import { addUnitFiles, servicesFromSysv, servicesFromUnits } from '../../src/modules/service-facts.js';
import { PKG_MGR_BINARIES, pkgMgrFrom } from '../../src/modules/setup.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { parsedArgs } from '../support/module-args.js';

describe('Debian version comparison (dpkg --compare-versions)', () => {
  // [a, b, sign of a - b], checked against `dpkg --compare-versions` on Debian 12
  const table: [string, string, number][] = [
    ['1.0', '1.0', 0],
    ['1.0', '1.1', -1],
    ['1.10', '1.9', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0', '1.0+b1', -1],
    ['1:0.9', '2.0', 1],
    ['2.0-1', '2.0-1ubuntu1', -1],
    ['1.0a', '1.0', 1],
    ['1.0-2', '1.0-10', -1],
    ['0.58+deb12u6', '0.58+deb12u7', -1],
    ['1.001', '1.1', 0],
  ];
  it.each(table)('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareDebianVersions(a, b)) + 0).toBe(sign + 0);
    expect(Math.sign(compareDebianVersions(b, a)) + 0).toBe(-sign + 0);
  });
});

describe('package specs', () => {
  it('splits as Ansible does', () => {
    expect(splitPackage('vp-hello')).toEqual({ name: 'vp-hello' });
    expect(splitPackage('vp-hello=1.0*')).toEqual({ name: 'vp-hello', op: '=', version: '1.0*' });
    expect(splitPackage('vp-hello>=1.1')).toEqual({ name: 'vp-hello', op: '>=', version: '1.1' });
  });
  it('matches version patterns like fnmatch', () => {
    expect(fnmatch('1.0-3', '1.0*')).toBe(true);
    expect(fnmatch('1.10', '1.1?')).toBe(true);
    expect(fnmatch('1.1', '1.[!1]')).toBe(false);
    expect(fnmatch('1.0+b1', '1.0')).toBe(false);
  });
});

const POLICY = `cache_before=100
update=1
cache_after=200
---policy---
vp-hello:
  Installed: 1.0
  Candidate: 1.1
  Version table:
     1.1 500
        500 http://198.18.0.1:4000 ./ Packages
 *** 1.0 500
        500 http://198.18.0.1:4000 ./ Packages
        100 /var/lib/dpkg/status
vp-base:
  Installed: 2.0
  Candidate: 2.0
  Version table:
 *** 2.0 500
        500 http://198.18.0.1:4000 ./ Packages
        100 /var/lib/dpkg/status
vp-conf:
  Installed: (none)
  Candidate: 1.0
  Version table:
     1.0 500
        500 http://198.18.0.1:4000 ./ Packages
---dpkg---
vp-hello\tii \t1.0
vp-base\tii \t2.0
vp-conf\trc \t1.0
---auto---
vp-base
`;

const NAMES = ['vp-hello', 'vp-base', 'vp-conf', 'vp-missing'];

describe('parseGather', () => {
  it('reads the cache times, policy, dpkg state and auto marks', () => {
    const f = parseGather(POLICY, NAMES);
    expect(f).toMatchObject({ cacheTimeBefore: 100, cacheTimeAfter: 200, updateRan: true });
    expect(f.packages['vp-hello']).toEqual<PackageFacts>({ state: 'i', installed: '1.0', candidate: '1.1', versions: ['1.1', '1.0'], auto: false, known: true });
    expect(f.packages['vp-base']).toMatchObject({ auto: true, installed: '2.0' });
    expect(f.packages['vp-conf']).toMatchObject({ state: 'c', candidate: '1.0' });
    expect(f.packages['vp-conf']!.installed).toBeUndefined();
    expect(f.packages['vp-missing']).toMatchObject({ known: false, state: 'n' });
  });
});

describe('planPackages: facts in, one apt-get call out', () => {
  const facts: AptFacts = parseGather(POLICY, NAMES);
  const args = (over: Partial<{ state: 'present' | 'latest' | 'absent'; purge: boolean; only_upgrade: boolean }> = {}) => ({
    state: 'present' as const,
    purge: false,
    only_upgrade: false,
    ...over,
  });
  it('installs only what is missing, all in one call, pinning the chosen version', () => {
    expect(planPackages(args(), ['vp-hello', 'vp-conf'], facts)).toEqual({ kind: 'install', specs: ['vp-conf=1.0'], names: [] });
  });
  it('latest upgrades; a satisfied floor does not', () => {
    expect(planPackages(args({ state: 'latest' }), ['vp-hello'], facts)).toEqual({ kind: 'install', specs: ['vp-hello=1.1'], names: [] });
    expect(planPackages(args(), ['vp-hello>=1.0'], facts)).toEqual({ kind: 'none' });
    expect(planPackages(args(), ['vp-hello>=1.1'], facts)).toEqual({ kind: 'install', specs: ['vp-hello=1.1'], names: [] });
    expect(planPackages(args(), ['vp-hello=1.1'], facts)).toEqual({ kind: 'install', specs: ['vp-hello=1.1'], names: [] });
  });
  it('marks a dependency manual when it is asked for by name (no change)', () => {
    expect(planPackages(args(), ['vp-base'], facts)).toEqual({ kind: 'install', specs: [], names: ['vp-base'] });
  });
  it("fails with Ansible's messages", () => {
    expect(planPackages(args(), ['vp-missing'], facts)).toMatchObject({ kind: 'fail', msg: "No package matching 'vp-missing' is available" });
    expect(planPackages(args(), ['vp-hello=9.9'], facts)).toMatchObject({ kind: 'fail', msg: 'no available installation candidate for vp-hello=9.9' });
  });
  it('removes installed packages; purge also takes leftover config files', () => {
    expect(planPackages(args({ state: 'absent' }), ['vp-hello', 'vp-conf', 'vp-missing'], facts)).toEqual({ kind: 'remove', specs: ['vp-hello'] });
    expect(planPackages(args({ state: 'absent', purge: true }), ['vp-conf'], facts)).toEqual({ kind: 'remove', specs: ['vp-conf'] });
  });
  it('says why nothing is to do, from the facts (shown at -v)', () => {
    expect(planPackages(args(), ['vp-hello>=1.0'], facts)).toEqual({ kind: 'none' });
    expect(aptNoopReason('present', ['vp-hello>=1.0'], facts)).toMatch(/^vp-hello is installed \(1\.0[^)]*\)$/);
    expect(aptNoopReason('absent', ['vp-missing'], facts)).toBe('vp-missing is not installed');
  });
});

describe('apt arguments', () => {
  it('builds the apt-get call with Ansible flags and the lock wait', () => {
    const a = parsedArgs(aptModule, { name: ['x'], install_recommends: 'no', allow_downgrade: true });
    expect(aptGetArgv(a, 'install', ['x=1'], true)).toEqual([
      'env', 'DEBIAN_FRONTEND=noninteractive', 'DEBIAN_PRIORITY=critical', 'LANG=C', 'LC_ALL=C', 'LC_MESSAGES=C', 'LC_CTYPE=C',
      'apt-get', '-y', '-o', 'DPkg::Lock::Timeout=60', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold',
      '--simulate', 'install', 'x=1', '-o', 'APT::Install-Recommends=no', '--allow-downgrades',
    ]);
  });
  it('takes Ansible aliases and refuses what Ansible refuses', () => {
    expect(parsedArgs(aptModule, { pkg: 'a,b', 'update-cache': 'yes' })).toMatchObject({ name: ['a', 'b'], update_cache: true, state: 'present' });
    const issues = (raw: Record<string, unknown>) => parseArgs(aptModule.spec!, raw, { owner: 'apt', rendered: true }).issues.map((i) => i.message).join('; ');
    expect(issues({ deb: '/tmp/x.deb', state: 'absent' })).toContain('deb only supports state=present');
    expect(issues({ name: 'x', deb: '/tmp/x.deb' })).toMatch(/deb.*name|name.*deb/);
    expect(issues({ state: 'present' })).toMatch(/autoremove|one of/);
    expect(issues({ name: 'vp-*' })).toContain('not supported');
    expect(issues({ name: 'x;rm' })).toContain('package name');
  });
});

describe('package', () => {
  it('passes other parameters through to the manager', () => {
    expect(parsedArgs(packageModule, { name: 'x', update_cache: true })).toMatchObject({ name: ['x'], state: 'present', use: 'auto', update_cache: true });
  });
  it("names the manager from the host's family and binaries as Ansible does", () => {
    // the binaries' paths by manager name (their paths as literals would read as programs this test starts)
    const bins = (...names: string[]) => PKG_MGR_BINARIES.filter((b) => names.includes(b.name)).map((b) => b.path);
    expect(pkgMgrFrom('Debian', bins('apt', 'dnf'))).toBe('apt');
    expect(pkgMgrFrom('RedHat', bins('yum', 'dnf'))).toBe('dnf');
    expect(pkgMgrFrom('Archlinux', bins('pacman'))).toBe('pacman');
    expect(pkgMgrFrom('', [])).toBe('unknown');
  });
});

describe('package_facts and service_facts parsing', () => {
  it("package_facts: installed packages only, Ansible's entry shape, foreign arch as name:arch", () => {
    const out = parseInstalled(
      ['ii \tvp-hello\tvp-hello\t1.0\tall\tmisc', 'rc \tvp-conf\tvp-conf\t1.0\tall\tmisc', 'ii \tlibc6:i386\tlibc6\t2.36\ti386\tlibs', 'iU \tvp-x\tvp-x\t2\tamd64\tmisc'].join('\n'),
      'amd64',
    );
    expect(out).toEqual({
      'vp-hello': [{ name: 'vp-hello', version: '1.0', arch: 'all', category: 'misc', source: 'apt' }],
      'libc6:i386': [{ name: 'libc6:i386', version: '2.36', arch: 'i386', category: 'libs', source: 'apt' }],
      'vp-x': [{ name: 'vp-x', version: '2', arch: 'amd64', category: 'misc', source: 'apt' }],
    });
  });
  it("service_facts: Ansible's reading of list-units (bad states, the leading dot) and list-unit-files", () => {
    const units = [
      '  UNIT                 LOAD      ACTIVE   SUB     DESCRIPTION',
      '  ssh.service          loaded    active   running OpenBSD Secure Shell server',
      '● vp-gone.service      not-found inactive dead    vp-gone.service',
      '  cron.service         loaded    inactive dead    Regular background program processing daemon',
    ].join('\n');
    const services = servicesFromUnits(units);
    expect(services['ssh.service']).toEqual({ name: 'ssh.service', state: 'running', status: 'active', source: 'systemd' });
    expect(services['vp-gone.service']).toEqual({ name: 'vp-gone.service', state: 'stopped', status: 'not-found', source: 'systemd' });
    const ask = addUnitFiles(services, 'UNIT FILE STATE VENDOR PRESET\nssh.service enabled enabled\nvp-gone.service disabled enabled\ngetty@.service enabled enabled\n');
    expect(services['ssh.service']!.status).toBe('enabled');
    expect(services['vp-gone.service']!.status).toBe('not-found');
    expect(ask).toEqual(['getty@.service']);
    expect(servicesFromSysv(' [ + ]  ssh\n [ - ]  procps\n')).toEqual({ ssh: { name: 'ssh', state: 'running', source: 'sysv' }, procps: { name: 'procps', state: 'stopped', source: 'sysv' } });
  });
});

describe('package hands over to the manager, or names it', () => {
  const ctx = (vars: Record<string, unknown>) =>
    ({ hostName: 'h', check: false, diff: false, vars, exec: () => Promise.reject(new Error('no host here')), log: () => undefined }) as unknown as Parameters<typeof packageModule.run>[1];
  it('another manager is an Ansible module vncplay does not implement', async () => {
    const ret = await packageModule.run(parsedArgs(packageModule, { name: 'httpd' }), ctx({ ansible_facts: { pkg_mgr: 'zypper' } }));
    expect(ret).toMatchObject({ failed: true });
    expect(ret.msg).toContain('`zypper` is an Ansible module vncplay does not implement yet');
    const used = await packageModule.run(parsedArgs(packageModule, { name: 'httpd', use: 'yum' }), ctx({ ansible_pkg_mgr: 'apt' }));
    expect(used.msg).toContain('`yum`');
  });
  it("dnf's own parameters are checked when dnf gets them (ansible_pkg_mgr dnf, or use: dnf)", async () => {
    const ret = await packageModule.run(parsedArgs(packageModule, { name: 'httpd', install_weak_deps: 'maybe' }), ctx({ ansible_pkg_mgr: 'dnf' }));
    expect(ret).toMatchObject({ failed: true });
    expect(ret.msg).toMatch(/^package \(via dnf\).*install_weak_deps/);
    const used = await packageModule.run(parsedArgs(packageModule, { name: 'httpd', use: 'dnf', cache_valid_time: 60 }), ctx({ ansible_pkg_mgr: 'apt' }));
    expect(used.msg).toMatch(/cache_valid_time/);
  });
  it("apt's own parameters are checked when apt gets them", async () => {
    const ret = await packageModule.run(parsedArgs(packageModule, { name: 'x', update_cache: 'maybe' }), ctx({ ansible_pkg_mgr: 'apt' }));
    expect(ret).toMatchObject({ failed: true });
    expect(ret.msg).toMatch(/^package \(via apt\): .*update_cache/);
  });
});

describe('dpkg_selections', () => {
  it('changes only when the selection differs, and reports before/after as Ansible', () => {
    const args = parsedArgs(dpkgSelectionsModule, { name: 'vp-hello', selection: 'hold' });
    expect(dpkgSelectionsModule.plan(args, { current: 'hold' })).toEqual([]);
    const [change] = dpkgSelectionsModule.plan(args, { current: 'install' });
    expect(change!.steps).toEqual([{ kind: 'exec', argv: ['dpkg', '--set-selections'], stdin: 'vp-hello hold' }]);
    expect(dpkgSelectionsModule.report!(args, { current: 'not present' })).toEqual({ before: 'not present', after: 'hold' });
  });
});
