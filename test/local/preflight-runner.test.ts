import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { runPlaybook } from '../../src/runner/run.js';

/**
 * The library entry point refuses bad input as the CLI does (exit 4 there): runPlaybook runs the pre-flight checks
 * (src/runner/preflight.ts) before any event or connection, unless the caller passes preflight: false.
 */

function playbookFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-preflight-'));
  const file = path.join(dir, 'play.yml');
  writeFileSync(file, text);
  return file;
}

describe('runPlaybook runs the pre-flight checks unless preflight: false', () => {
  const inventory = parseInventory('[vnc_servers]\nl1 ansible_connection=local\n', 'ini');

  it('an unknown group or an undefined variable is an ErrorList before any event', async () => {
    const pb = await loadPlaybook(playbookFile('- hosts: vnc_servres\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ undefined_thing }}"\n'));
    const events: string[] = [];
    const err = await runPlaybook({ playbook: pb, inventory, onEvent: (e) => events.push(e.type) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorList);
    expect((err as ErrorList).errors.map((e) => e.code)).toEqual(['E_UNKNOWN_PATTERN']);
    expect(events).toEqual([]);
    const pb2 = await loadPlaybook(playbookFile('- hosts: vnc_servers\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ undefined_thing }}"\n'));
    const err2 = await runPlaybook({ playbook: pb2, inventory, onEvent: (e) => events.push(e.type) }).catch((e: unknown) => e);
    expect((err2 as ErrorList).errors.map((e) => e.code)).toEqual(['E_TEMPLATE_UNDEFINED']);
    expect(events).toEqual([]);
  });

  it('with preflight: false the play runs as before (unknown group: warning and skipped; undefined: task fails)', async () => {
    const pb = await loadPlaybook(playbookFile('- hosts: vnc_servres\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n'));
    const r = await runPlaybook({ playbook: pb, inventory, preflight: false });
    expect(r.exitCode).toBe(0);
    const pb2 = await loadPlaybook(playbookFile('- hosts: vnc_servers\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ undefined_thing }}"\n'));
    expect((await runPlaybook({ playbook: pb2, inventory, preflight: false })).exitCode).toBe(2);
  });

  it('-e, --limit and tags given to runPlaybook are what the checks see', async () => {
    const pb = await loadPlaybook(
      playbookFile('- hosts: "{{ target }}"\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ greeting }}"\n      tags: [hello]\n'),
    );
    const ok = await runPlaybook({ playbook: pb, inventory, extraVars: { target: 'vnc_servers', greeting: 'hi' } });
    expect(ok.exitCode).toBe(0);
    // The task that would read the undefined name is not selected by --tags: nothing to refuse.
    const skipped = await runPlaybook({ playbook: pb, inventory, extraVars: { target: 'vnc_servers' }, tags: ['other'] });
    expect(skipped.exitCode).toBe(0);
    // A --limit that leaves the play without hosts: it renders nothing, so its undefined name is not refused.
    const limited = await runPlaybook({ playbook: pb, inventory, extraVars: { target: 'vnc_servers' }, limit: 'nosuch' });
    expect(limited.exitCode).toBe(0);
    const err = await runPlaybook({ playbook: pb, inventory, extraVars: { target: 'vnc_srevers' } }).catch((e: unknown) => e);
    expect((err as ErrorList).errors.map((e) => e.code)).toEqual(['E_UNKNOWN_PATTERN']);
  });
});
