import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, type CliRun, debugMessages, vncplay } from '../support/cli-helpers.js';
import { localInventory } from '../support/module-parity.js';
import { tempTree } from '../support/temp-tree.js';
import { requireProgram } from '../support/tools.js';

/**
 * kubernetes.core's modules run with the collection's action plugin ported (kubernetes-action.ts), side by side with
 * ansible-playbook on the local connection: `kubeconfig` and `src` are found among the play's files and handed to the
 * module as controller paths; the module then fails the same way under both tools on a machine without the
 * kubernetes Python library (no cluster is reachable here). A kubeconfig that is nowhere fails before the module.
 */
const files: Record<string, string> = {
  inv: localInventory(['localhost']),
  'files/kc.yml': 'apiVersion: v1\nkind: Config\nclusters: []\n',
  'files/ns.yml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: vp}\n',
  'play.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: from files
      kubernetes.core.k8s:
        state: present
        kubeconfig: kc.yml
        src: ns.yml
      register: r_files
      ignore_errors: true
    - name: inline definition, short name
      k8s:
        state: absent
        definition: {apiVersion: v1, kind: Namespace, metadata: {name: vp}}
      register: r_inline
      ignore_errors: true
    - name: a kubeconfig that is nowhere
      kubernetes.core.k8s_info:
        kind: Pod
        kubeconfig: nothere.yml
      register: r_missing
      ignore_errors: true
    - name: a short name runs with the normal action (Ansible finds the action plugin by the name as written)
      k8s_info:
        kind: Pod
        kubeconfig: kc.yml
      ignore_errors: true
    - debug:
        msg: "{{ [r_files, r_inline] | map(attribute='msg') | map('regex_search', '^Failed to import the required Python library \\\\(kubernetes\\\\)') | list }} {{ r_missing.failed }} {{ 'nothere.yml' in r_missing.msg }} {{ 'Python library' in r_missing.msg }}"
`,
  'template.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - kubernetes.core.k8s:
        state: present
        template: ns.j2
`,
};

/** The controller paths the module was given, as -vvv prints its invocation. */
const handedPaths = (run: CliRun): string[] => [...run.stdout.matchAll(/"(kubeconfig|src)": "([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`);

describe("kubernetes.core's action plugin, ported", () => {
  const dir = tempTree(files, 'vncplay-k8s-action-');

  it('hands the module the controller paths of kubeconfig and src, and fails the same without the kubernetes library', async () => {
    requireProgram('ansible-playbook');
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dir });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dir });
    expect(debugMessages(theirs)).toEqual([`"msg": "['Failed to import the required Python library (kubernetes)', 'Failed to import the required Python library (kubernetes)'] True True False"`]);
    expect(debugMessages(ours), ours.stdout + ours.stderr).toEqual(debugMessages(theirs));
    expect(ours.recap).toEqual(theirs.recap);
    // -vvv prints the arguments each module was given (its invocation).
    const [oursVerbose, theirsVerbose] = [await vncplay(['-i', 'inv', 'play.yml', '-vvv'], { cwd: dir }), await ansiblePlaybook(['-i', 'inv', 'play.yml', '-vvv'], { cwd: dir })];
    expect(handedPaths(theirsVerbose)).toEqual([`kubeconfig=${dir}/files/kc.yml`, `src=${dir}/files/ns.yml`, 'kubeconfig=kc.yml']);
    expect(handedPaths(oursVerbose)).toEqual(handedPaths(theirsVerbose));
  });

  it('refuses the template parameter it does not port, naming what to write instead', async () => {
    const ours = await vncplay(['-i', 'inv', 'template.yml'], { cwd: dir });
    expect(ours.code).toBe(2);
    expect(ours.stdout).toContain("kubernetes.core.k8s: `template` is rendered by kubernetes.core's action plugin on the controller, which vncplay does not port");
  });
});
