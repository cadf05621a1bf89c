// ok/changed parity with real ansible-core (Debian's 2.14): one sequence of file/copy/template/lineinfile tasks,
// run twice, by ansible-playbook on one temp tree and by vncplay (invokeModule over a LocalConnection) on another.
// Every task must report the same changed flag, and the two trees must end up identical (types, modes, link
// targets, content). Skipped without ansible-playbook.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../src/connection/local.js';
import { findModule } from '../../src/modules/registry.js';
import type { RenderOptions } from '../../src/modules/types.js';
import { renderText } from '../../src/playbook/template.js';
import { invokeModule } from '../../src/runner/invoke-module.js';
import { requireProgram } from '../support/tools.js';


/** The task sequence, for a tree rooted at `r`; `tpl` is the folder holding templates. */
function sequence(r: string, tpl: string): Array<[string, Record<string, unknown>]> {
  return [
    ['file', { path: `${r}/d`, state: 'directory', mode: '0750' }],
    ['file', { path: `${r}/d/sub/deeper`, state: 'directory', mode: 'u=rwx,g=rx,o=' }],
    ['copy', { dest: `${r}/d/conf`, content: 'geometry=1280x800\nport=5900\n', mode: '0640' }],
    ['lineinfile', { path: `${r}/d/conf`, regexp: '^port=', line: 'port=5901' }],
    ['lineinfile', { path: `${r}/d/conf`, line: 'localhost', insertbefore: 'BOF' }],
    ['lineinfile', { path: `${r}/d/other`, line: 'x=1', create: true, mode: '0600' }],
    ['template', { src: `${tpl}/vnc.j2`, dest: `${r}/d/vnc.conf`, mode: 'u=rw,go=r' }],
    ['copy', { dest: `${r}/d/plain`, content: 'a\n' }],
    ['file', { path: `${r}/d/plain`, mode: 'go-r' }],
    ['file', { path: `${r}/d/current`, state: 'link', src: 'conf' }],
    ['file', { path: `${r}/d/stamp`, state: 'touch', mode: '0600' }],
    ['file', { path: `${r}/d/sub/deeper`, state: 'absent' }],
    ['file', { path: `${r}/d/sub`, state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=' }],
    ['lineinfile', { path: `${r}/d/other`, regexp: '^x=', state: 'absent' }],
    ['copy', { src: `${tpl}/tree`, dest: `${r}/t1`, mode: '0640', directory_mode: '0750' }],
    ['copy', { src: `${tpl}/tree/`, dest: `${r}/t2/` }],
    ['file', { path: `${r}/d/l2`, state: 'link', src: 'nowhere', force: true }],
    ['file', { path: `${r}/d/h`, state: 'hard', src: `${r}/d/plain` }],
    ['copy', { dest: `${r}/d/plain`, content: 'other\n', force: false }],
    ['file', { path: `${r}/missing`, state: 'file' }],
    ['file', { path: `${r}/d/conf`, state: 'directory' }],
    ['file', { path: `${r}/d/conf`, state: 'link', src: 'vnc.conf' }],
    ['lineinfile', { path: `${r}/d/nofile`, line: 'x' }],
    ['copy', { dest: `${r}/d`, content: 'x' }],
    ['file', { path: `${r}/d`, state: 'directory', owner: 'no-such-user-vp' }],
    ['file', { path: `${r}/d/conf`, group: 'no-such-group-vp' }],
    ['lineinfile', { path: `${r}/d/conf`, line: 'localhost', owner: 'no-such-user-vp' }],
  ];
}

/**
 * Symlinks at the destination: copy/template replace the link unless follow: true (then its target is written);
 * lineinfile always edits the target; a dangling link is replaced even with follow: true.
 */
function linkSequence(r: string, tpl: string): Array<[string, Record<string, unknown>]> {
  return [
    ['file', { path: `${r}/lk`, state: 'directory' }],
    ['copy', { dest: `${r}/lk/target`, content: 'target\n', mode: '0600' }],
    ['file', { path: `${r}/lk/l1`, state: 'link', src: 'target' }],
    ['copy', { dest: `${r}/lk/l1`, content: 'target\n' }],
    ['file', { path: `${r}/lk/l2`, state: 'link', src: 'target' }],
    ['copy', { dest: `${r}/lk/l2`, content: 'via l2\n', follow: true }],
    ['file', { path: `${r}/lk/l3`, state: 'link', src: 'target', force: true }],
    ['template', { src: `${tpl}/vnc.j2`, dest: `${r}/lk/l3` }],
    ['file', { path: `${r}/lk/l4`, state: 'link', src: 'target' }],
    ['lineinfile', { path: `${r}/lk/l4`, line: 'added by lineinfile' }],
    ['file', { path: `${r}/lk/l5`, state: 'link', src: 'nowhere', force: true }],
    ['copy', { dest: `${r}/lk/l5`, content: 'x\n', follow: true }],
    ['file', { path: `${r}/lk/l6`, state: 'link', src: 'nothing-yet', force: true }],
    ['file', { path: `${r}/lk/l6`, state: 'touch' }],
  ];
}

function flag(changed: boolean, failed: boolean): string {
  return failed ? 'failed' : changed ? 'changed' : 'ok';
}

function tree(root: string): string {
  const r = spawnSync('sh', ['-c', 'cd "$1" && find . -printf "%p %y %m %l\\n" | sort && find . -type f -exec sha1sum {} + | sort', 'sh', root], { encoding: 'utf8' });
  return r.stdout;
}

interface Setup {
  base: string;
  tpl: string;
  theirsRoot: string;
  oursRoot: string;
}

function setup(): Setup {
  const base = mkdtempSync(join(tmpdir(), 'vncplay-seq-parity-'));
  const tpl = join(base, 'templates');
  mkdirSync(tpl);
  writeFileSync(join(tpl, 'vnc.j2'), '{% for d in [1, 2] %}\n:{{ d }}=user{{ d }}\n{% endfor %}\n');
  mkdirSync(join(tpl, 'tree', 'sub'), { recursive: true });
  writeFileSync(join(tpl, 'tree', 'a.conf'), 'a\n');
  writeFileSync(join(tpl, 'tree', 'sub', 'b.conf'), 'b\n');
  const theirsRoot = join(base, 'ansible');
  const oursRoot = join(base, 'vncplay');
  mkdirSync(theirsRoot);
  mkdirSync(oursRoot);
  return { base, tpl, theirsRoot, oursRoot };
}

/** ok/changed/failed of every task, `runs` times over, by ansible-playbook. */
function ansibleFlags(s: Setup, runs: number, check: boolean, tasksFor = sequence): string[][] {
  const tasks = tasksFor(s.theirsRoot, s.tpl).map(([m, a], i) => ({ name: `t${i}`, [m]: a, ignore_errors: true }));
  const play = { hosts: 'localhost', gather_facts: false, tasks };
  writeFileSync(join(s.base, 'pb.yml'), JSON.stringify(Array.from({ length: runs }, () => play)));
  const res = spawnSync(requireProgram('ansible-playbook'), ['-i', 'localhost,', '-c', 'local', ...(check ? ['--check'] : []), join(s.base, 'pb.yml')], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ANSIBLE_CONFIG: join(s.base, 'none.cfg'), ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_NOCOLOR: '1' },
  });
  expect(res.status, res.stderr).toBe(0);
  const out = JSON.parse(res.stdout) as { plays: Array<{ tasks: Array<{ hosts: Record<string, { changed?: boolean; failed?: boolean }> }> }> };
  return out.plays.map((p) => p.tasks.map((t) => flag(Boolean(t.hosts['localhost']!.changed), Boolean(t.hosts['localhost']!.failed))));
}

/** The same, by vncplay's modules through the runner's invokeModule over a LocalConnection. */
async function vncplayFlags(s: Setup, runs: number, check: boolean, tasksFor = sequence): Promise<string[][]> {
  const conn = new LocalConnection({ hostName: 'localhost' });
  const all: string[][] = [];
  for (let run = 0; run < runs; run++) {
    const flags: string[] = [];
    for (const [name, args] of tasksFor(s.oursRoot, s.tpl)) {
      // A module error thrown by gather/plan is a failed task (the runner's execute-task catches it the same way).
      const r = await invokeModule(findModule(name)!, args, {
        hostName: 'localhost', conn, check, diff: false, become: false, signal: new AbortController().signal, vars: {},
        render: (t: string, o?: RenderOptions) => renderText(t, {}, undefined, o), findFile: async (rel) => rel, log: () => {},
      }).catch(() => ({ changed: false, failed: true }));
      flags.push(flag(r.changed, r.failed));
    }
    all.push(flags);
  }
  return all;
}

describe('ok/changed parity with ansible-core', () => {
  it('the same sequence, run twice, reports the same flags and leaves the same tree', async () => {
    const s = setup();
    const theirs = ansibleFlags(s, 2, false);
    expect(await vncplayFlags(s, 2, false)).toEqual(theirs);
    expect(tree(s.oursRoot)).toBe(tree(s.theirsRoot));
  });

  it('symlinks at the destination: the same flags, and the same links, files and link targets', async () => {
    const s = setup();
    const theirs = ansibleFlags(s, 2, false, linkSequence);
    expect(await vncplayFlags(s, 2, false, linkSequence)).toEqual(theirs);
    expect(tree(s.oursRoot)).toBe(tree(s.theirsRoot));
    // What the sequence is about, so that a change on both sides cannot pass unnoticed.
    expect(tree(s.oursRoot).split('\n').filter((l) => l.startsWith('./lk/l'))).toEqual([
      './lk/l1 f 644 ', './lk/l2 l 777 target', './lk/l3 f 644 ', './lk/l4 l 777 target', './lk/l5 f 644 ', './lk/l6 l 777 nothing-yet',
    ]);
    // touch through a dangling link fails on both sides and creates nothing behind it.
    expect(existsSync(join(s.oursRoot, 'lk', 'nothing-yet'))).toBe(false);
  }, 180_000);

  it('--check on an empty tree: the same flags, and nothing is created', async () => {
    const s = setup();
    const theirs = ansibleFlags(s, 1, true);
    const ours = await vncplayFlags(s, 1, true);
    const names = sequence('', '').map(([m, a]) => `${m} ${JSON.stringify(a)}`);
    expect(ours[0]!.map((f, i) => `${names[i]}: ${f}`)).toEqual(theirs[0]!.map((f, i) => `${names[i]}: ${f}`));
    expect(tree(s.oursRoot)).toBe('. d 755 \n');
    expect(tree(s.theirsRoot)).toBe(tree(s.oursRoot));
  });
});
