// The file modules through the whole tool: a playbook run by the CLI (`vncplay PLAYBOOK -i fleet --json`) on three
// fleet hosts. First run changes, second run reports changed=0 everywhere, --check on a drifted host reports the
// change and leaves the host as it was. Host state is read with hostExec, never through vncplay.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetAvailable, fleetHosts, fleetInventory, fleetKnownHosts, hostExecOk } from '../fleet/fleet.js';

const ROOT = '/tmp/vp-playbook-files';
const repo = resolve(import.meta.dirname, '../..');

const PLAYBOOK = `
- name: VNC files
  hosts: fleet
  become: true
  vars:
    vnc_user: vncplay
    geometry: 1920x1080
  tasks:
    - name: vnc folder
      ansible.builtin.file: { path: ${ROOT}/.vnc, state: directory, mode: '0700', owner: '{{ vnc_user }}' }
    - name: config
      ansible.builtin.template: { src: config.j2, dest: ${ROOT}/.vnc/config, mode: 'u=rw,go=', owner: '{{ vnc_user }}' }
    - name: xstartup
      ansible.builtin.copy: { src: xstartup, dest: ${ROOT}/.vnc/xstartup, mode: '0755' }
    - name: display for the user
      ansible.builtin.lineinfile: { path: ${ROOT}/.vnc/vncserver.users, regexp: '^:1=', line: ':1={{ vnc_user }}', create: true }
    - name: stale lock gone
      ansible.builtin.file: { path: ${ROOT}/.X1-lock, state: absent }
    - name: read it back
      ansible.builtin.stat: { path: ${ROOT}/.vnc/config }
      register: cfg
    - name: the stat result is usable
      ansible.builtin.assert: { that: ["cfg.stat.exists", "cfg.stat.mode == '0600'", "cfg.stat.pw_name == vnc_user"] }
`;

interface Recap {
  type: 'recap';
  hosts: Record<string, { ok: number; changed: number; failed: number; unreachable: number }>;
}

function vncplay(dir: string, ...extra: string[]): { code: number; recap: Recap; events: Array<Record<string, unknown>> } {
  const script = `import(${JSON.stringify(join(repo, 'src/cli/main.ts'))}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  const args = [join(dir, 'site.yml'), '-i', fleetInventory(), '--json', '-e', `vncplay_known_hosts_file=${fleetKnownHosts()}`, ...extra];
  const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, ...args], { cwd: repo, encoding: 'utf8', timeout: 180_000 });
  const events = res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const recap = events.find((e) => e['type'] === 'recap') as Recap | undefined;
  if (!recap) throw new Error(`no recap (exit ${res.status}): ${res.stderr.slice(0, 2000)}`);
  return { code: res.status ?? -1, recap, events };
}

describe.skipIf(!fleetAvailable())('file modules in a playbook, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vp-pb-files-'));
  const names = fleetAvailable() ? fleetHosts().map((h) => h.name) : [];

  beforeAll(async () => {
    mkdirSync(join(dir, 'templates'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'site.yml'), PLAYBOOK);
    writeFileSync(join(dir, 'templates', 'config.j2'), '# {{ ansible_managed }}\ngeometry={{ geometry }}\nlocalhost\n');
    writeFileSync(join(dir, 'files', 'xstartup'), '#!/bin/sh\nexec startxfce4\n');
    for (const h of names) await hostExecOk(h, ['sh', '-c', 'rm -rf "$1" && mkdir -p "$1" && touch "$1/.X1-lock"', 'sh', ROOT]);
  });

  it('first run changes every host, the second changes nothing', () => {
    const first = vncplay(dir);
    expect(first.code).toBe(0);
    for (const h of names) expect(first.recap.hosts[h], h).toMatchObject({ changed: 5, failed: 0, unreachable: 0 });
    const second = vncplay(dir);
    expect(second.code).toBe(0);
    // 7 tasks and Ansible's implicit Gathering Facts (the play does not turn it off).
    for (const h of names) expect(second.recap.hosts[h], h).toMatchObject({ ok: 8, changed: 0, failed: 0 });
  });

  it('--check --diff on a drifted host reports the change and leaves it as it was', async () => {
    const h = names[0]!;
    await hostExecOk(h, ['sh', '-c', 'printf "geometry=800x600\\n" > "$1/.vnc/config"; chmod 0644 "$1/.vnc/config"', 'sh', ROOT]);
    const snap = (): Promise<string> => hostExecOk(h, ['sh', '-c', 'cd "$1" && find . -printf "%p %m %u %s %T@\\n" | sort && cat .vnc/config', 'sh', ROOT]);
    const before = await snap();
    const run = vncplay(dir, '--check', '--diff', '--limit', h);
    // The template reports its change; the final assert fails because --check really did not fix the mode.
    expect(run.recap.hosts[h]).toMatchObject({ changed: 1, failed: 1 });
    const results = run.events.filter((e) => e['type'] === 'task_result' && (e['task'] as { name: string }).name === 'config');
    expect(JSON.stringify(results[0]?.['diff'])).toContain('geometry=1920x1080');
    expect(await snap()).toBe(before);
  });
});
