import { describe, expect, it } from 'vitest';
import { formatMetrics } from '../../src/output/metrics.js';
import { formatRecap } from '../../src/output/recap.js';
import { emptyStats } from '../../src/runner/events.js';
import { parseCli } from '../../src/cli/args.js';

describe('formatRecap', () => {
  it('prints Ansible-shaped, aligned lines sorted by host', () => {
    const text = formatRecap({
      web2: { ...emptyStats(), ok: 3, changed: 1 },
      h1: { ...emptyStats(), ok: 1, failed: 1, skipped: 2 },
    });
    expect(text).toBe(
      [
        'PLAY RECAP ' + '*'.repeat(69),
        'h1                         : ok=1    changed=0    unreachable=0    failed=1    skipped=2    rescued=0    ignored=0   ',
        'web2                       : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   ',
        '',
      ].join('\n'),
    );
  });
});

describe('formatMetrics', () => {
  it('writes textfile-collector lines with escaped labels', () => {
    const text = formatMetrics('play"books/r.yml', { exitCode: 2, durationMs: 1500, stats: { h1: { ...emptyStats(), changed: 2 } }, drillRtoSeconds: 1.25 }, 1000);
    expect(text).toContain('vncplay_run_success{playbook="play\\"books/r.yml"} 0');
    expect(text).toContain('vncplay_run_duration_seconds{playbook="play\\"books/r.yml"} 1.500');
    expect(text).toContain('vncplay_host_changed_tasks{playbook="play\\"books/r.yml",host="h1"} 2');
    expect(text).toContain('vncplay_drill_rto_seconds{playbook="play\\"books/r.yml"} 1.250');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('parseCli', () => {
  it('reads ansible-playbook style flags', () => {
    const o = parseCli(['pb.yml', '-i', 'prod', '-l', 'web:!h3', '-f', '7', '-C', '-D', '-t', 'a,b', '-t', 'c', '-e', 'x=1', '-vvv']);
    expect(o).toMatchObject({ playbooks: ['pb.yml'], inventory: ['prod'], limit: 'web:!h3', forks: 7, check: true, diff: true, tags: ['a', 'b', 'c'], extraVars: ['x=1'], verbosity: 3 });
  });

  it.each([
    [['pb.yml', '--forks', '0'], /--forks/],
    [['pb.yml', '--bogus'], /Unknown option/],
    [[], /no playbook given/],
    [['pb.yml', '--host-key-checking', 'maybe'], /strict, accept-new or off/],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseCli(argv)).toThrow(msg);
  });
});
