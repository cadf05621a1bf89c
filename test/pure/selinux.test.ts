import { describe, expect, it } from 'vitest';
import { sebooleanModule } from '../../src/modules/seboolean.js';
import { configValue, planSelinux, selinuxModule, setConfigValue, type SelinuxFacts } from '../../src/modules/selinux.js';
import { portsOfType, seportModule } from '../../src/modules/seport.js';
import { parseArgs } from '../../src/modules/spec/parse.js';
import { parsedArgs } from '../support/module-args.js';

const CONFIG = '# SELinux\nSELINUX=enforcing\nSELINUXTYPE=targeted\n';
const noSelinux: SelinuxFacts = { enabled: false, enforcing: false, runtimePolicy: 'targeted', policyExists: false, config: CONFIG };
const plan = (raw: Record<string, unknown>, facts: SelinuxFacts = noSelinux, check = false) => planSelinux(parsedArgs(selinuxModule, raw), facts, check);

describe('selinux: Ansible main() as a plan', () => {
  it('reads and rewrites the configuration as set_config_state does', () => {
    expect(configValue(CONFIG, 'SELINUX')).toBe('enforcing');
    expect(configValue(CONFIG, 'SELINUXTYPE')).toBe('targeted');
    expect(setConfigValue(CONFIG, 'SELINUX', 'disabled')).toBe('# SELinux\nSELINUX=disabled\nSELINUXTYPE=targeted\n');
    expect(setConfigValue('# none', 'SELINUX', 'permissive')).toBe('# none\nSELINUX=permissive\n');
  });
  it('on a host without SELinux: only the file changes, a reboot is required for enforcing/permissive', () => {
    const disabled = plan({ state: 'disabled' });
    expect(disabled).toMatchObject({ changed: true, msgs: ["Config SELinux state changed from 'enforcing' to 'disabled'"], rebootRequired: false, policy: 'targeted' });
    expect(disabled.newConfig).toBe('# SELinux\nSELINUX=disabled\nSELINUXTYPE=targeted\n');
    const permissive = plan({ state: 'permissive', policy: 'targeted' });
    expect(permissive).toMatchObject({ changed: true, rebootRequired: true, warnings: ["Reboot is required to set SELinux state to 'permissive'"] });
    expect(permissive.setenforce).toBeUndefined();
    expect(plan({ state: 'enforcing', policy: 'targeted' })).toMatchObject({ changed: false, msgs: [], rebootRequired: true });
  });
  it("fails as Ansible does: no file, no policy, a policy that is not installed", () => {
    expect(plan({ state: 'disabled' }, { ...noSelinux, config: undefined }).failure).toBe('Unable to find file /etc/selinux/config');
    expect(plan({ state: 'enforcing' }).failure).toBe("Policy is required if state is not 'disabled'");
    expect(plan({ state: 'disabled', policy: 'mls' }).failure).toBe('Policy mls does not exist in /etc/selinux/');
    expect(plan({ state: 'disabled', policy: 'mls' }, noSelinux, true)).toMatchObject({ changed: true, earlyExit: true });
  });
  it('where SELinux runs: setenforce for the running mode', () => {
    const enforcing: SelinuxFacts = { ...noSelinux, enabled: true, enforcing: true };
    expect(plan({ state: 'permissive', policy: 'targeted' }, enforcing)).toMatchObject({ setenforce: 'permissive', changed: true });
    expect(plan({ state: 'disabled' }, enforcing)).toMatchObject({ setenforce: 'permissive', rebootRequired: true });
  });
  it('takes conf and file as aliases of configfile', () => {
    expect(parsedArgs(selinuxModule, { state: 'disabled', conf: '/tmp/c' }).configfile).toBe('/tmp/c');
    expect(parseArgs(selinuxModule.spec, { state: 'off' }, { owner: 'selinux', rendered: true }).issues).toHaveLength(1);
  });
});

describe('seboolean and seport arguments', () => {
  it("follow Ansible's specs", () => {
    expect(parsedArgs(sebooleanModule, { name: 'httpd_can_network_connect', state: 'yes' })).toEqual({
      name: 'httpd_can_network_connect', state: true, persistent: false, ignore_selinux_state: false,
    });
    expect(parsedArgs(seportModule, { ports: '8080,8081', proto: 'tcp', setype: 'http_port_t' })).toMatchObject({ ports: ['8080', '8081'], state: 'present', reload: true });
    expect(parseArgs(seportModule.spec, { ports: 1, setype: 'x' }, { owner: 'seport', rendered: true }).issues.map((i) => i.code)).toContain('E_MISSING_PARAM');
  });
  it("reads semanage port's listing", () => {
    const listing = ['http_port_t                    tcp      8080, 80, 81, 443', 'http_port_t                    udp      80', 'ssh_port_t tcp 22'];
    expect([...portsOfType(listing, 'http_port_t', 'tcp')]).toEqual(['8080', '80', '81', '443']);
  });
});
