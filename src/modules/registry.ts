import { assertModule } from './assert.js';
import { commandModule, shellModule } from './command.js';
import { copyModule } from './copy.js';
import { debugModule } from './debug.js';
import { drillEventModule, drillProbeModule } from '../drill/modules.js';
import { failModule } from './fail.js';
import { firewall } from './firewall/index.js';
import { metaModule } from './meta.js';
import { pingModule } from './ping.js';
import { securityGroup } from './security-group/index.js';
import { setFactModule } from './set-fact.js';
import { setupModule } from './setup.js';
import { fileModule } from './file.js';
import { lineinfileModule } from './lineinfile.js';
import { createModuleLookup } from './lookup.js';
import { statModule } from './stat.js';
import { supervisorctl } from './supervisor.js';
import { systemd } from './systemd.js';
import { templateModule } from './template.js';
import type { AnyModule } from './types.js';
import { waitFor } from './wait-for.js';

/**
 * The explicit list of modules. Add one line per module (keep it sorted); aliases come from each module's
 * `aliases`, and every name also answers as `ansible.builtin.NAME` (and `community.general.NAME` /
 * `ansible.posix.NAME` where Ansible keeps it there).
 */
const modules: AnyModule[] = [
  assertModule,
  commandModule,
  copyModule,
  debugModule,
  drillEventModule,
  drillProbeModule,
  failModule,
  fileModule,
  firewall,
  lineinfileModule,
  metaModule,
  pingModule,
  securityGroup,
  setFactModule,
  setupModule,
  shellModule,
  statModule,
  supervisorctl,
  systemd,
  templateModule,
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
