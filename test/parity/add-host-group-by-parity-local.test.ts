import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, vncplay } from '../support/cli-helpers.js';
import { pick, runBoth, writeProject } from '../support/module-parity.js';

/**
 * add_host and group_by side by side with ansible-playbook on the controller (every host ansible_connection=local):
 * add_host bypasses the host loop (runs once, for the first host: the recap shows it), its `host:port`, groups and
 * variables reach a later play; group_by runs per host with a templated key (spaces become dashes) under a parent
 * group, and a later play's pattern intersects the new groups. --list-hosts runs no task, so for both tools those
 * later plays list no host.
 */
const inventory = 'w1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\nw2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n\n[web]\nw1\nw2\n';
const playbook = `
- hosts: web
  gather_facts: false
  tasks:
    - name: add a host
      add_host:
        name: "vp-{{ inventory_hostname }}:2222"
        groups: [added, more]
        ansible_connection: local
        ansible_python_interpreter: /usr/bin/python3
        color: blue
    - name: group by a variable
      group_by:
        key: "kind {{ inventory_hostname }}"
        parents: [kinds]
    - name: group again
      group_by: {key: "kind {{ inventory_hostname }}", parents: kinds}
    - name: same host again
      ansible.builtin.add_host: {hostname: vp-w1, group: added, color: blue}
    - name: new variable for the host
      add_host: {host: vp-w1, color: red}
- hosts: added
  gather_facts: false
  tasks:
    - name: the new host
      debug: {msg: "{{ inventory_hostname }} {{ color }} {{ ansible_ssh_port }} {{ group_names }} {{ groups.more }}"}
- hosts: kinds:&kind-w2
  gather_facts: false
  tasks:
    - name: grouped host
      debug: {msg: "{{ inventory_hostname }} {{ group_names }} {{ groups['kinds'] | sort }}"}
`;

/** Each `"msg": …` a debug task printed, in order. */
const debugMessages = (stdout: string): string[] => [...stdout.matchAll(/"msg": "(.*)"/g)].map((m) => m[1]!);

/** ansible-playbook --list-hosts prints a play's hosts from a Python set (no stable order): sort each list. */
const hostSetsSorted = (listing: string): string =>
  listing.trim().replace(/(hosts \(\d+\):\n)((?: {6}\S+\n?)+)/g, (_m, head: string, hosts: string) => head + hosts.trimEnd().split('\n').sort().join('\n') + '\n');

describe('add_host and group_by: parity with ansible-playbook', () => {
  it('register the same results, and give later plays the same hosts, variables and recap', async () => {
    const run = await runBoth(playbook, { inventory: { text: inventory }, host: 'w1' });
    const fields = ['changed', 'failed', 'add_host', 'add_group', 'parent_groups'];
    const theirs = pick(run.theirs, fields);
    expect(Object.keys(theirs), run.theirsOutput.slice(-3000)).toEqual(['add a host', 'group by a variable', 'group again', 'same host again', 'new variable for the host']);
    // What Ansible did, spelled out, so a change on either side shows here.
    // `group:` (unlike `groups:`) is also kept as a host variable by Ansible, so "same host again" changes the host.
    expect(theirs['add a host']).toMatchObject({
      changed: true,
      add_host: { host_name: 'vp-w1', groups: ['added', 'more'], host_vars: { ansible_connection: 'local', ansible_ssh_port: 2222, color: 'blue' } },
    });
    expect([theirs['group by a variable']!['add_group'], theirs['group again']!['changed'], theirs['same host again']!['changed'], theirs['new variable for the host']!['changed']]).toEqual(['kind-w1', false, true, true]);
    expect(pick(run.ours, fields), run.oursOutput.slice(-3000)).toEqual(theirs);

    const dir = writeProject({ 'pb.yml': playbook, 'inv.ini': inventory });
    const [theirsText, oursText] = [await ansiblePlaybook(['-i', 'inv.ini', 'pb.yml'], { cwd: dir }), await vncplay(['-i', 'inv.ini', 'pb.yml'], { cwd: dir })];
    expect(theirsText.code, theirsText.stdout + theirsText.stderr).toBe(0);
    expect(debugMessages(theirsText.stdout)).toEqual(["vp-w1 red 2222 ['added', 'more'] ['vp-w1']", "w2 ['kind-w2', 'kinds', 'web'] ['w1', 'w2']"]);
    expect(debugMessages(oursText.stdout), oursText.stdout + oursText.stderr).toEqual(debugMessages(theirsText.stdout));
    // add_host ran once, for w1 only; the added host has a recap line of its own.
    expect(theirsText.recap['w1']).toMatchObject({ ok: 5, changed: 4 });
    expect(oursText.recap).toEqual(theirsText.recap);

    const [theirsList, oursList] = [await ansiblePlaybook(['-i', 'inv.ini', 'pb.yml', '--list-hosts'], { cwd: dir }), await vncplay(['-i', 'inv.ini', 'pb.yml', '--list-hosts'], { cwd: dir })];
    expect(oursList.code, oursList.stderr).toBe(0);
    expect(hostSetsSorted(oursList.stdout)).toBe(hostSetsSorted(theirsList.stdout));
  });

  it('a group or host they create gets its group_vars/host_vars beside the inventory and the playbook, from the next task on', async () => {
    const dir = writeProject({
      'inv/hosts.ini': inventory,
      'inv/group_vars/kind-w1.yml': 'color: inventory-side\nsize: inventory-side\n',
      'group_vars/kind-w1.yml': 'size: playbook-side\n',
      'group_vars/kinds.yml': 'shape: round\nsize: parent\n',
      'group_vars/added/main.yml': 'tier: added-group\n',
      'host_vars/vp-w1.yml': 'who: host-vars-file\ncolor: from-file\n',
      'pb.yml': `
- hosts: web
  gather_facts: false
  tasks:
    - group_by: {key: "kind-{{ inventory_hostname }}", parents: kinds}
    - debug: {msg: "{{ color | default('none') }} {{ size | default('none') }} {{ shape | default('none') }}"}
    - add_host: {name: vp-w1, groups: added, ansible_connection: local, color: from-add-host}
- hosts: kind-w1
  gather_facts: false
  tasks:
    - debug: {msg: "{{ color }} {{ size }} {{ shape }}"}
- hosts: added
  gather_facts: false
  tasks:
    - debug: {msg: "{{ tier }} {{ who }} {{ color }}"}
`,
    });
    const args = ['-i', 'inv/hosts.ini', 'pb.yml'];
    const [theirs, ours] = [await ansiblePlaybook(args, { cwd: dir }), await vncplay(args, { cwd: dir })];
    expect(theirs.code, theirs.stdout + theirs.stderr).toBe(0);
    // group_vars beside the playbook beat those beside the inventory; a deeper group beats its parent; w2's own group
    // has no file, so it sees only the parent's; a host_vars file beats add_host's variables.
    expect(debugMessages(theirs.stdout).sort()).toEqual(
      ['inventory-side playbook-side round', 'none parent round', 'inventory-side playbook-side round', 'added-group host-vars-file from-file'].sort(),
    );
    expect(debugMessages(ours.stdout).sort(), ours.stdout + ours.stderr).toEqual(debugMessages(theirs.stdout).sort());
    expect(ours.recap).toEqual(theirs.recap);
  });

  it('a later play may name a group only add_host or group_by creates; other unknown names are still refused', async () => {
    const dir = writeProject({
      'inv.ini': inventory,
      'typo.yml': '- hosts: webb\n  gather_facts: false\n  tasks: [{debug: {msg: hi}}]\n',
    });
    const typo = await vncplay(['-i', 'inv.ini', 'typo.yml'], { cwd: dir });
    expect(typo.code).toBe(4);
    expect(typo.stderr + typo.stdout).toMatch(/webb/);
  });
});
