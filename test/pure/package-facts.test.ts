import { describe, expect, it } from 'vitest';
import { autoManagers, packageFactsModule, parseRpmInstalled, requestedManagers } from '../../src/modules/package-facts.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

describe('package_facts: which managers, and the rpm entries', () => {
  it('auto puts the managers whose Python library Ansible imports first, then those with only the program', () => {
    // The fleet hosts: python3-rpm installed, python3-apt not: Ansible reads rpm, and so does vncplay.
    expect(autoManagers('apt bin\nrpm lib\n')).toEqual(['rpm', 'apt']);
    expect(autoManagers('apt lib\nrpm lib\n')).toEqual(['apt', 'rpm']);
    expect(autoManagers('apt bin\n')).toEqual(['apt']);
    expect(autoManagers('')).toEqual([]);
  });

  it('expands auto in place and asks each manager once', () => {
    expect(requestedManagers(['rpm', 'auto'], ['apt', 'rpm'])).toEqual(['rpm', 'apt']);
    expect(requestedManagers(['APT'], [])).toEqual(['apt']);
  });

  it("reads rpm's query lines as python3-rpm's fields (None for an unset tag)", () => {
    expect(parseRpmInstalled('vp-hello\t1.0\t1\t(none)\tnoarch\ngpg-pubkey\t4de77c56\t6b16d928\t(none)\t(none)\nvp-hello\t1.1\t1\t2\tx86_64\n')).toEqual({
      'vp-hello': [
        { name: 'vp-hello', version: '1.0', release: '1', epoch: null, arch: 'noarch', source: 'rpm' },
        { name: 'vp-hello', version: '1.1', release: '1', epoch: 2, arch: 'x86_64', source: 'rpm' },
      ],
      'gpg-pubkey': [{ name: 'gpg-pubkey', version: '4de77c56', release: '6b16d928', epoch: null, arch: null, source: 'rpm' }],
    });
  });

  it('refuses a manager it cannot read', () => {
    expect(checkArgs(packageFactsModule, { manager: ['pacman'] })).toContain('Unsupported package managers requested: pacman');
  });
});
