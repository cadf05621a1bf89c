import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FACTS_SCRIPT, parseFacts } from '../../src/modules/setup.js';

describe('setup facts', () => {
  it('maps os-release, uname and ip output to Ansible fact names', () => {
    const facts = parseFacts(
      [
        'hostname=vnc-01.example.com',
        'fqdn=vnc-01.example.com',
        'system=Linux',
        'kernel=6.1.0-18-amd64',
        'machine=x86_64',
        'os_id=ubuntu',
        'os_like=debian',
        'os_version=22.04',
        'os_codename=jammy',
        'vcpus=4',
        'memtotal_kb=8048576',
        'user_id=root',
        'service_mgr=systemd',
        'default_gateway=10.0.0.1',
        'default_interface=eth1',
        'ipv4=eth0 192.0.2.5 24',
        'ipv4=eth1 10.0.0.7 16',
      ].join('\n'),
    );
    expect(facts).toMatchObject({
      hostname: 'vnc-01',
      nodename: 'vnc-01.example.com',
      distribution: 'Ubuntu',
      distribution_version: '22.04',
      distribution_major_version: '22',
      distribution_release: 'jammy',
      os_family: 'Debian',
      architecture: 'x86_64',
      processor_vcpus: 4,
      memtotal_mb: 7859,
      all_ipv4_addresses: ['192.0.2.5', '10.0.0.7'],
      default_ipv4: { address: '10.0.0.7', interface: 'eth1', prefix: '16', gateway: '10.0.0.1' },
    });
  });

  // Found when a CI run's fleet inherited a one-CPU affinity: Ansible still said processor_vcpus 2 (from
  // /proc/cpuinfo), vncplay said 1 (from nproc). processor_nproc is the affinity-aware one.
  it('processor_vcpus counts /proc/cpuinfo, processor_nproc follows CPU affinity (run here under taskset -c 0)', () => {
    const run = spawnSync('taskset', ['-c', '0', 'sh', '-c', FACTS_SCRIPT], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const listed = readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
    expect(parseFacts(run.stdout)).toMatchObject({ processor_vcpus: listed, processor_nproc: 1 });
  });

  it('says NA for what the host does not tell, and has no default_ipv4 without a default route', () => {
    expect(parseFacts('system=Linux\n')).toMatchObject({ distribution: 'NA', distribution_version: 'NA', os_family: 'NA', default_ipv4: {} });
    expect(parseFacts('ipv4=eth0 192.0.2.5 24\n')['default_ipv4']).toEqual({});
  });
});
