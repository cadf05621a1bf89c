import type { RoleSearch, TaskDef } from '../playbook/model.js';
import { libraryModule } from './library/module.js';
import type { PayloadRoots } from './library/payload.js';
import { addHostModule } from './add-host.js';
import { aptModule } from './apt.js';
import { aptRepositoryModule } from './apt-repository.js';
import { assembleModule } from './assemble.js';
import { assertModule } from './assert.js';
import { asyncStatusModule } from './async-status.js';
import { authorizedKeyModule } from './authorized-key.js';
import { blockinfileModule } from './blockinfile.js';
import { commandModule, shellModule } from './command.js';
import { cloudInstance } from './cloud-instance/index.js';
import { copyModule } from './copy.js';
import { cronModule } from './cron.js';
import { debugModule } from './debug.js';
import { dnfModule } from './dnf.js';
import { dockerContainer } from './docker-container.js';
import { drillEventModule, drillProbeModule } from '../drill/modules.js';
import { dpkgSelectionsModule } from './dpkg-selections.js';
import { failModule } from './fail.js';
import { fetchModule } from './fetch.js';
import { firewalldModule } from './firewall/ansible-firewalld.js';
import { firewall } from './firewall/index.js';
import { iptablesModule } from './firewall/ansible-iptables.js';
import { makeModule } from './make.js';
import { metaModule } from './meta.js';
import { mountModule } from './mount.js';
import { npmModule } from './npm.js';
import { packageModule } from './package.js';
import { pamLimitsModule } from './pam-limits.js';
import { pamdModule } from './pamd.js';
import { pauseModule } from './pause.js';
import { packageFactsModule } from './package-facts.js';
import { pingModule } from './ping.js';
import { rawModule } from './raw.js';
import { rebootModule } from './reboot.js';
import { pipModule } from './pip.js';
import { replaceModule } from './replace.js';
import { rpmKeyModule } from './rpm-key.js';
import { scriptModule } from './script.js';
import { securityGroup } from './security-group/index.js';
import { sebooleanModule } from './seboolean.js';
import { selinuxModule } from './selinux.js';
import { seportModule } from './seport.js';
import { serviceFactsModule } from './service-facts.js';
import { setFactModule } from './set-fact.js';
import { setupModule } from './setup.js';
import { slurpModule } from './slurp.js';
import { fileModule } from './file.js';
import { findFilesModule } from './find.js';
import { getentModule } from './getent.js';
import { getUrlModule } from './get-url.js';
import { gitModule } from './git.js';
import { groupModule } from './group.js';
import { groupByModule } from './group-by.js';
import { includeVarsModule } from './include-vars.js';
import { iniFileModule } from './ini-file.js';
import { lineinfileModule } from './lineinfile.js';
import { createModuleLookup } from './lookup.js';
import { statModule } from './stat.js';
import { supervisorctl } from './supervisor.js';
import { sysctlModule } from './sysctl.js';
import { systemd } from './systemd.js';
import { tempfileModule } from './tempfile.js';
import { templateModule } from './template.js';
import { timezoneModule } from './timezone.js';
import { ufwModule } from './ufw.js';
import { unarchiveModule } from './unarchive.js';
import { uriModule } from './uri.js';
import { userModule } from './user.js';
import type { AnyModule } from './types.js';
import { waitFor } from './wait-for.js';
import { waitForConnectionModule } from './wait-for-connection.js';
import { yumModule } from './yum.js';

/**
 * The explicit list of modules. Add one line per module (keep it sorted); aliases come from each module's
 * `aliases`, and every name also answers under the FQCN Ansible has for it (ansible-names.ts: `ansible.builtin.copy`,
 * `ansible.posix.sysctl`), or as `vncplay.NAME` when Ansible has no such module.
 */
const modules: AnyModule[] = [
  addHostModule,
  aptModule,
  aptRepositoryModule,
  assembleModule,
  assertModule,
  asyncStatusModule,
  authorizedKeyModule,
  blockinfileModule,
  cloudInstance,
  commandModule,
  copyModule,
  cronModule,
  debugModule,
  dnfModule,
  dockerContainer,
  drillEventModule,
  drillProbeModule,
  dpkgSelectionsModule,
  failModule,
  fetchModule,
  fileModule,
  findFilesModule,
  firewall,
  firewalldModule,
  getentModule,
  getUrlModule,
  gitModule,
  groupModule,
  groupByModule,
  includeVarsModule,
  iniFileModule,
  iptablesModule,
  lineinfileModule,
  makeModule,
  metaModule,
  mountModule,
  npmModule,
  packageModule,
  packageFactsModule,
  pamLimitsModule,
  pamdModule,
  pauseModule,
  pingModule,
  rawModule,
  rebootModule,
  pipModule,
  replaceModule,
  rpmKeyModule,
  scriptModule,
  securityGroup,
  sebooleanModule,
  selinuxModule,
  seportModule,
  serviceFactsModule,
  setFactModule,
  setupModule,
  shellModule,
  slurpModule,
  statModule,
  supervisorctl,
  sysctlModule,
  systemd,
  tempfileModule,
  templateModule,
  timezoneModule,
  ufwModule,
  unarchiveModule,
  uriModule,
  userModule,
  waitFor,
  waitForConnectionModule,
  yumModule,
];

const lookup = createModuleLookup(modules);

/** The module a task key selects, or undefined when the key is not a module. */
export function findModule(key: string): AnyModule | undefined {
  return lookup.find(key);
}

/**
 * The module a loaded task runs: the library/ file the loader found for it (a role's or the playbook's module,
 * which shadows a builtin of the same name, as in Ansible), else vncplay's module of that name.
 */
export function moduleOfTask(task: Pick<TaskDef, 'module' | 'libraryFile' | 'roleSearch'>): AnyModule | undefined {
  if (task.module === undefined) return undefined;
  if (task.libraryFile !== undefined) return libraryModule(task.libraryFile, task.module, () => payloadRootsOf(task.roleSearch));
  return lookup.find(task.module);
}

/** Where a module file's payload finds its module_utils: the run's module_utils folders and collection roots. */
export function payloadRootsOf(search: RoleSearch | undefined): PayloadRoots {
  return { moduleUtils: search?.moduleSearch?.moduleUtilsFolders() ?? [], collections: search?.collectionModules?.roots() ?? [] };
}

/** Every name a task may use for a module, for "did you mean" hints and the schema. */
export function moduleNames(): string[] {
  return lookup.names();
}

export function allModules(): readonly AnyModule[] {
  return modules;
}
