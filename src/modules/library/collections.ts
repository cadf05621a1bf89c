import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { knownCollection, NOT_IMPLEMENTED_HINT, notImplementedMessage, resolveAnsibleModule, type ModuleNameProblem } from '../ansible-names.js';
import { hasKubernetesCoreAction } from './kubernetes-action.js';
import { ansiblePlaybookPython, controllerPythons } from './payload.js';
import { existingDir, isFile } from './search-path.js';

/**
 * Ansible modules vncplay has not written natively, run from the collections installed on the controller, found as
 * Ansible's collection loader finds them: the task key resolves (with redirects) to an FQCN (or is the FQCN of a
 * collection Debian's `ansible` lacks that has the module on disk); `ansible.builtin.NAME`
 * is the installed ansible-core's `ansible/modules/NAME.py`, any other `NS.COLL.NAME` is
 * `ansible_collections/NS/COLL/plugins/modules/NAME.py` under the first collection root that has NS/COLL: the
 * playbooks' `collections/` folders, collections_path, then (unless collections_scan_sys_path is false) the
 * controller Python's sys.path entries that hold ansible_collections/ (Debian's /usr/lib/python3/dist-packages).
 * Refused, with the reason: a collection that is not installed, a PowerShell (Windows) module, and a module whose
 * collection has an action plugin of its name (Python Ansible runs on the controller, which vncplay does not).
 */
export type CollectionModuleAnswer = { file: string; fqcn: string } | { problem: ModuleNameProblem };

/** What the controller's Python knows: its ansible-core folder and the sys.path entries holding ansible_collections/. */
export interface ControllerPythonPaths {
  /** The Python that has ansible-core (module argument specs are read with it). */
  python?: string;
  ansibleDir?: string;
  sysPathRoots: string[];
}

const ASK_PYTHON = `import json, os, sys
try:
    import ansible
    a = os.path.dirname(ansible.__file__)
except ImportError:
    a = None
print(json.dumps({"ansibleDir": a, "sysPathRoots": [p for p in sys.path if p and os.path.isdir(os.path.join(p, "ansible_collections"))]}))`;

let asked: ControllerPythonPaths | undefined;

/**
 * Asked once per process, and only when a task names a module that only a collection has: the Python
 * ansible-playbook runs with first (its sys.path is the one Ansible scans), then the others that may have ansible-core.
 */
export function controllerPythonPaths(): ControllerPythonPaths {
  if (asked) return asked;
  const playbookPython = ansiblePlaybookPython();
  for (const python of new Set([...(playbookPython !== undefined ? [playbookPython] : []), ...controllerPythons()])) {
    try {
      const answer = JSON.parse(execFileSync(python, ['-c', ASK_PYTHON], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] })) as { ansibleDir: string | null; sysPathRoots: string[] };
      asked = { ...(answer.ansibleDir !== null ? { python, ansibleDir: answer.ansibleDir } : {}), sysPathRoots: answer.sysPathRoots };
      if (asked.ansibleDir !== undefined) return asked;
    } catch {
      // this Python is missing or broken: the next one
    }
  }
  asked ??= { sysPathRoots: [] };
  return asked;
}

export interface CollectionSearchSettings {
  /** collections_path (ANSIBLE_COLLECTIONS_PATH): folders holding ansible_collections/, or that folder itself. */
  collectionsPath: readonly string[];
  /** collections_scan_sys_path (ANSIBLE_COLLECTIONS_SCAN_SYS_PATH, Ansible's default true). */
  scanSysPath: boolean;
}

export class CollectionModuleSearch {
  private readonly playbookRoots: string[] = [];
  private readonly answers = new Map<string, CollectionModuleAnswer | undefined>();

  constructor(
    private readonly settings: CollectionSearchSettings,
    private readonly controller: () => ControllerPythonPaths = controllerPythonPaths,
  ) {}

  /** A playbook's folder: its collections/ comes first, as Ansible's playbook_paths. */
  addPlaybookDir(dir: string): void {
    const root = path.join(dir, 'collections');
    if (!this.playbookRoots.includes(root)) {
      this.playbookRoots.push(root);
      this.answers.clear();
    }
  }

  /** The folders holding ansible_collections/, in Ansible's order (a payload finds collection module_utils there too). */
  roots(): string[] {
    const configured = this.settings.collectionsPath.map((p) => (path.basename(p) === 'ansible_collections' ? path.dirname(p) : p));
    const sys = this.settings.scanSysPath ? this.controller().sysPathRoots : [];
    return [...new Set([...this.playbookRoots, ...configured, ...sys])].filter((r) => isDir(path.join(r, 'ansible_collections')));
  }

  /**
   * The module file Ansible would run for a task key that selects no vncplay module, or why it cannot run here;
   * undefined when Ansible does not know the name either.
   */
  find(key: string): CollectionModuleAnswer | undefined {
    if (this.answers.has(key)) return this.answers.get(key);
    // ansible.legacy.NAME is ansible.builtin.NAME once no library/ file has that name (the loader looked first).
    const fqcn = resolveAnsibleModule(key.replace(/^ansible\.legacy\./, 'ansible.builtin.')) ?? (this.installedOnly(key) ? key : undefined);
    const answer = fqcn === undefined ? undefined : this.locate(key, fqcn);
    this.answers.set(key, answer);
    return answer;
  }

  /**
   * An FQCN of a collection Debian's `ansible` does not have (a user's own, beside the playbook or in
   * collections_path) that has a module or action plugin of that name: Ansible finds it on disk, and so does this.
   */
  private installedOnly(key: string): boolean {
    const m = /^([a-z0-9_]+)\.([a-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(key);
    if (!m || knownCollection(`${m[1]}.${m[2]}`)) return false;
    const dir = this.roots().map((r) => path.join(r, 'ansible_collections', m[1]!, m[2]!)).find(isDir);
    return dir !== undefined && ['modules/NAME.py', 'modules/NAME.ps1', 'action/NAME.py'].some((f) => isFile(path.join(dir, 'plugins', f.replace('NAME', m[3]!))));
  }

  private locate(key: string, fqcn: string): CollectionModuleAnswer {
    const [ns = '', coll = '', name = ''] = fqcn.split('.');
    const collection = `${ns}.${coll}`;
    const runs = notImplementedMessage(key, fqcn);
    let dir: string | undefined;
    let modulesDir: string;
    let actionsDir: string;
    if (collection === 'ansible.builtin') {
      dir = this.controller().ansibleDir;
      modulesDir = path.join(dir ?? '', 'modules');
      actionsDir = path.join(dir ?? '', 'plugins', 'action');
    } else {
      dir = this.roots().map((r) => path.join(r, 'ansible_collections', ns, coll)).find(isDir);
      modulesDir = path.join(dir ?? '', 'plugins', 'modules');
      actionsDir = path.join(dir ?? '', 'plugins', 'action');
    }
    if (dir === undefined) return { problem: notInstalled(runs, collection, this.lookedIn(collection)) };
    const action = path.join(actionsDir, `${name}.py`);
    // kubernetes.core's action plugin is ported (kubernetes-action.ts): its module runs.
    if (isFile(action) && !hasKubernetesCoreAction(path.join(modulesDir, `${name}.py`))) {
      return {
        problem: {
          code: 'E_MODULE_NOT_IMPLEMENTED',
          message: `${runs}, and it cannot run from its collection: ${collection} has an action plugin of that name (${action}), Python that Ansible runs on the controller, which vncplay does not`,
          hint: NOT_IMPLEMENTED_HINT,
        },
      };
    }
    const powershell = path.join(modulesDir, `${name}.ps1`);
    if (isFile(powershell)) {
      return {
        problem: {
          code: 'E_MODULE_NOT_IMPLEMENTED',
          message: `${runs}, and it is a PowerShell module (${powershell}) for Windows hosts: vncplay runs modules on Linux hosts only`,
          hint: 'run this play with ansible-playbook against the Windows hosts',
        },
      };
    }
    const file = path.join(modulesDir, `${name}.py`);
    if (!isFile(file)) return { problem: notInstalled(runs, collection, [`${dir} (it has no plugins/modules/${name}.py)`]) };
    return { file, fqcn };
  }

  private lookedIn(collection: string): string[] {
    if (collection === 'ansible.builtin') return ["the controller's python3 (it cannot import ansible)"];
    const roots = this.roots();
    const scanned = this.settings.scanSysPath ? '' : ' (collections_scan_sys_path is false: Python\'s sys.path was not searched)';
    return [`${roots.length > 0 ? roots.join(', ') : 'no folder holding ansible_collections/'}${scanned}`];
  }
}

function notInstalled(runs: string, collection: string, looked: string[]): ModuleNameProblem {
  return {
    code: 'E_MODULE_NOT_IMPLEMENTED',
    message: `${runs}, and its collection ${collection} is not installed on the controller to run it from (looked in: ${looked.join('; ')})`,
    hint:
      collection === 'ansible.builtin'
        ? "install Debian's `ansible` package (apt-get install ansible): vncplay then runs the module from its ansible-core, as Ansible does"
        : `install Debian's \`ansible\` package (apt-get install ansible) or \`ansible-galaxy collection install ${collection}\`: vncplay then runs the module from it, as Ansible does`,
  };
}

function isDir(p: string): boolean {
  return existingDir(p) !== undefined;
}
