import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from './cli-helpers.js';

/**
 * Language features checked side by side with ansible-playbook (Debian's ansible-core 2.14) on the controller itself
 * (ansible_connection=local): both tools run the same files, and what they did is compared. Skipped without Ansible.
 */
const HAVE_ANSIBLE = spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;

/** A fresh folder holding `files`, with a local-only inventory `inv.ini` unless the files give one. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vncplay-lang-'));
  const all = { 'inv.ini': 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', ...files };
  for (const [rel, text] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}

async function modeOf(file: string): Promise<string> {
  return ((await stat(file)).mode & 0o7777).toString(8);
}

describe.skipIf(!HAVE_ANSIBLE)('YAML 1.1 modes, as ansible-playbook reads them', () => {
  it('mode: 0644, 00755, 01777 and 0o640 give the same permissions under both tools', async () => {
    const dir = await project({
      'modes.yml': `
- hosts: localhost
  gather_facts: false
  tasks:
    - file: { path: "{{ root }}/a", state: touch, mode: 0644 }
    - file: { path: "{{ root }}/b", state: directory, mode: 00755 }
    - file: { path: "{{ root }}/c", state: directory, mode: 01777 }
    - file: { path: "{{ root }}/d", state: touch, mode: 0o640 }
    - copy: { dest: "{{ root }}/e", content: "x\\n", mode: 0600 }
`,
    });
    const modes: Record<string, string[]> = {};
    for (const [tool, run] of [['ansible', ansiblePlaybook], ['vncplay', vncplay]] as const) {
      const root = path.join(dir, tool);
      await mkdir(root);
      const r = await run(['-i', 'inv.ini', 'modes.yml', '-e', `root=${root}`], { cwd: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      modes[tool] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((f) => modeOf(path.join(root, f))));
    }
    expect(modes['vncplay']).toEqual(['644', '755', '1777', '640', '600']);
    expect(modes['vncplay']).toEqual(modes['ansible']);
  });
});
