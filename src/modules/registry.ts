import { aptModule } from './apt.js';
import { assertModule } from './assert.js';
import { blockinfileModule } from './blockinfile.js';
import { commandModule, shellModule } from './command.js';
import { cloudInstance } from './cloud-instance/index.js';
import { copyModule } from './copy.js';
import { debugModule } from './debug.js';
import { dockerContainer } from './docker-container.js';
import { drillEventModule, drillProbeModule } from '../drill/modules.js';
import { dpkgSelectionsModule } from './dpkg-selections.js';
import { failModule } from './fail.js';
import { firewall } from './firewall/index.js';
import { metaModule } from './meta.js';
import { packageModule } from './package.js';
import { packageFactsModule } from './package-facts.js';
import { pingModule } from './ping.js';
import { replaceModule } from './replace.js';
import { securityGroup } from './security-group/index.js';
import { serviceFactsModule } from './service-facts.js';
import { setFactModule } from './set-fact.js';
import { setupModule } from './setup.js';
import { slurpModule } from './slurp.js';
import { fileModule } from './file.js';
import { getentModule } from './getent.js';
import { groupModule } from './group.js';
import { includeVarsModule } from './include-vars.js';
import { iniFileModule } from './ini-file.js';
import { lineinfileModule } from './lineinfile.js';
import { createModuleLookup } from './lookup.js';
import { statModule } from './stat.js';
import { supervisorctl } from './supervisor.js';
import { systemd } from './systemd.js';
import { templateModule } from './template.js';
import { userModule } from './user.js';
import type { AnyModule } from './types.js';
import { waitFor } from './wait-for.js';

/**
 * The explicit list of modules. Add one line per module (keep it sorted); aliases come from each module's
 * `aliases`, and every name also answers under the FQCN Ansible has for it (ansible-names.ts: `ansible.builtin.copy`,
 * `ansible.posix.sysctl`), or as `vncplay.NAME` when Ansible has no such module.
 */
const modules: AnyModule[] = [
  aptModule,
  assertModule,
  blockinfileModule,
  cloudInstance,
  commandModule,
  copyModule,
  debugModule,
  dockerContainer,
  drillEventModule,
  drillProbeModule,
  dpkgSelectionsModule,
  failModule,
  fileModule,
  firewall,
  getentModule,
  groupModule,
  includeVarsModule,
  iniFileModule,
  lineinfileModule,
  metaModule,
  packageModule,
  packageFactsModule,
  pingModule,
  replaceModule,
  securityGroup,
  serviceFactsModule,
  setFactModule,
  setupModule,
  shellModule,
  slurpModule,
  statModule,
  supervisorctl,
  systemd,
  templateModule,
  userModule,
  waitFor,
];

const lookup = createModuleLookup(modules);

/** The module a task key selects, or undefined when the key is not a module. */
export function findModule(key: string): AnyModule | undefined {
  return lookup.find(key);
}

/** Every name a task may use for a module, for "did you mean" hints and the schema. */
export function moduleNames(): string[] {
  return lookup.names();
}

export function allModules(): readonly AnyModule[] {
  return modules;
}
