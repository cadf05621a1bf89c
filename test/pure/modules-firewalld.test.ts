import { describe, expect, it } from 'vitest';
import {
  firewalldFactsFromGather,
  firewalldMessage,
  firewalldModule,
  planFirewalld,
  type FirewalldFacts,
} from '../../src/modules/firewall/ansible-firewalld.js';
import type { Change } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

// ansible.posix.firewalld: facts in, firewall-cmd argv and Ansible's messages out (the fleet parity test runs both
// tools on a real firewalld).
const args = (raw: Record<string, unknown>): ReturnType<typeof parsedArgs<typeof firewalldModule>> => parsedArgs(firewalldModule, raw);
const facts = (over: Partial<FirewalldFacts> = {}): FirewalldFacts => ({ running: true, zone: 'public', zones: ['public', 'trusted'], ...over });
const argvs = (changes: Change[]): string[][] => changes.flatMap((c) => c.steps.map((s) => (s.kind === 'exec' ? s.argv : [])));

describe('firewalld plan', () => {
  it('no permanent and no immediate: runtime only, with the timeout', () => {
    const a = args({ service: 'http', state: 'enabled', timeout: 60 });
    expect(argvs(planFirewalld(a, facts({ runtime: false })))).toEqual([['firewall-cmd', '--zone=public', '--add-service=http', '--timeout=60']]);
    expect(planFirewalld(a, facts({ runtime: true }))).toEqual([]);
    expect(firewalldMessage(a, facts(), true)).toBe('Non-permanent operation, Changed service http to enabled');
  });

  it('permanent and immediate: permanent first, each only where it differs', () => {
    const a = args({ port: '8443/tcp', permanent: true, immediate: true, state: 'disabled', zone: 'trusted' });
    expect(argvs(planFirewalld(a, facts({ zone: 'trusted', runtime: true, permanent: true })))).toEqual([
      ['firewall-cmd', '--permanent', '--zone=trusted', '--remove-port=8443/tcp'],
      ['firewall-cmd', '--zone=trusted', '--remove-port=8443/tcp'],
    ]);
    expect(argvs(planFirewalld(a, facts({ zone: 'trusted', runtime: false, permanent: true })))).toHaveLength(1);
    expect(firewalldMessage(a, facts(), false)).toBe('Permanent and Non-Permanent(immediate) operation');
  });

  it('an interface moves with change-interface; source and interface have their own messages', () => {
    const i = args({ interface: 'vp0', zone: 'internal', permanent: true, state: 'enabled' });
    expect(argvs(planFirewalld(i, facts({ zone: 'internal', permanent: false })))).toEqual([['firewall-cmd', '--permanent', '--zone=internal', '--change-interface=vp0']]);
    expect(firewalldMessage(i, facts({ zone: 'internal' }), true)).toBe('Permanent operation, Changed vp0 to zone internal');
    const s = args({ source: '198.51.100.0/24', permanent: true, state: 'disabled' });
    expect(firewalldMessage(s, facts(), true)).toBe('Permanent operation, Removed 198.51.100.0/24 from zone public');
  });

  it('a zone is added or removed permanently only', () => {
    const add = args({ zone: 'vpzone', permanent: true, state: 'present' });
    expect(argvs(planFirewalld(add, facts({ zone: 'vpzone' })))).toEqual([['firewall-cmd', '--permanent', '--new-zone=vpzone']]);
    expect(planFirewalld(add, facts({ zone: 'vpzone', zones: ['vpzone'] }))).toEqual([]);
    expect(firewalldMessage(add, facts({ zone: 'vpzone' }), true)).toBe('Permanent operation, Added zone vpzone, Changed zone vpzone to present');
    expect(() => planFirewalld(args({ zone: 'vpzone', state: 'absent' }), facts({ zone: 'vpzone' }))).toThrow(/Zone operations must be permanent/);
  });

  it('offline: firewall-offline-cmd for the permanent configuration; immediate refused', () => {
    const a = args({ service: 'http', permanent: true, state: 'enabled' });
    const off = facts({ running: false, permanent: false });
    expect(argvs(planFirewalld(a, off))).toEqual([['firewall-offline-cmd', '--zone=public', '--add-service=http']]);
    expect(firewalldMessage(a, off, true)).toBe('Permanent operation, Changed service http to enabled, (offline operation: only on-disk configs were altered)');
    const removal = args({ service: 'http', permanent: true, state: 'disabled' });
    expect(argvs(planFirewalld(removal, facts({ running: false, permanent: true })))).toEqual([['firewall-offline-cmd', '--zone=public', '--remove-service-from-zone=http']]);
    expect(() => planFirewalld(args({ service: 'http', state: 'enabled' }), off)).toThrow(/firewall is not currently running/);
  });

  it('gather sections → facts; a refused query is an error', () => {
    const out = '@@running\n@@zone public\n@@zones block public trusted\n@@runtime 1\nno\n@@permanent 0\nyes\n';
    expect(firewalldFactsFromGather(out, { kind: 'service', value: 'http' })).toEqual({ running: true, zone: 'public', zones: ['block', 'public', 'trusted'], runtime: false, permanent: true });
    expect(() => firewalldFactsFromGather('@@zone public\n@@zones public\n@@permanent 101\nError: INVALID_SERVICE: nosuch\n', { kind: 'service', value: 'nosuch' })).toThrow(/INVALID_SERVICE/);
  });
});

describe('firewalld arguments (Ansible rules, found at load time)', () => {
  it.each([
    [{ port: '8080', state: 'enabled' }, /improper port format \(missing protocol\?\)/],
    [{ service: 'http', state: 'present' }, /absent and present state can only be used in zone level operations/],
    [{ service: 'http', port: '80/tcp', state: 'enabled' }, /mutually exclusive/],
    [{ interface: 'eth0', state: 'enabled' }, /zone/],
    [{ source: '10.0.0.0/8', state: 'enabled' }, /permanent/],
    [{ service: 'http', state: 'on' }, /state/],
    [{ service: 'http' }, /state/],
  ])('%j is refused', (raw, want) => {
    expect(checkArgs(firewalldModule, raw)).toMatch(want);
  });
  it('answers as ansible.posix.firewalld', async () => {
    const { findModule } = await import('../../src/modules/registry.js');
    expect(findModule('ansible.posix.firewalld')).toBe(firewalldModule);
  });
});
