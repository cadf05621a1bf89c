// The audit trail through the real CLI: local plays recorded, listed, shown, verified; every kind of tampering
// named by `vncplay history verify`; retention recorded in the chain; bad input.
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pruneAudit, RunRecorder, verifyAudit } from '../../src/audit/trail.js';
import { vncplay, type CliRun } from '../support/cli-helpers.js';

const SECRET = 'S3cret-Audit-Pw';

describe('audit trail: every run recorded, listed, shown and verified', () => {
  let work: string;
  let audit: string;
  let playbook: string;
  let failing: string;
  const run = (args: string[], dir = audit): Promise<CliRun> => vncplay(args, { cwd: work, env: { VNCPLAY_AUDIT_DIR: dir } });
  const ledger = async (dir: string): Promise<string> => path.join(dir, (await readdir(dir)).find((n) => n.startsWith('runs-'))!);
  const runFiles = async (dir: string): Promise<string[]> => {
    const month = (await readdir(path.join(dir, 'runs')))[0]!;
    return (await readdir(path.join(dir, 'runs', month))).sort().map((n) => path.join(dir, 'runs', month, n));
  };
  const copy = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-audit-copy-'));
    await cp(audit, dir, { recursive: true });
    return dir;
  };
  const verify = (dir: string): Promise<CliRun> => run(['history', 'verify'], dir);

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'vncplay-audit-'));
    audit = path.join(work, 'audit');
    playbook = path.join(work, 'configure.yml');
    failing = path.join(work, 'broken.yml');
    await writeFile(playbook, [
      '- hosts: localhost',
      '  connection: local',
      '  gather_facts: false',
      '  tasks:',
      '    - name: Write the config',
      `      copy: { dest: "${work}/app.conf", content: "port=5901\\n" }`,
      '    - name: Show the password',
      '      debug: { var: ansible_password }',
      '',
    ].join('\n'));
    await writeFile(failing, '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - name: Break\n      fail: { msg: broken on purpose }\n');
    expect((await run([playbook, '-i', 'localhost,', '-e', `ansible_password=${SECRET}`])).code).toBe(0);
    expect((await run([failing, '-i', 'localhost,'])).code).toBe(2);
    expect((await run([playbook, '-i', 'localhost,', '-e', `ansible_password=${SECRET}`, '--check'])).code).toBe(0);
  });

  it('lists the runs with who, result and playbook; filters combine', async () => {
    const all = await run(['history']);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\S+ {2}\S+Z {2}root {2}ok \(exit 0\) {2}1 host\(s\) {2}configure\.yml$/);
    expect(lines[1]).toMatch(/ {2}failed \(exit 2\) {2}1 host\(s\) {2}broken\.yml$/);
    expect(lines[2]).toMatch(/configure\.yml --check$/);
    expect((await run(['history', '--result', 'failed'])).stdout.trim().split('\n')).toHaveLength(1);
    expect((await run(['history', '--playbook', 'configure', '--result', 'ok'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await run(['history', '--host', 'localhost'])).stdout.trim().split('\n')).toHaveLength(3);
    expect((await run(['history', '--host', 'h9'])).stdout).toMatch(/^no recorded run matches/);
    expect((await run(['history', '--since', '2999-01-01'])).stdout).toMatch(/^no recorded run matches/);
    const json = (await run(['history', '--json', '--result', 'failed'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { start: { argv: string[] } });
    expect(json[0]!.start.argv).toEqual([failing, '-i', 'localhost,']);
  });

  it("shows who ran what: argv, the playbook's sha256, the recap and each host's changes; secrets are redacted", async () => {
    const id = (await run(['history'])).stdout.split(' ')[0]!;
    const show = await run(['history', 'show', id]);
    expect(show.code, show.stderr).toBe(0);
    const sha = createHash('sha256').update(await readFile(playbook)).digest('hex');
    expect(show.stdout).toContain(`playbook: ${playbook} sha256 ${sha}`);
    expect(show.stdout).toMatch(/^started \S+ by root \(uid 0\) on \S+, vncplay \d+\.\d+\.\d+$/m);
    expect(show.stdout).toContain('localhost: ok=2 changed=1 unreachable=0 failed=0 skipped=0');
    expect(show.stdout).toContain('  changed: Write the config');
    const events = await run(['history', 'show', id, '--events']);
    const types = events.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe('run_start');
    expect(types).toContain('task_result');
    expect(types.at(-1)).toBe('run_end');
    // The password is in argv (as the operator typed it) but never in an event.
    expect(events.stdout).not.toContain(SECRET);
    for (const file of await runFiles(audit)) expect(await readFile(file, 'utf8')).not.toContain(SECRET);
    expect(events.stdout).toContain('********');
  });

  it('verify: intact', async () => {
    const r = await verify(audit);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/audit trail intact: 3 run\(s\), 6 ledger record\(s\)/);
  });

  it('verify names an edited ledger record, a removed one, an edited event, a removed last event and a removed run file', async () => {
    const edited = await copy();
    const ledgerFile = await ledger(edited);
    const lines = (await readFile(ledgerFile, 'utf8')).split('\n');
    lines[3] = lines[3]!.replace('"exitCode":2', '"exitCode":0');
    await writeFile(ledgerFile, lines.join('\n'));
    const r1 = await verify(edited);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toContain(`TAMPERED: ${path.basename(ledgerFile)}:4: record edited (its content does not match its hash)`);
    expect(r1.stdout).toContain('audit trail NOT intact');

    const removed = await copy();
    const ledger2 = await ledger(removed);
    const lines2 = (await readFile(ledger2, 'utf8')).split('\n');
    lines2.splice(2, 1);
    await writeFile(ledger2, lines2.join('\n'));
    const r2 = await verify(removed);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain(`TAMPERED: ${path.basename(ledger2)}:3: a record before this one was removed or reordered (the chain breaks here)`);

    const event = await copy();
    const [first] = await runFiles(event);
    const ev = (await readFile(first!, 'utf8')).split('\n');
    ev[2] = ev[2]!.replace('"host":"localhost"', '"host":"elsewhere"');
    await writeFile(first!, ev.join('\n'));
    const r3 = await verify(event);
    expect(r3.code).toBe(1);
    expect(r3.stdout).toMatch(/TAMPERED: runs\/\d{4}-\d{2}\/\S+\.ndjson:3: event edited/);

    const truncated = await copy();
    const [firstRun] = await runFiles(truncated);
    const tev = (await readFile(firstRun!, 'utf8')).trimEnd().split('\n');
    await writeFile(firstRun!, `${tev.slice(0, -1).join('\n')}\n`);
    const r4 = await verify(truncated);
    expect(r4.code).toBe(1);
    expect(r4.stdout).toMatch(/TAMPERED: run \S+: its event file \S+ has \d+ events, the ledger \(\S+:2\) recorded \d+: events were removed or added at its end/);

    const gone = await copy();
    const [, second] = await runFiles(gone);
    await rm(second!);
    const r5 = await verify(gone);
    expect(r5.code).toBe(1);
    expect(r5.stdout).toMatch(/TAMPERED: run \S+ \(\S+:3\): its event file \S+ is missing/);
  });

  it('an unreadable trail is an error naming it (exit 4); an unknown run too; a run whose trail cannot be written does not start', async () => {
    const broken = await copy();
    const file = await ledger(broken);
    await rm(file);
    await mkdir(file);
    const r = await run(['history'], broken);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/error\[E_AUDIT_READ\]: cannot read \S+runs-\d{4}-\d{2}\.ndjson/);
    const unknown = await run(['history', 'show', 'no-such-run']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no run 'no-such-run' in the audit trail/);

    await rm(path.join(work, 'app.conf'), { force: true });
    const blocked = await run([playbook, '-i', 'localhost,'], '/proc/vncplay-audit');
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toMatch(/error\[E_AUDIT_WRITE\]: cannot write the audit trail in \/proc\/vncplay-audit/);
    await expect(readFile(path.join(work, 'app.conf'))).rejects.toThrow(/ENOENT/);
    const bad = await vncplay([playbook, '-i', 'localhost,'], { cwd: work, env: { VNCPLAY_AUDIT_DIR: audit, VNCPLAY_AUDIT_RETENTION_DAYS: 'forever' } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/VNCPLAY_AUDIT_RETENTION_DAYS must be a whole number of days/);
  });
});

describe('audit retention', () => {
  const facts = { user: 'root', uid: 0, controller: 'c', argv: ['pb.yml'], cwd: '/', playbooks: [{ path: '/pb.yml' }], inventories: [], version: '0', check: false };
  const record = async (dir: string, when: string): Promise<void> => {
    const r = await RunRecorder.start(dir, facts, new Date(when));
    r.event({ type: 'run_start', time: when, playbook: 'pb.yml', check: false, diff: false, forks: 5 });
    await r.finish(0, new Date(when));
  };

  it('chains runs whose ledger records are larger than the tail a run reads (records of 100 kB and 200 kB)', async () => {
    // Each run reads only the end of the month's ledger for the last hash, 64 kB at a time.
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-audit-large-'));
    for (const [i, size] of [100_000, 200_000, 10].entries()) {
      const r = await RunRecorder.start(dir, { ...facts, argv: ['pb.yml', '-e', `x=${'y'.repeat(size)}`] }, new Date(`2026-12-0${i + 1}T10:00:00Z`));
      for (let e = 0; e < 50; e++) r.event({ type: 'run_start', time: '2026-12-01T10:00:00Z', playbook: `pb${e}.yml`, check: false, diff: false, forks: 5 });
      await r.finish(0, new Date(`2026-12-0${i + 1}T10:00:01Z`));
    }
    const report = await verifyAudit(dir);
    expect([report.problems, report.runs]).toEqual([[], 3]);
    const second = (await readdir(path.join(dir, 'runs', '2026-12'))).sort()[1]!;
    const events = (await readFile(path.join(dir, 'runs', '2026-12', second), 'utf8')).trim().split('\n');
    expect(events.map((l) => (JSON.parse(l) as { r: { playbook: string } }).r.playbook)).toEqual(Array.from({ length: 50 }, (_, e) => `pb${e}.yml`));
  });

  it('removes whole months older than the retention, says so in the chain, and verify still holds', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-audit-retention-'));
    await record(dir, '2026-01-15T10:00:00Z');
    await record(dir, '2026-05-20T10:00:00Z');
    await record(dir, '2026-06-30T10:00:00Z');
    await record(dir, '2026-12-01T10:00:00Z');
    const removed = await pruneAudit(dir, 180, new Date('2026-12-07T00:00:00Z'));
    expect(removed).toEqual(['2026-01', '2026-05']);
    expect((await readdir(dir)).filter((n) => n.startsWith('runs-')).sort()).toEqual(['runs-2026-06.ndjson', 'runs-2026-12.ndjson']);
    expect(await readdir(path.join(dir, 'runs'))).not.toContain('2026-01');
    const report = await verifyAudit(dir);
    expect(report.problems).toEqual([]);
    expect(report.notes).toContain('the chain starts at runs-2026-06.ndjson:1: older months were removed by the retention');
    expect(report.runs).toBe(2);
    // Removing a month by hand (no pruned record says so) is tampering.
    await rm(path.join(dir, 'runs-2026-06.ndjson'));
    const after = await verifyAudit(dir);
    expect(after.problems[0]).toMatch(/^runs-2026-12\.ndjson:1: records before this one were removed/);
  });
});
