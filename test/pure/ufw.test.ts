import { describe, expect, it } from 'vitest';
import { ufwModule } from '../../src/modules/ufw.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

// community.general.ufw's own argument checks (its required_one_of, mutually_exclusive, required_by in vncplay's words;
// the direction rules of its main() word for word).
describe('ufw arguments', () => {
  it('refuses what community.general.ufw refuses', () => {
    expect(checkArgs(ufwModule, { direction: 'in' })).toContain('one of `state`, `default`, `rule`, `logging` is required');
    expect(checkArgs(ufwModule, { rule: 'allow', name: 'OpenSSH', proto: 'tcp' })).toContain('`name`, `proto`, `logging` are mutually exclusive');
    expect(checkArgs(ufwModule, { state: 'enabled', interface_in: 'eth0' })).toContain('`interface_in` needs `rule`');
    expect(checkArgs(ufwModule, { default: 'deny', direction: 'in' })).toContain('For default, direction must be one of "outgoing", "incoming" and "routed"');
    expect(checkArgs(ufwModule, { rule: 'allow', direction: 'routed' })).toContain('For rules, direction must be one of "in" and "out"');
    expect(checkArgs(ufwModule, { rule: 'allow', interface_in: 'eth0', interface_out: 'eth1' })).toContain('Only route rules can combine interface_in and interface_out');
  });

  it('takes its aliases and defaults', () => {
    expect(checkArgs(ufwModule, { rule: 'allow', src: '10.0.0.1', port: '5901', protocol: 'tcp', if: 'eth0' })).toBeUndefined();
    expect(checkArgs(ufwModule, { policy: 'reject', direction: 'routed' })).toBeUndefined();
    expect(checkArgs(ufwModule, { rule: 'allow', route: true, interface_in: 'eth0', interface_out: 'eth1' })).toBeUndefined();
  });
});
