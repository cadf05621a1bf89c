import { describe, expect, it } from 'vitest';
import {
  compareEvr,
  dnfArgv,
  dnfError,
  gpgFailure,
  dnfModule,
  installedMatching,
  newerVersionInstalled,
  parseInstalled,
  parseTransaction,
  parseVersionedSpec,
  planDnf,
  rpmVersionCompare,
  transactionResults,
  unmatchedSpecs,
  type InstalledRpm,
} from '../../src/modules/dnf.js';
import { isKeyId, normalizeKeyId, readPublicKeys, rpmKeyModule } from '../../src/modules/rpm-key.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { yumModule } from '../../src/modules/yum.js';
import { parsedArgs } from '../support/module-args.js';

const rpm = (name: string, version: string, release = '1', epoch = '0', arch = 'noarch'): InstalledRpm => ({ name, arch, epoch, version, release });

describe('rpm version comparison (rpmvercmp)', () => {
  // [a, b, rpm.vercmp(a, b)] as rpm 4.18's own Lua binding answers on Debian 12
  const table: [string, string, number][] = [
    ['1.0', '1.1', -1],
    ['1.10', '1.9', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0^git1', '1.0', 1],
    ['1.0a', '1.0', 1],
    ['1.a', '1.1', -1],
    ['2.0.1', '2.0', 1],
    ['005', '5', 0],
    ['1.0', '1_0', 0],
    ['a', 'b', -1],
  ];
  it.each(table)('%s vs %s', (a, b, sign) => {
    expect(rpmVersionCompare(a, b)).toBe(sign);
    expect(rpmVersionCompare(b, a)).toBe(-sign + 0);
  });
  it('compares the epoch first, then version, then release', () => {
    expect(compareEvr(rpm('x', '1.0', '1', '1'), rpm('x', '9.0'))).toBe(1);
    expect(compareEvr(rpm('x', '1.0', '2'), rpm('x', '1.0', '10'))).toBe(-1);
  });
});

describe('dnf specs', () => {
  const installed = [rpm('vp-hello', '1.0'), rpm('vp-base', '2.0', '1', '1', 'x86_64')];
  it('matches the installed packages by the forms dnf reads', () => {
    for (const spec of ['vp-hello', 'vp-hello.noarch', 'vp-hello-1.0', 'vp-hello-1.0-1', 'vp-hello-1.0-1.noarch', 'vp-hello-0:1.0-1', 'vp-he*']) {
      expect(installedMatching(spec, installed).map((p) => p.name), spec).toEqual(['vp-hello']);
    }
    expect(installedMatching('vp-base-1:2.0-1.x86_64', installed)).toHaveLength(1);
    for (const spec of ['vp-hello-1.1', 'vp-hello.x86_64', 'vp-hell', 'vp-base-2.0-1.noarch']) expect(installedMatching(spec, installed), spec).toEqual([]);
  });
  it("reads name-[epoch:]version-release[.arch] as Ansible's _packagename_dict", () => {
    expect(parseVersionedSpec('vp-hello-1.0-1.noarch')).toEqual({ name: 'vp-hello', epoch: '0', version: '1.0', release: '1' });
    expect(parseVersionedSpec('vp-base-1:2.0-1')).toEqual({ name: 'vp-base', epoch: '1', version: '2.0', release: '1' });
    expect(parseVersionedSpec('vp-hello')).toBeUndefined();
    expect(parseVersionedSpec('vp-hello-1.0')).toBeUndefined();
    expect(newerVersionInstalled('vp-hello-0.9-1', installed)).toBe(true);
    expect(newerVersionInstalled('vp-hello-1.1-1', installed)).toBe(false);
  });
});

describe('planDnf: the dnf calls of a task, from the rpm database', () => {
  const installed = [rpm('vp-hello', '1.0'), rpm('vp-base', '2.0')];
  const plan = (raw: Record<string, unknown>) => planDnf(parsedArgs(dnfModule, raw), installed);
  it('installs only what is missing (present/installed), nothing when everything is there', () => {
    expect(plan({ name: ['vp-hello', 'vp-dep', 'vp-hello-1.1'] }).calls).toEqual([{ command: 'install', specs: ['vp-dep', 'vp-hello-1.1'] }]);
    expect(plan({ name: ['vp-hello', 'vp-base'], state: 'installed' }).calls).toEqual([]);
  });
  it('latest installs the missing and upgrades the installed in one task; * upgrades everything', () => {
    expect(plan({ name: 'vp-hello,vp-dep', state: 'latest' }).calls).toEqual([
      { command: 'install', specs: ['vp-dep'] },
      { command: 'upgrade', specs: ['vp-hello'] },
    ]);
    expect(plan({ name: '*', state: 'latest' }).calls).toEqual([{ command: 'upgrade', specs: [] }]);
    expect(plan({ name: ['vp-hello', 'vp-dep'], state: 'latest', update_only: true })).toEqual({
      calls: [{ command: 'upgrade', specs: ['vp-hello'] }],
      notes: ['Packages providing vp-dep not installed due to update_only specified'],
    });
  });
  it('removes only what is installed; autoremove alone means state absent', () => {
    expect(plan({ name: ['vp-hello', 'vp-dep'], state: 'removed' }).calls).toEqual([{ command: 'remove', specs: ['vp-hello'] }]);
    expect(plan({ name: ['vp-dep'], state: 'absent' }).calls).toEqual([]);
    expect(parsedArgs(dnfModule, { autoremove: true, name: [] }).state).toBeUndefined();
    expect(plan({ autoremove: true, name: [] }).calls).toEqual([{ command: 'autoremove', specs: [] }]);
  });
  it('leaves a lower version alone unless allow_downgrade; hands files, URLs and groups to dnf', () => {
    expect(plan({ name: ['vp-hello-0.9-1'] }).calls).toEqual([]);
    expect(plan({ name: ['vp-hello-0.9-1'], allow_downgrade: true }).calls).toEqual([{ command: 'install', specs: ['vp-hello-0.9-1'] }]);
    expect(plan({ name: ['/tmp/x.rpm', 'http://h/y.rpm', '@core'] }).calls[0]!.specs).toEqual(['/tmp/x.rpm', 'http://h/y.rpm', '@core']);
  });
});

// dnf 4.14's table, as Debian 12's dnf printed it for these test packages (the long name wrapped by hand as dnf
// does when a name is wider than the terminal).
const TABLE = `Dependencies resolved.
================================================================================
 Package             Architecture       Version            Repository      Size
================================================================================
Installing:
 vp-dep              noarch             1.0-1              vp             6.0 k
 vp-a-package-name-so-long-that-dnf-puts-it-on-a-line-of-its-own-in-the-table-x
                     noarch             1:2.0-3            vp             612
Upgrading:
 vp-hello            noarch             1.1-1              vp             6.0 k
Installing dependencies:
 vp-base             noarch             2.0-1              vp             6.0 k
Removing dependent packages:
 vp-old              noarch             0.1-1              @vp              4
     replacing  vp-obsolete.noarch 0.5-1

Transaction Summary
================================================================================
Install  3 Packages
Upgrade  1 Package
`;

describe("dnf's transaction table", () => {
  it('reads every row, wrapped or not, with its side of the transaction', () => {
    expect(parseTransaction(TABLE)).toEqual([
      { action: 'install', name: 'vp-dep', arch: 'noarch', evr: '1.0-1' },
      { action: 'install', name: 'vp-a-package-name-so-long-that-dnf-puts-it-on-a-line-of-its-own-in-the-table-x', arch: 'noarch', evr: '1:2.0-3' },
      { action: 'upgrade', name: 'vp-hello', arch: 'noarch', evr: '1.1-1' },
      { action: 'install', name: 'vp-base', arch: 'noarch', evr: '2.0-1' },
      { action: 'remove', name: 'vp-old', arch: 'noarch', evr: '0.1-1' },
      { action: 'remove', name: 'vp-obsolete', arch: 'noarch', evr: '0.5-1' },
    ]);
    expect(parseTransaction('Dependencies resolved.\nNothing to do.\nComplete!\n')).toEqual([]);
  });
  it("gives Ansible's results: installed, then removed (an upgraded package's old version too)", () => {
    const rows = parseTransaction(TABLE).slice(2, 5);
    expect(transactionResults(rows, [rpm('vp-hello', '1.0')], false)).toEqual([
      'Installed: vp-hello-1.1-1.noarch',
      'Installed: vp-base-2.0-1.noarch',
      'Removed: vp-hello-1.0-1.noarch',
      'Removed: vp-old-0.1-1.noarch',
    ]);
    expect(transactionResults(rows.slice(0, 1), [rpm('vp-hello', '1.0')], true)).toEqual(['Downloaded: vp-hello-1.1-1.noarch']);
  });
  it("words dnf's failures as Ansible's dnf does", () => {
    expect(gpgFailure('Downloading Packages:\nPackage vp-unsigned-1.0-1.noarch.rpm is not signed\n')).toBe(
      'Failed to validate GPG signature for vp-unsigned-1.0-1.noarch: Package vp-unsigned-1.0-1.noarch.rpm is not signed',
    );
    expect(gpgFailure('Complete!')).toBeUndefined();
    const depsolve = 'Unable to detect release version (use --releasever)\nError: \n Problem: conflicting requests\n  - nothing provides vp-x needed by vp-y-1.0-1.noarch\n(try to add --skip-broken)\n';
    expect(dnfError(depsolve)).toBe('Problem: conflicting requests\n  - nothing provides vp-x needed by vp-y-1.0-1.noarch');
    expect(dnfError('Unable to detect release version (use --releasever)\nCurl error (7): Failed to connect\n')).toBe('Curl error (7): Failed to connect');
  });
  it('finds the names dnf does not know', () => {
    expect(unmatchedSpecs('Last metadata expiration check: 0:00:25 ago.\nNo match for argument: nosuch\nError: Unable to find a match: nosuch\n')).toEqual(['nosuch']);
  });
  it('reads the rpm database listing, without imported keys', () => {
    expect(parseInstalled('vp-hello\tnoarch\t0\t1.0\t1\ngpg-pubkey\t(none)\t0\t4de77c56\t6b16d928\n')).toEqual([rpm('vp-hello', '1.0')]);
  });
});

describe('dnf command lines and arguments', () => {
  it("passes the task's options as Ansible's dnf sets them", () => {
    const args = parsedArgs(dnfModule, {
      name: 'vp-hello', disablerepo: '*', enablerepo: 'vp', disable_gpg_check: true, install_weak_deps: false,
      installroot: '/srv/root', conf_file: '/etc/vp.conf', exclude: ['vp-dep'], releasever: '9',
    });
    expect(dnfArgv(args, { command: 'install', specs: ['vp-hello'] }, { check: true, refresh: true })).toEqual([
      'env', 'LANG=C', 'LC_ALL=C', 'LC_MESSAGES=C', 'dnf', '--assumeno', '--config=/etc/vp.conf', '--installroot=/srv/root', '--releasever=9',
      '--disablerepo=*', '--enablerepo=vp', '--exclude=vp-dep', '--nogpgcheck', '--setopt=clean_requirements_on_remove=False', '--setopt=install_weak_deps=False', '--refresh',
      'install', '--', 'vp-hello',
    ]);
  });
  it("refuses what Ansible's spec refuses, under dnf, yum and their aliases", () => {
    const problems = (mod: typeof dnfModule | typeof yumModule, raw: Record<string, unknown>) =>
      parseArgs(mod.spec, raw, { owner: mod.name, rendered: true }).issues.map((i) => i.message).join('; ');
    expect(problems(dnfModule, { state: 'present' })).toMatch(/name|list|update_cache/);
    expect(problems(dnfModule, { name: 'x', state: 'purged' })).toMatch(/`absent`, `installed`, `latest`, `present`, `removed`/);
    expect(problems(dnfModule, { pkg: 'x', 'expire-cache': 'yes' })).toBe('');
    expect(problems(yumModule, { name: 'x', use_backend: 'yum5' })).toMatch(/`auto`, `yum`, `yum4`, `dnf`/);
    expect(problems(yumModule, { name: 'x', use: 'dnf' })).toBe('');
  });
});

const KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mQENBGsW2SgBCACpbYsWYrlJGiYCfqdVxh1K4dLK9gsOqsWiwYuLY79+nFoTGuyc
AlkcEPIORpMyFbZXPhKKsx74sckiMMv9MNfhPABbkT6PcgIRtU+PKj4VgeDwXsHE
7/tCeUGhWZYTN+OSz43CkVvk9iQDClexde0S3HEzx0HWNs0+jvsYCjiHenz4XO86
YR+zrgxKJEhBWwdE8oux+qzYpBcLeMJCOXG3NeLnsA8EUpZYJlA2EI4lxobwsM41
dha8aBX4NvO/X9OViK8PoqiFkO8ycTUx9RQ69SUiSKCR/Q873gNXCF+Kiay31a29
W+5XotodXkpH+9gu0NS9w08Kh8Iti8RB0TMjABEBAAG0JXZuY3BsYXkgdGVzdHMg
PHRlc3RzQHZuY3BsYXkuaW52YWxpZD6JAU4EEwEKADgWIQQ7bzq3uYXM3DAHp00y
t54VTed8VgUCaxbZKAIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRAyt54V
Ted8VuFuB/47tx1IGFPROp9pWf5kAswfbFDa1Ai4EmuHNXdVOubLDWUUfSHHpzrN
2RInF2N5dhFrOIEDE1VcnduLWAJCa5T2Zcg2IcUTuB+2ELet9qPOijCzozaN5uEz
ikrWOR6UUdMSS7s8A2mVP7MiwSlHMe51idcPILw9oRmoig+XJS8Rb9U7vkUBL4oU
4qcUm2bHNMORbqLUaxpkyB78a9+PvilqEEbJH3TXufzONe5ZQ63A8tiKcncenGE3
bs+6DEKkyE1MLBN3yaEnxNK5fqvhys4lAADcbvljf+CJSkdrf3YbTm0w4IV8IPgb
Yk+B4dqg6lUGzt93682WtkxQ0da1Ds8Y
=VVES
-----END PGP PUBLIC KEY BLOCK-----`;

describe('rpm_key without gpg', () => {
  it("reads an armored key's fingerprint and id as gpg does", () => {
    // gpg --with-colons --fingerprint: fpr:::::::::3B6F3AB7B985CCDC3007A74D32B79E154DE77C56:
    expect(readPublicKeys(`text before\n${KEY}\n`)).toEqual([{ fingerprint: '3B6F3AB7B985CCDC3007A74D32B79E154DE77C56', keyId: '32B79E154DE77C56' }]);
    expect(readPublicKeys('not a key')).toEqual([]);
  });
  it("tells key ids from paths as Ansible's is_keyid does", () => {
    expect(isKeyId('0x4DE77C56')).toBe(true);
    expect(isKeyId('4de77c56')).toBe(true);
    expect(isKeyId('/etc/pki/key.asc')).toBe(false);
    expect(normalizeKeyId(' 0x4de77c56 ')).toBe('4DE77C56');
    expect(parsedArgs(rpmKeyModule, { key: 'x' }).state).toBe('present');
  });
});
