import { dnfSpec, runDnf } from './dnf.js';
import { detectManager, knownManager } from './package.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * yum: Ansible's ansible.builtin.yum as 2.14 runs it: its action plugin picks the backend (use_backend, else the
 * host's ansible_pkg_mgr) and hands the task to the dnf module when that is dnf or yum4. vncplay has no yum3 backend
 * (yum 3 is gone since EL 8), and a host whose manager is neither fails with Ansible's message.
 */
const spec = defineSpec({
  description: "Install, upgrade or remove RPM packages: Ansible's yum, which runs the dnf module on hosts whose package manager is dnf.",
  options: {
    ...dnfSpec.options,
    use_backend: {
      type: 'str',
      choices: ['auto', 'yum', 'yum4', 'dnf'],
      default: 'auto',
      aliases: ['use'],
      description: "The backend: auto takes the host's ansible_pkg_mgr; yum4 and dnf run dnf; yum (yum 3) is not implemented by vncplay.",
    },
  },
  required_one_of: dnfSpec.required_one_of,
  mutually_exclusive: dnfSpec.mutually_exclusive,
  check: dnfSpec.check,
});

/** The values of ansible_pkg_mgr (or use_backend) Ansible's yum action hands to a backend module. */
const DNF_BACKENDS = new Set(['dnf', 'yum4']);

export const yumModule = actionModule(spec, {
  kind: 'action',
  name: 'yum',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const { use_backend: useBackend, ...dnfArgs } = args;
    const backend = useBackend === 'auto' ? (knownManager(ctx.vars) ?? (await detectManager(ctx))) : useBackend;
    if (backend === 'yum') {
      return { failed: true, msg: 'yum: the yum 3 backend (use_backend: yum) is an Ansible backend vncplay does not implement; use_backend: dnf runs dnf' };
    }
    if (!DNF_BACKENDS.has(backend)) {
      return {
        failed: true,
        msg: 'Could not detect which major revision of yum is in use, which is required to determine module backend. You should manually specify use_backend to tell the module whether to use the yum (yum3) or dnf (yum4) backend})',
      };
    }
    return runDnf(dnfArgs, ctx);
  },
});
