import { describe, expect, it } from 'vitest';
import { installedAndMissing, npmArgv, npmModule } from '../../src/modules/npm.js';
import { canonicalName, isPresent, parseRequirement, pipModule, satisfies, shellWords } from '../../src/modules/pip.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { parsedArgs } from '../support/module-args.js';

const problems = (mod: typeof npmModule | typeof pipModule, raw: Record<string, unknown>): string =>
  parseArgs(mod.spec, raw, { owner: mod.name, rendered: true }).issues.map((i) => i.message).join('; ');

describe('npm', () => {
  it("builds Ansible's command lines", () => {
    const args = parsedArgs(npmModule, { name: 'vp-left', version: '1.0.0', path: '/srv/app', production: true, registry: 'http://r', no_bin_links: true });
    expect(npmArgv(args, ['install'], true)).toEqual(['npm', 'install', '--production', 'vp-left@1.0.0', '--registry', 'http://r', '--no-bin-links']);
    expect(npmArgv(args, ['list', '--json', '--long'], false)).toEqual(['npm', 'list', '--json', '--long', '--registry', 'http://r', '--no-bin-links']);
    expect(npmArgv(parsedArgs(npmModule, { name: 'x', global: true, executable: '/opt/node/bin/npm --prefix /opt' }), ['uninstall'], true)).toEqual([
      '/opt/node/bin/npm', '--prefix', '/opt', 'uninstall', '--global', 'x',
    ]);
  });
  it("reads npm list as Ansible's list() does", () => {
    const listing = JSON.stringify({ dependencies: { 'vp-left': { version: '1.0.0' }, 'vp-gone': { missing: true } } });
    expect(installedAndMissing(listing, 'vp-left@1.0.0', 'vp-left')).toEqual({ installed: ['vp-left', 'vp-left@1.0.0'], missing: ['vp-gone'] });
    expect(installedAndMissing(listing, 'vp-left@2.0.0', 'vp-left').missing).toEqual(['vp-gone', 'vp-left']);
    expect(installedAndMissing('{}', undefined, undefined).missing).toEqual(['']);
  });
  it('refuses what Ansible refuses', () => {
    expect(problems(npmModule, { name: 'x' })).toBe('path must be specified when not using global');
    expect(problems(npmModule, { path: '/srv/app', state: 'absent' })).toBe('uninstalling a package is only available for named packages');
  });
});

describe('pip', () => {
  it('splits extra_args as shlex does', () => {
    expect(shellWords(`--no-index --find-links '/srv/my wheels' -c "a b"`)).toEqual(['--no-index', '--find-links', '/srv/my wheels', '-c', 'a b']);
  });
  it('reads requirements and checks them against pip list', () => {
    expect(parseRequirement('VP_Left >= 1.0, <2')).toEqual({ name: 'vp-left', specs: [['>=', '1.0'], ['<', '2']] });
    expect(parseRequirement('vp-left', '1.0.0')).toEqual({ name: 'vp-left', specs: [['==', '1.0.0']] });
    expect(parseRequirement('git+https://h/x.git')).toBeUndefined();
    expect(canonicalName('Vp.Left_x')).toBe('vp-left-x');
    expect(satisfies(parseRequirement('x~=1.4')!, '1.4.5')).toBe(true);
    expect(satisfies(parseRequirement('x==1.*')!, '1.10')).toBe(true);
    expect(satisfies(parseRequirement('x>1.9')!, '1.10')).toBe(true);
    expect(isPresent(parseRequirement('vp-left>=1.0'), ['pip==23.0.1', 'vp-left==1.0.0'])).toBe(true);
    expect(isPresent(parseRequirement('vp-left==1.1.0'), ['vp-left==1.0.0'])).toBe(false);
  });
  it('refuses what Ansible refuses', () => {
    expect(problems(pipModule, { name: 'x', version: '1', state: 'latest' })).toBe('version is incompatible with state=latest');
    expect(problems(pipModule, { name: ['x', 'y'], version: '1' })).toContain("'version' argument is ambiguous");
    expect(problems(pipModule, { name: 'x', requirements: 'r.txt' })).toMatch(/name.*requirements/);
    expect(problems(pipModule, { name: 'x', virtualenv_command: 'python3 -m venv', virtualenv_python: 'python3.11' })).toContain('virtualenv_python should not be used');
  });
});
