import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModuleError } from '../../errors.js';
import { isVaultText } from '../../vault/format.js';
import { pythonType } from '../py-text.js';
import type { ModuleContext } from '../types.js';

/**
 * kubernetes.core's action plugin (plugins/action/k8s.py, the same file for every k8s_* and helm* module): what the
 * controller does before the module runs. On the local connection `kubeconfig` (each path of a `:` list) and `src`
 * are looked up among the play's files (a role's files/, the playbook's folder), and k8s_cp's `local_path` with
 * `state: to_pod` too; on a remote connection they are paths on the host and go as written. Its `template`
 * parameter, rendered on the controller with the plugin's own Jinja options and omit handling, is not ported.
 */

/** A module of kubernetes.core with the collection's action plugin beside it (run when a task names it by FQCN). */
export function hasKubernetesCoreAction(moduleFile: string): boolean {
  const modulesDir = path.dirname(moduleFile);
  if (!modulesDir.endsWith(path.join('ansible_collections', 'kubernetes', 'core', 'plugins', 'modules'))) return false;
  return existsSync(path.join(modulesDir, '..', 'action', path.basename(moduleFile)));
}

const URL_SCHEMES = ['http://', 'https://', 'ftp://'];

/** The module's arguments as kubernetes.core's ActionModule.run hands them to the module. */
export async function kubernetesCoreArgs(name: string, args: Record<string, unknown>, ctx: ModuleContext): Promise<Record<string, unknown>> {
  const out = { ...args };
  const local = ctx.conn === undefined || ctx.conn.kind === 'local';
  const kubeconfig = args['kubeconfig'];
  if (kubeconfig !== undefined && kubeconfig !== null) {
    if (typeof kubeconfig === 'string') {
      if (local) out['kubeconfig'] = (await Promise.all(kubeconfig.split(':').map((f) => controllerFile(f, ctx)))).join(':');
    } else if (typeof kubeconfig !== 'object' || Array.isArray(kubeconfig)) {
      throw new ModuleError('E_KUBERNETES_ARGS', `Error while reading kubeconfig parameter - a string or dict expected, but got ${pythonType(kubeconfig)} instead`);
    }
  }
  const src = args['src'];
  if (typeof src === 'string' && src !== '' && !URL_SCHEMES.some((s) => src.startsWith(s))) {
    // On a remote connection Ansible runs the module with the task's own arguments, whatever else they say.
    if (!local) return args;
    out['src'] = await controllerFile(src, ctx);
  }
  if (args['template'] !== undefined && args['template'] !== null) {
    throw new ModuleError('E_KUBERNETES_TEMPLATE', `${name}: \`template\` is rendered by kubernetes.core's action plugin on the controller, which vncplay does not port`, {
      hint: "render it into `definition` instead: definition: \"{{ lookup('template', 'FILE') | from_yaml_all | list }}\"",
    });
  }
  const localPath = args['local_path'];
  if (typeof localPath === 'string' && args['state'] === 'to_pod' && local) {
    if (!/(^|\.)k8s_cp$/.test(name)) throw new ModuleError('E_KUBERNETES_ARGS', "'local_path' is only supported parameter for 'k8s_cp' module.");
    out['local_path'] = existsSync(localPath) ? localPath : await controllerFile(localPath, ctx).catch(() => {
      throw new ModuleError('E_KUBERNETES_ARGS', `${localPath} does not exist in local filesystem`);
    });
  }
  return out;
}

/** A file the plugin finds with _find_needle('files', …); a vault-encrypted one is refused (Ansible decrypts it). */
async function controllerFile(rel: string, ctx: ModuleContext): Promise<string> {
  // The module gets the controller's absolute path, as _find_needle gives it.
  const file = path.resolve(await ctx.findFile(rel, 'files'));
  if (isVaultText(await readFile(file, 'utf8'))) {
    throw new ModuleError('E_KUBERNETES_ARGS', `${file} is vault-encrypted: kubernetes.core's action plugin decrypts it on the controller, which vncplay does not`, {
      hint: 'give the decrypted file, or the kubeconfig as a mapping',
    });
  }
  return file;
}
