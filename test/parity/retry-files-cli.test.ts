// PLAYBOOK.retry and --metrics-file written by the built CLI on a local-connection inventory (no fleet): retry files
// only when asked, never through a planted link, a failure to write one is a warning that keeps the exit code.
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMetricsFile } from '../../src/output/metrics.js';
import { emptyStats } from '../../src/runner/events.js';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';

/** A folder with a local inventory and `site.yml`, whose one task fails; `victim` stands for a file worth protecting. */
function project(): { dir: string; victim: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-retry-'));
  writeFileSync(path.join(dir, 'local.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n');
  writeFileSync(path.join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - fail:\n        msg: broken\n');
  const victim = path.join(dir, 'authorized_keys');
  writeFileSync(victim, 'ssh-ed25519 AAAA admin\n');
  return { dir, victim };
}

// Retry files are off by default in the environment the tests run in, whatever the caller's shell says.
const env = { ANSIBLE_RETRY_FILES_ENABLED: '', ANSIBLE_RETRY_FILES_SAVE_PATH: '' };

describe('retry files', () => {
  it('are not written unless asked (Ansible >= 2.8); --retry-files and ANSIBLE_RETRY_FILES_ENABLED ask', async () => {
    const { dir } = project();
    const off = await vncplay(['site.yml', '-i', 'local.yml'], { cwd: dir, env });
    expect(off.code, off.stderr).toBe(2);
    expect(existsSync(path.join(dir, 'site.retry'))).toBe(false);

    const flag = await vncplay(['site.yml', '-i', 'local.yml', '--retry-files'], { cwd: dir, env });
    expect(flag.code).toBe(2);
    expect(readFileSync(path.join(dir, 'site.retry'), 'utf8')).toBe('localhost\n');

    const saved = path.join(dir, 'retries');
    const viaEnv = await vncplay(['site.yml', '-i', 'local.yml'], { cwd: dir, env: { ANSIBLE_RETRY_FILES_ENABLED: 'True', ANSIBLE_RETRY_FILES_SAVE_PATH: saved } });
    expect(viaEnv.code).toBe(2);
    expect(readFileSync(path.join(saved, 'site.retry'), 'utf8')).toBe('localhost\n');
  });

  it('ansible.cfg retry_files_enabled turns them on; the command line and the environment win over it', async () => {
    const { dir } = project();
    writeFileSync(path.join(dir, 'ansible.cfg'), '[defaults]\nretry_files_enabled = True\n');
    expect((await vncplay(['site.yml', '-i', 'local.yml'], { cwd: dir, env: { ANSIBLE_RETRY_FILES_ENABLED: 'false' } })).code).toBe(2);
    expect(existsSync(path.join(dir, 'site.retry'))).toBe(false);
    const cfgOnly = await vncplay(['site.yml', '-i', 'local.yml'], { cwd: dir, env: { ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg') } });
    expect(cfgOnly.code, cfgOnly.stderr).toBe(2);
    expect(readFileSync(path.join(dir, 'site.retry'), 'utf8')).toBe('localhost\n');
  });

  it('ansible-playbook writes none by default either, and the same file when enabled', async () => {
    const theirs = project();
    const ours = project();
    const cfg = { ANSIBLE_CONFIG: path.join(theirs.dir, 'none.cfg'), ANSIBLE_LOCALHOST_WARNING: 'False' };
    expect((await ansiblePlaybook(['site.yml', '-i', 'local.yml'], { cwd: theirs.dir, env: { ...cfg, ANSIBLE_RETRY_FILES_ENABLED: '' } })).code).toBe(2);
    expect(existsSync(path.join(theirs.dir, 'site.retry'))).toBe(false);
    expect((await ansiblePlaybook(['site.yml', '-i', 'local.yml'], { cwd: theirs.dir, env: { ...cfg, ANSIBLE_RETRY_FILES_ENABLED: 'true' } })).code).toBe(2);
    expect((await vncplay(['site.yml', '-i', 'local.yml'], { cwd: ours.dir, env: { ANSIBLE_RETRY_FILES_ENABLED: 'true' } })).code).toBe(2);
    expect(readFileSync(path.join(ours.dir, 'site.retry'), 'utf8')).toBe(readFileSync(path.join(theirs.dir, 'site.retry'), 'utf8'));
  });

  it('a symlink planted at PLAYBOOK.retry is replaced, never written through', async () => {
    const { dir, victim } = project();
    symlinkSync(victim, path.join(dir, 'site.retry'));
    const r = await vncplay(['site.yml', '-i', 'local.yml', '--retry-files'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(2);
    expect(readFileSync(victim, 'utf8')).toBe('ssh-ed25519 AAAA admin\n');
    expect(lstatSync(path.join(dir, 'site.retry')).isFile()).toBe(true);
    expect(readFileSync(path.join(dir, 'site.retry'), 'utf8')).toBe('localhost\n');
  });

  it('one that cannot be written is a warning: the exit code stays 2 and the metrics file is still written', async () => {
    const { dir } = project();
    const metrics = path.join(dir, 'run.prom');
    // The save path is a file, so the retry file cannot be created below it (ENOTDIR), even as root.
    const r = await vncplay(['site.yml', '-i', 'local.yml', '--metrics-file', metrics], {
      cwd: dir, env: { ANSIBLE_RETRY_FILES_ENABLED: '1', ANSIBLE_RETRY_FILES_SAVE_PATH: path.join(dir, 'local.yml') },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`[WARNING]: Could not create retry file '${path.join(dir, 'local.yml', 'site.retry')}': `);
    expect(r.stderr).not.toContain('internal error');
    expect(readFileSync(metrics, 'utf8')).toContain('vncplay_run_exit_code{playbook="site.yml"} 2');
  });

  it('--retry-failed without a retry file says none was written and how to turn them on (exit 5)', async () => {
    const { dir } = project();
    const r = await vncplay(['site.yml', '-i', 'local.yml', '--retry-failed'], { cwd: dir, env });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`--retry-failed: there is no retry file site.retry`);
    expect(r.stderr).toContain('retry files are off');
    expect(r.stderr).toContain('--retry-files or ANSIBLE_RETRY_FILES_ENABLED=true');
  });
});

describe('--metrics-file', () => {
  // The temp name used to be FILE.PID.tmp, opened without O_EXCL: a link planted there was written through.
  it('writes its temp file under a random name, exclusively: a link at the old FILE.PID.tmp name is left alone', async () => {
    const { dir, victim } = project();
    const metrics = path.join(dir, 'vncplay.prom');
    symlinkSync(victim, `${metrics}.${process.pid}.tmp`);
    await writeMetricsFile(metrics, 'site.yml', { exitCode: 0, durationMs: 1000, stats: { h1: emptyStats() } });
    expect(readFileSync(victim, 'utf8')).toBe('ssh-ed25519 AAAA admin\n');
    expect(readFileSync(metrics, 'utf8')).toContain('vncplay_run_success{playbook="site.yml"} 1');
    expect(readdirSync(dir).sort()).toEqual(['authorized_keys', 'local.yml', 'site.yml', `vncplay.prom`, `vncplay.prom.${process.pid}.tmp`].sort());
  });
});
