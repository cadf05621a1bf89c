// stat parity with real ansible-core (Debian's 2.14) on controller paths: every key vncplay returns has Ansible's
// value (times within a microsecond: both are floats of the same nanoseconds), lsattr's version, attributes and
// attr_flags included (a file with nodump and noatime set; /dev/null, where lsattr fails). Skipped without ansible-playbook.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { statModule } from '../../src/modules/stat.js';
import { parsedArgs } from '../support/module-args.js';
import { requireProgram } from '../support/tools.js';
import { testContext } from '../support/module-harness.js';


describe('stat parity with ansible-core', () => {
  it('file, empty file, directory, link (followed or not), dangling link, device, fifo, socket, missing path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vncplay-stat-parity-'));
    writeFileSync(join(dir, 'f'), 'hello\n');
    chmodSync(join(dir, 'f'), 0o4750);
    mkdirSync(join(dir, 'd'));
    symlinkSync('f', join(dir, 'l'));
    symlinkSync('nowhere', join(dir, 'dangling'));
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'flagged'), 'x');
    spawnSync(requireProgram('chattr'), ['+dA', join(dir, 'flagged')]);
    spawnSync(requireProgram('mkfifo'), [join(dir, 'fifo')]);
    const socket = createServer().listen(join(dir, 'sock'));
    const cases: Record<string, unknown>[] = [
      { path: join(dir, 'f') },
      { path: join(dir, 'f'), checksum_algorithm: 'sha256' },
      { path: join(dir, 'd') },
      { path: join(dir, 'l') },
      { path: join(dir, 'l'), follow: true },
      { path: join(dir, 'dangling') },
      { path: '/dev/null' },
      { path: join(dir, 'missing') },
      { path: join(dir, 'empty') },
      { path: join(dir, 'fifo') },
      { path: join(dir, 'sock') },
      { path: join(dir, 'd'), follow: true, get_checksum: false },
      { path: join(dir, 'flagged') },
      { path: join(dir, 'flagged'), get_attributes: false },
    ];
    const tasks = cases.map((a, i) => ({ name: `case ${i}`, stat: a, register: `r${i}` }));
    writeFileSync(join(dir, 'pb.yml'), JSON.stringify([{ hosts: 'localhost', gather_facts: false, tasks }]));
    const res = spawnSync(requireProgram('ansible-playbook'), ['-i', 'localhost,', '-c', 'local', join(dir, 'pb.yml')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env, ANSIBLE_CONFIG: join(dir, 'none.cfg'), ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'False',
      },
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { plays: Array<{ tasks: Array<{ hosts: Record<string, { stat: Record<string, unknown> }> }> }> };
    const theirs = out.plays[0]!.tasks.map((t) => t.hosts['localhost']!.stat);

    const conn = new LocalConnection({ hostName: 'localhost' });
    const ctx = testContext(conn, { diff: false });
    for (const [i, args] of cases.entries()) {
      const parsed = parsedArgs(statModule, args);
      const ours = statModule.report!(parsed, await statModule.gather(parsed, ctx))['stat'] as Record<string, unknown>;
      const ansible = theirs[i]!;
      const comparable = Object.fromEntries(
        Object.keys(ours).map((k) => [k, ['atime', 'mtime', 'ctime'].includes(k) ? expect.closeTo(ours[k] as number, 5) : ansible[k]]),
      );
      expect({ case: i, ...ours }).toEqual({ case: i, ...comparable });
      // And nothing Ansible returns that scripts rely on is missing.
      for (const k of ['exists', 'mode', 'isreg', 'isdir', 'islnk', 'uid', 'gid', 'pw_name', 'gr_name', 'size', 'checksum', 'lnk_target', 'mimetype', 'version', 'attributes', 'attr_flags']) {
        if (k in ansible) expect(Object.keys(ours), `case ${i} lacks ${k}`).toContain(k);
      }
    }
    // What the cases cover: lsattr reading flags, lsattr failing on a device, attributes not asked for.
    expect(theirs[12]).toMatchObject({ attributes: expect.arrayContaining(['nodump', 'noatime']), attr_flags: expect.stringMatching(/dA/) });
    expect(theirs[12]!['version']).toMatch(/^\d+$/);
    expect(theirs[6]).toMatchObject({ version: null, attributes: [], attr_flags: '' });
    expect(theirs[13]).not.toHaveProperty('attr_flags');
    socket.close();
  });
});
