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

describe('setup facts from ip -j, routes and /sys/fs/selinux', () => {
  const ipJson = JSON.stringify([
    { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, link_type: 'loopback', address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }, { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' }] },
    { ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, link_type: 'ether', address: '02:76:70:12:00:01', addr_info: [{ family: 'inet', local: '198.18.0.11', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
    { ifname: 'br-x', flags: ['BROADCAST'], mtu: 1500, link_type: 'ether', address: '02:00:00:00:00:09', addr_info: [] },
  ]);
  const facts = parseFacts(
    ['os_id=debian', 'os_version=12', 'debian_version=12.15', 'default_gateway=198.18.0.1', 'default_interface=eth0', 'ipv4=eth0 198.18.0.11 24', `ip_json=${ipJson}`, 'local4=127.0.0.0/8 127.0.0.1 198.18.0.11 ', 'local6=::1 fe80::1 ', 'pkg_bins=/usr/bin/apt-get '].join('\n'),
  );
  it('names the interfaces and gives each its fact, as Ansible does', () => {
    expect(facts['interfaces']).toEqual(['lo', 'eth0', 'br-x']);
    expect(facts['eth0']).toEqual({
      device: 'eth0', active: true, mtu: 1500, promisc: false, type: 'ether', macaddress: '02:76:70:12:00:01',
      ipv4: { address: '198.18.0.11', broadcast: '', netmask: '255.255.255.0', network: '198.18.0.0', prefix: '24' },
      ipv6: [{ address: 'fe80::1', prefix: '64', scope: 'link' }],
    });
    expect(facts['lo']).not.toHaveProperty('macaddress');
    expect(facts['br_x']).toMatchObject({ device: 'br-x', active: false });
    expect(facts['all_ipv6_addresses']).toEqual(['fe80::1']);
  });
  it('default_ipv4 with the interface details; locally_reachable_ips; selinux; pkg_mgr; Debian minor version', () => {
    expect(facts['default_ipv4']).toEqual({
      address: '198.18.0.11', alias: 'eth0', broadcast: '', gateway: '198.18.0.1', interface: 'eth0', macaddress: '02:76:70:12:00:01',
      mtu: 1500, netmask: '255.255.255.0', network: '198.18.0.0', prefix: '24', type: 'ether',
    });
    expect(facts['default_ipv6']).toEqual({});
    expect(facts['locally_reachable_ips']).toEqual({ ipv4: ['127.0.0.0/8', '127.0.0.1', '198.18.0.11'], ipv6: ['::1', 'fe80::1'] });
    expect(facts['selinux']).toEqual({ status: 'disabled' });
    expect(parseFacts('selinux_enforce=1\nselinux_config=enforcing\nselinux_type=targeted\nselinux_policyvers=33\n')['selinux']).toEqual({
      status: 'enabled', mode: 'enforcing', config_mode: 'enforcing', type: 'targeted', policyvers: 33,
    });
    expect(facts['pkg_mgr']).toBe('apt');
    expect(facts['distribution_minor_version']).toBe('15');
  });
});
