import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * service_facts: Ansible's ansible.builtin.service_facts on systemd hosts. Reads the same two listings Ansible reads
 * (list-units, list-unit-files) in one command, and the state of units without a loaded unit in a second, batched
 * `systemctl show` (Ansible asks once per unit).
 */
const spec = defineSpec({
  description: 'Read the systemd services into ansible_facts.services (name → {name, state, status, source}).',
  options: {},
});

export interface ServiceFact {
  name: string;
  state: string;
  status: string;
  source: 'systemd';
}

const BAD_STATES = ['not-found', 'masked', 'failed'];

/** Ansible's _list_from_units, line for line (its quirks included: a bad state anywhere in the line counts). */
export function servicesFromUnits(stdout: string): Record<string, ServiceFact> {
  const services: Record<string, ServiceFact> = {};
  for (const line of stdout.split('\n').filter((l) => l.includes('.service'))) {
    let fields = line.split(/\s+/).filter(Boolean);
    let status = 'unknown';
    const bad = BAD_STATES.find((b) => fields.includes(b));
    if (bad !== undefined) {
      status = bad;
      fields = fields.slice(1);
    } else status = fields[2] ?? 'unknown';
    const name = fields[0];
    if (!name) continue;
    services[name] = { name, state: fields[3] === 'running' ? 'running' : 'stopped', status, source: 'systemd' };
  }
  return services;
}

/** Ansible's _list_from_unit_files: the unit file state becomes the status; returns the units it still has to ask. */
export function addUnitFiles(services: Record<string, ServiceFact>, stdout: string): string[] {
  const unlisted: string[] = [];
  for (const line of stdout.split('\n').filter((l) => l.includes('.service'))) {
    const [name, status] = line.split(/\s+/).filter(Boolean);
    if (!name || !status) continue;
    const known = services[name];
    if (!known) {
      services[name] = { name, state: 'unknown', status, source: 'systemd' };
      unlisted.push(name);
    } else if (!BAD_STATES.includes(known.status)) known.status = status;
  }
  return unlisted;
}

/** Ansible's ServiceScanService on a sysvinit-compatible host: `service --status-all` lines `[ + ]  name`. */
export function servicesFromSysv(stdout: string): Record<string, { name: string; state: string; source: 'sysv' }> {
  const out: Record<string, { name: string; state: string; source: 'sysv' }> = {};
  for (const m of stdout.matchAll(/^\s*\[ ([+-]) \]\s+(.+)$/gm)) {
    const name = m[2]!;
    out[name] = { name, state: m[1] === '+' ? 'running' : 'stopped', source: 'sysv' };
  }
  return out;
}

/** sysv scripts first (Ansible runs that scanner first; systemd's names end in .service, so none collide), then systemd's. */
const LIST_SCRIPT = [
  'export LANG=C LC_ALL=C',
  '! command -v service >/dev/null 2>&1 || service --status-all 2>/dev/null',
  'echo ---units---',
  'systemctl list-units --no-pager --type service --all || exit $?',
  'echo ---unit-files---',
  'systemctl list-unit-files --no-pager --type service --all',
].join('\n');

export const serviceFactsModule = actionModule(spec, {
  kind: 'action',
  name: 'service_facts',
  where: 'host',
  inCheckMode: 'run',
  factNames: ['services'],
  async run(_args, ctx) {
    const res = await ctx.exec(['sh', '-c', LIST_SCRIPT]);
    if (res.rc !== 0) {
      return { failed: true, msg: 'Failed to find any services. This can be due to privileges or some other configuration issue.', data: { stderr: res.stderr } };
    }
    const [sysv = '', rest = ''] = res.stdout.split('---units---\n');
    const [units = '', files = ''] = rest.split('---unit-files---\n');
    const services = servicesFromUnits(units);
    // A template (getty@.service) has no state to show: Ansible's show fails there and says unknown.
    const toAsk = addUnitFiles(services, files).filter((n) => !n.endsWith('@.service'));
    if (toAsk.length) {
      // One block per unit, in the order asked, blank-line separated (by position: an alias shows its target's Id).
      const show = await ctx.exec(['systemctl', 'show', '--property=ActiveState', '--', ...toAsk]);
      if (show.rc === 0) {
        show.stdout.split(/\n\n/).forEach((block, i) => {
          const fact = services[toAsk[i] ?? ''];
          const state = /^ActiveState=(.*)$/m.exec(block)?.[1];
          if (fact && state) fact.state = state;
        });
      }
    }
    const all = { ...servicesFromSysv(sysv), ...services };
    return { changed: false, facts: { services: all, ansible_facts: { services: all } }, data: { ansible_facts: { services: all } } };
  },
});
