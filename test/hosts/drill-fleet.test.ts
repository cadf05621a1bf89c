// playbooks/failover-drill.yml on fleet hosts h2 + h3 (h1 is other tests'): a real keepalived VRRP pair with the
// VIP .100 in the fleet's subnet, real faults, the VIP's RFB banner probed from this controller, then `vncplay drill report`.
// Leaves keepalived stopped + disabled and the VIP gone, so other tests see h2/h3 as before.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.js';
import { fleetAddress, fleetAvailable, fleetBridgeAddress, fleetHosts, fleetInventory, hostExec } from '../fleet/fleet.js';
import { vncplay, type CliRun } from '../support/cli-helpers.js';
import { writeFile } from 'node:fs/promises';

const VIP = fleetAddress(100);
const BUDGET_S = 10;
type DrillEvent = Extract<RunEvent, { type: 'drill' }>;

const drillEvents = (r: CliRun): DrillEvent[] => r.events.filter((e): e is DrillEvent => e.type === 'drill');
const phase = (r: CliRun, name: string): DrillEvent | undefined => drillEvents(r).find((e) => e.phase === name);
const holdsVip = async (host: string): Promise<boolean> => (await hostExec(host, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${VIP}/24 `);
const active = async (host: string, unit: string): Promise<string> => (await hostExec(host, ['systemctl', 'is-active', unit])).stdout.trim();

async function cleanUp(): Promise<void> {
  for (const h of ['h2', 'h3']) {
    await hostExec(h, ['ip', 'link', 'set', 'eth0', 'up']);
    await hostExec(h, ['sh', '-c', 'systemctl stop vncplay-drill-link-up.timer vncplay-drill-link-up.service 2>/dev/null; systemctl stop keepalived; systemctl disable keepalived 2>/dev/null; systemctl reset-failed keepalived 2>/dev/null; rm -f /run/vncplay-vrrp.state; true']);
    await hostExec(h, ['sh', '-c', `ip addr del ${VIP}/24 dev eth0 2>/dev/null; true`]);
  }
}

describe.skipIf(!fleetAvailable() || fleetHosts().length < 3)('failover drill on h2 + h3 (keepalived VRRP)', () => {
  let dir: string;
  const rtos: Record<string, number> = {};

  async function drill(fault: string, extra: string[] = [], label = fault): Promise<CliRun> {
    const r = await vncplay(['playbooks/failover-drill.yml', '-i', fleetInventory(), '--json',
      '-e', 'drill_hosts=h2,h3', '-e', `drill_fault=${fault}`, '-e', `rto_budget_s=${BUDGET_S}`, '-e', 'vnc_password=drill123', '-e', `drill_vip=${VIP}/24`, ...extra], { timeoutMs: 115_000 });
    await writeFile(path.join(dir, `${label}.ndjson`), r.stdout);
    return r;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vncplay-drill-'));
    await cleanUp();
  });

  afterAll(async () => {
    await cleanUp();
    // eslint-disable-next-line no-console -- the measured figures are the point of this file
    console.log(`measured RTOs (s): ${JSON.stringify(rtos)}`);
  });

  it('configures the pair and fails over on stop_keepalived within the budget; report + metrics agree', async () => {
    const metrics = path.join(dir, 'drill.prom');
    const r = await drill('stop_keepalived', ['--metrics-file', metrics]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(drillEvents(r).filter((e) => e.phase !== 'health').map((e) => e.phase)).toEqual(
      ['t0', 'fault_injected', 'standby_answered', 'standby_master', 'restored', 'failback_answered', 'failback']);
    expect(phase(r, 't0')!.data).toMatchObject({ fault: 'stop_keepalived', primary: 'h2', standby: 'h3', vip: VIP, port: 5901 });
    const rto = phase(r, 'standby_answered')!.data['rto_s'] as number;
    rtos['stop_keepalived'] = rto;
    expect(rto).toBeGreaterThan(0);
    expect(rto).toBeLessThan(BUDGET_S);
    expect(phase(r, 'standby_master')!.data['host']).toBe('h3');
    expect(phase(r, 'failback')!.data['masters']).toEqual(['h2']);
    // After the drill: one MASTER (the primary), both services up again.
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
    expect(await active('h2', 'keepalived')).toBe('active');
    expect((await hostExec('h3', ['cat', '/run/vncplay-vrrp.state'])).stdout).toMatch(/^BACKUP /);
    expect(await readFile(metrics, 'utf8')).toContain(`vncplay_drill_rto_seconds{playbook="playbooks/failover-drill.yml"} ${rto.toFixed(3)}`);

    const out = path.join(dir, 'report-stop_keepalived');
    const rep = await vncplay(['drill', 'report', path.join(dir, 'stop_keepalived.ndjson'), '--out', out]);
    expect(rep.code, rep.stdout + rep.stderr).toBe(0);
    expect(rep.stdout).toContain(`drill PASSED: stop_keepalived, RTO ${rto.toFixed(3)} s (budget ${BUDGET_S} s)`);
    const md = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# Failover drill: PASSED/);
    expect(md).toContain(`- **RTO:** ${rto.toFixed(3)} s`);
    expect(md).toMatch(/\| standby_answered \| \S+ \| \d+\.\d{3} \|/);
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/tests="4" failures="0"/);
    // The same run judged against a budget it missed: the report fails and says why.
    const strict = await vncplay(['drill', 'report', path.join(dir, 'stop_keepalived.ndjson'), '--out', out, '--rto-budget', String(rto / 2)]);
    expect(strict.code).toBe(1);
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toMatch(/<failure message="RTO [\d.]+ s exceeds the budget/);
  });

  it('fails over on stop_vnc (track script) within the budget and fails back', async () => {
    const r = await drill('stop_vnc');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const rto = phase(r, 'standby_answered')!.data['rto_s'] as number;
    rtos['stop_vnc'] = rto;
    expect(rto).toBeLessThan(BUDGET_S);
    expect(phase(r, 'failback')!.data['masters']).toEqual(['h2']);
    expect(await active('h2', 'tigervncserver@:1')).toBe('active');
    // The pair was configured by the first run: this run's play 1 changed nothing; only the fault and its undoing did.
    const changed = r.events.flatMap((e) => (e.type === 'task_result' && e.changed ? [`${e.host}: ${e.task.name}`] : []));
    expect(changed).toEqual(['h2: Fault | stop the VNC server on the primary', 'h2: Restore | start the VNC server on the primary']);
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
  });

  // The play restarts a VNC server for the new listen setting only when it was already running before the play
  // (a server the play starts reads the setting itself; restarting it right after its start raced systemd's cgroup
  // cleanup). Here the primary runs with localhost=yes, so the drill must restart it, or the VIP would not answer.
  it('a VNC server already running with localhost=yes is restarted and then answers on every address', async () => {
    const conf = '~vncplay/.vnc/tigervnc.conf';
    await hostExec('h2', ['sh', '-c', `sed -i 's/^\\$localhost = "no";/$localhost = "yes";/' ${conf} && systemctl restart tigervncserver@:1`]);
    const listening = async (): Promise<string> => (await hostExec('h2', ['ss', '-Hltn', 'sport = :5901'])).stdout;
    await expect.poll(listening, { timeout: 5000 }).toMatch(/127\.0\.0\.1:5901/);
    const r = await drill('stop_keepalived', [], 'relisten');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const changed = r.events.flatMap((e) => (e.type === 'task_result' && e.changed ? [`${e.host}: ${e.task.name}`] : []));
    expect(changed).toContain('h2: VNC | a server started with localhost=yes listens again on every address');
    expect(await listening()).toMatch(/0\.0\.0\.0:5901/);
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
  });

  it('fails over on link_down (cut from the controller into the primary netns) and the link comes back', async () => {
    const h2 = fleetHosts().find((h) => h.name === 'h2')!;
    const r = await drill('link_down', ['-e', `drill_netns=${h2.netns}`]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const rto = phase(r, 'standby_answered')!.data['rto_s'] as number;
    rtos['link_down'] = rto;
    expect(rto).toBeLessThan(BUDGET_S);
    expect((await hostExec('h2', ['ip', '-br', 'link', 'show', 'eth0'])).stdout).toMatch(/\bUP\b/);
    // The link's routes went with it; the default route is back too (the host can reach its gateway's side).
    expect((await hostExec('h2', ['ip', '-4', 'route', 'show', 'default'])).stdout).toMatch(new RegExp(`^default via ${fleetBridgeAddress().replace(/\./g, '\\.')} dev eth0`));
    expect((await hostExec('h2', ['systemctl', 'is-active', 'vncplay-drill-link-up.timer'])).stdout.trim()).not.toBe('active');
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
  });

  it('tuned VRRP (version 3, 0.2 s adverts and track interval) fails over on link_down well under the v2 floor', async () => {
    const h2 = fleetHosts().find((h) => h.name === 'h2')!;
    const r = await drill('link_down', ['-e', `drill_netns=${h2.netns}`, '-e', 'drill_vrrp_version=3', '-e', 'drill_advert_int=0.2', '-e', 'drill_check_interval=0.2'], 'link_down-v3');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect((await hostExec('h2', ['cat', '/etc/keepalived/keepalived.conf'])).stdout).toMatch(/vrrp_version 3[\s\S]*advert_int 0\.2/);
    const rto = phase(r, 'standby_answered')!.data['rto_s'] as number;
    rtos['link_down_vrrp3_0.2s'] = rto;
    // VRRPv2 with 1 s adverts cannot declare the master dead before ~3 s (3 adverts + skew).
    expect(rto).toBeLessThan(2.5);
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
  });

  it('--check runs the pre-checks only: no fault, no t0, keepalived still MASTER on the primary', async () => {
    const r = await drill('stop_keepalived', ['--check'], 'check-mode');
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect(drillEvents(r).map((e) => e.phase)).toEqual(['health', 'health']);
    expect(await active('h2', 'keepalived')).toBe('active');
    expect([await holdsVip('h2'), await holdsVip('h3')]).toEqual([true, false]);
  });

  it('`vncplay drill run` (what the scheduled service runs) logs the run, writes the report, returns the verdict', async () => {
    const logDir = path.join(dir, 'runs');
    const out = path.join(dir, 'reports');
    const args = (fault: string, ...extra: string[]): string[] => ['drill', 'run', '--log-dir', logDir, '--out', out, '--rto-budget', String(BUDGET_S), '--',
      'playbooks/failover-drill.yml', '-i', fleetInventory(), '-e', 'drill_hosts=h2,h3', '-e', `drill_fault=${fault}`, '-e', 'vnc_password=drill123', '-e', `drill_vip=${VIP}/24`, ...extra];
    const ok = await vncplay(args('stop_vnc'), { timeoutMs: 115_000 });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const m = /drill log: (\S+drill-(\d{8}T\d{6}Z)\.ndjson) \(playbook exit 0\)/.exec(ok.stdout);
    expect(m, ok.stdout).not.toBeNull();
    expect(ok.stdout).toMatch(/drill PASSED: stop_vnc, RTO \d+\.\d{3} s \(budget 10 s\)/);
    expect(await readFile(path.join(out, m![2]!, 'report.md'), 'utf8')).toMatch(/^# Failover drill: PASSED/);
    expect((await readFile(m![1]!, 'utf8')).split('\n')[0]).toMatch(/^\{"type":"run_start"/);
    // A drill that cannot start: the playbook's exit code (2) is the result, and the report says why.
    await new Promise((r) => setTimeout(r, 1100)); // a new second, so a new run folder
    const bad = await vncplay(args('unplug_everything', '-e', 'drill_configure=false'), { timeoutMs: 115_000 });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('drill FAILED');
    expect(bad.stdout).toContain('the drill never reached t0');
  });

  it('refuses to start when both hosts claim MASTER: no fault, exit non-zero, the report fails', async () => {
    // Split brain by hand: the standby also carries the VIP.
    await hostExec('h3', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    try {
      const r = await drill('stop_keepalived', ['-e', 'drill_configure=false'], 'refused-both-master');
      expect(r.code).not.toBe(0);
      expect(phase(r, 'refused')!.data).toMatchObject({ masters: ['h2', 'h3'] });
      expect(phase(r, 't0')).toBeUndefined();
      expect(await active('h2', 'keepalived')).toBe('active');
      const rep = await vncplay(['drill', 'report', path.join(dir, 'refused-both-master.ndjson'), '--out', path.join(dir, 'refused')]);
      expect(rep.code).toBe(1);
      expect(rep.stdout).toContain('the pre-checks refused to start the drill');
    } finally {
      await hostExec('h3', ['sh', '-c', `ip addr del ${VIP}/24 dev eth0; true`]);
    }
  });

  it('refuses to start when one host is down (its VNC server stopped)', async () => {
    await hostExec('h3', ['systemctl', 'stop', 'tigervncserver@:1']);
    try {
      // Configuring would start it again: the drill alone must see the host down.
      const r = await drill('stop_vnc', ['-e', 'drill_configure=false'], 'refused-one-down');
      expect(r.code).not.toBe(0);
      expect(phase(r, 'refused')!.data).toMatchObject({ healthy: ['h2'] });
      expect(phase(r, 't0')).toBeUndefined();
      expect(await active('h2', 'tigervncserver@:1')).toBe('active');
    } finally {
      await hostExec('h3', ['systemctl', 'start', 'tigervncserver@:1']);
    }
  });
});
