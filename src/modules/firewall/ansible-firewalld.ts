import { ModuleError } from '../../errors.js';
import type { Change, ModuleReturn, Step } from '../types.js';
import { plannedModule } from '../spec/define.js';
import { defineSpec, type SpecProblem } from '../spec/types.js';
import { sections } from './backend.js';

/**
 * ansible.posix.firewalld: one element of a firewalld zone (a service, port, rich rule, source or interface)
 * enabled or disabled, at runtime (immediate) and/or in the permanent configuration; or a zone itself present or
 * absent. Ansible's parameters, defaults, messages and check mode. It speaks firewall-cmd, as the firewall module's
 * firewalld backend does; when firewalld is not running it edits the permanent configuration with
 * firewall-offline-cmd (Ansible's offline mode, chosen the same way: by whether the daemon runs).
 */

const ELEMENTS = ['service', 'port', 'rich_rule', 'source', 'interface'] as const;
type ElementKind = (typeof ELEMENTS)[number];

const spec = defineSpec({
  description: 'Enable or disable a service, port, rich rule, source or interface in a firewalld zone (runtime and/or permanent), or add or remove a zone.',
  options: {
    service: { type: 'str', pattern: '^[A-Za-z0-9][A-Za-z0-9_.+-]*$', patternText: 'a firewalld service name', description: 'A firewalld service (firewall-cmd --get-services).' },
    port: { type: 'str', description: 'A port or range with its protocol: "8080/tcp", "60000-61000/udp".' },
    rich_rule: { type: 'str', description: 'A rich rule in firewalld syntax; compared in firewalld\'s normal form.' },
    source: { type: 'str', pattern: '^[0-9A-Fa-f:./]+$|^ipset:[A-Za-z0-9_.-]+$', patternText: 'an address, CIDR or ipset:NAME', description: 'A source address or network to bind to the zone (needs permanent).' },
    interface: { type: 'str', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:@-]*$', patternText: 'an interface name', description: 'An interface to move into the zone (needs zone).' },
    zone: { type: 'str', pattern: '^[A-Za-z0-9][A-Za-z0-9_+-]*$', patternText: 'a zone name', description: "The zone; the host's default zone when omitted." },
    permanent: { type: 'bool', description: 'Change the permanent configuration. When neither permanent nor immediate is set, only the runtime changes.' },
    immediate: { type: 'bool', default: false, description: 'Also change the runtime configuration when permanent is true.' },
    state: { type: 'str', required: true, choices: ['enabled', 'disabled', 'present', 'absent'], description: 'enabled/disabled for an element; present/absent for the zone itself (with no element).' },
    timeout: { type: 'int', min: 0, default: 0, description: 'Seconds a runtime service, port or rich rule stays enabled (0: until removed).' },
    offline: { type: 'bool', description: 'Accepted for compatibility: as in Ansible, the module works offline whenever firewalld is not running.' },
  },
  mutually_exclusive: [[...ELEMENTS]],
  required_by: { interface: ['zone'], source: ['permanent'] },
  check: firewalldProblem,
});

interface FirewalldArgs {
  service?: string;
  port?: string;
  rich_rule?: string;
  source?: string;
  interface?: string;
  zone?: string;
  permanent?: boolean;
  immediate: boolean;
  state: 'enabled' | 'disabled' | 'present' | 'absent';
  timeout: number;
}

const PORT_RE = /^\d{1,5}(-\d{1,5})?\/(tcp|udp|sctp|dccp)$/;

function firewalldProblem(args: FirewalldArgs): SpecProblem | undefined {
  if (args.port !== undefined && !PORT_RE.test(args.port.trim())) {
    return { param: 'port', message: 'improper port format (missing protocol?)', hint: 'write the port with its protocol: "8080/tcp" or "60000-61000/udp"' };
  }
  if (elementOf(args) && (args.state === 'present' || args.state === 'absent')) {
    return { param: 'state', message: 'absent and present state can only be used in zone level operations', hint: 'use state: enabled or disabled for a service, port, rich_rule, source or interface' };
  }
  return undefined;
}

interface Element {
  kind: ElementKind;
  value: string;
}

function elementOf(args: FirewalldArgs): Element | undefined {
  for (const kind of ELEMENTS) {
    const value = args[kind];
    if (value !== undefined) return { kind, value: kind === 'port' ? value.trim() : value };
  }
  return undefined;
}

/** Ansible's rule: when neither permanent nor immediate is set, the change is runtime only. */
function modeOf(args: FirewalldArgs): { permanent: boolean; immediate: boolean } {
  const permanent = args.permanent === true;
  return { permanent, immediate: args.immediate || !permanent };
}

/** firewall-cmd's option stem of an element (`--query-rich-rule=…`). */
const stem = (kind: ElementKind): string => kind.replace('_', '-');

export interface FirewalldFacts {
  /** firewalld runs; otherwise only the permanent configuration is read and changed (firewall-offline-cmd). */
  running: boolean;
  /** The zone the task works on (the default zone when the task names none). */
  zone: string;
  /** The zones of the permanent configuration. */
  zones: string[];
  /** Whether the element is enabled, per configuration read. */
  runtime?: boolean;
  permanent?: boolean;
}

/** One remote command: is firewalld running, the zone, the zones, and the element's query at runtime and permanently. */
export const FIREWALLD_GATHER = String.raw`
z=$1; q=$2; rt=$3; perm=$4
query() { section=$1; shift; out=$("$@" 2>&1); echo "@@$section $?"; printf '%s\n' "$out"; }
if firewall-cmd --state >/dev/null 2>&1; then
  echo "@@running"
  if [ -z "$z" ]; then z=$(firewall-cmd --get-default-zone 2>&1) || { echo "@@error $z"; exit 0; }; fi
  echo "@@zone $z"
  echo "@@zones $(firewall-cmd --permanent --get-zones 2>&1)"
  if [ -n "$q" ] && [ -n "$rt" ]; then query runtime firewall-cmd --zone="$z" "$q"; fi
  if [ -n "$q" ] && [ -n "$perm" ]; then query permanent firewall-cmd --permanent --zone="$z" "$q"; fi
else
  command -v firewall-offline-cmd >/dev/null 2>&1 || { echo "@@error firewalld is not installed (no firewall-cmd)"; exit 0; }
  if [ -z "$z" ]; then z=$(firewall-offline-cmd --get-default-zone 2>&1) || { echo "@@error $z"; exit 0; }; fi
  echo "@@zone $z"
  echo "@@zones $(firewall-offline-cmd --get-zones 2>&1)"
  if [ -n "$q" ] && [ -n "$perm" ]; then query permanent firewall-offline-cmd --zone="$z" "$q"; fi
fi
exit 0
`;

/** A query section ("0\n…" yes, "1\n…" no, anything else: firewalld refused the question). */
function queryAnswer(section: string | undefined, what: string): boolean | undefined {
  if (section === undefined) return undefined;
  const [rc = '', ...out] = section.split('\n');
  if (rc.trim() === '0') return true;
  if (rc.trim() === '1') return false;
  throw new ModuleError('E_FIREWALLD', `firewalld: ERROR: Exception caught: ${out.join(' ').trim() || `${what} failed (exit ${rc.trim()})`}`);
}

export function firewalldFactsFromGather(out: string, element: Element | undefined): FirewalldFacts {
  const s = sections(out);
  const err = s.get('error');
  if (err !== undefined) throw new ModuleError('E_FIREWALLD', `firewalld: ${err.trim()}`, { hint: 'install firewalld on the host; the module needs root (become: true)' });
  const what = element ? `query of ${element.kind} ${element.value}` : 'query';
  const facts: FirewalldFacts = {
    running: s.has('running'),
    zone: (s.get('zone') ?? '').trim(),
    zones: (s.get('zones') ?? '').trim().split(/\s+/).filter((z) => z !== ''),
  };
  const runtime = queryAnswer(s.get('runtime'), what);
  const permanent = queryAnswer(s.get('permanent'), what);
  if (runtime !== undefined) facts.runtime = runtime;
  if (permanent !== undefined) facts.permanent = permanent;
  return facts;
}

const OFFLINE_NOTE = '(offline operation: only on-disk configs were altered)';
const ZONE_NOT_PERMANENT = "Zone operations must be permanent. Make sure you didn't set the 'permanent' flag to 'false' or the 'immediate' flag to 'true'.";

/** The argv that changes one configuration (permanent: firewall-cmd --permanent, or firewall-offline-cmd offline). */
function elementArgv(facts: FirewalldFacts, element: Element, enable: boolean, permanent: boolean, timeout: number): string[] {
  const offline = permanent && !facts.running;
  // firewall-offline-cmd reads --remove-service as lokkit's option (no --zone); the zone's own is -from-zone.
  const remove = offline && element.kind === 'service' ? '--remove-service-from-zone' : `--remove-${stem(element.kind)}`;
  const op = enable ? (element.kind === 'interface' ? '--change-interface' : `--add-${stem(element.kind)}`) : remove;
  const argv = offline ? ['firewall-offline-cmd'] : ['firewall-cmd', ...(permanent ? ['--permanent'] : [])];
  argv.push(`--zone=${facts.zone}`, `${op}=${element.value}`);
  const timed = element.kind === 'service' || element.kind === 'port' || element.kind === 'rich_rule';
  if (!permanent && enable && timed && timeout > 0) argv.push(`--timeout=${timeout}`);
  return argv;
}

export function planFirewalld(args: FirewalldArgs, facts: FirewalldFacts): Change[] {
  const mode = modeOf(args);
  if (mode.immediate && !facts.running) {
    throw new ModuleError('E_FIREWALLD_OFFLINE', 'firewalld: firewall is not currently running, unable to perform immediate actions without a running firewall daemon', {
      hint: 'start firewalld, or set permanent: true (and not immediate) to change only the on-disk configuration',
    });
  }
  const element = elementOf(args);
  if (!element) {
    if (args.state === 'enabled' || args.state === 'disabled') return [];
    if (mode.immediate) throw new ModuleError('E_FIREWALLD_ZONE', `firewalld: ${ZONE_NOT_PERMANENT}`, { hint: 'set permanent: true' });
    const want = args.state === 'present';
    if (facts.zones.includes(facts.zone) === want) return [];
    const argv = facts.running ? ['firewall-cmd', '--permanent'] : ['firewall-offline-cmd'];
    argv.push(`--${want ? 'new' : 'delete'}-zone=${facts.zone}`);
    return [{ summary: `${want ? 'add' : 'remove'} zone ${facts.zone} (permanent)`, steps: [{ kind: 'exec', argv }] }];
  }
  const enable = args.state === 'enabled';
  const changes: Change[] = [];
  // Ansible's order: the permanent configuration first, then the runtime one.
  for (const permanent of [true, false]) {
    if (!(permanent ? mode.permanent : mode.immediate)) continue;
    const enabled = permanent ? facts.permanent : facts.runtime;
    if (enabled === enable) continue;
    const step: Step = { kind: 'exec', argv: elementArgv(facts, element, enable, permanent, args.timeout) };
    const where = permanent ? 'permanent' : 'runtime';
    changes.push({ summary: `${enable ? 'enable' : 'disable'} ${element.kind} ${element.value} in zone ${facts.zone} (${where})`, steps: [step] });
  }
  return changes;
}

/** Ansible's msg: the operation kind, then what changed, in the words of the ansible.posix module. */
export function firewalldMessage(args: FirewalldArgs, facts: FirewalldFacts, changed: boolean): string {
  const mode = modeOf(args);
  const element = elementOf(args);
  const msgs: string[] = [];
  if (element || args.state === 'present' || args.state === 'absent') {
    msgs.push(mode.permanent && mode.immediate ? 'Permanent and Non-Permanent(immediate) operation' : mode.permanent ? 'Permanent operation' : 'Non-permanent operation');
  }
  const enable = args.state === 'enabled' || args.state === 'present';
  if (changed && element) {
    const { kind, value } = element;
    if (kind === 'source') msgs.push(enable ? `Added ${value} to zone ${facts.zone}` : `Removed ${value} from zone ${facts.zone}`);
    else if (kind === 'interface') msgs.push(enable ? `Changed ${value} to zone ${facts.zone}` : `Removed ${value} from zone ${facts.zone}`);
    else msgs.push(`Changed ${kind} ${value} to ${args.state}`);
  } else if (changed) {
    msgs.push(enable ? `Added zone ${facts.zone}` : `Removed zone ${facts.zone}`, `Changed zone ${facts.zone} to ${args.state}`);
  }
  if (!facts.running) msgs.push(OFFLINE_NOTE);
  return msgs.join(', ');
}

export const firewalldModule = plannedModule(spec, {
  kind: 'planned',
  name: 'firewalld',
  where: 'host',
  async gather(args, ctx): Promise<FirewalldFacts> {
    const element = elementOf(args);
    const mode = modeOf(args);
    const query = element ? `--query-${stem(element.kind)}=${element.value}` : '';
    const res = await ctx.exec(['sh', '-c', FIREWALLD_GATHER, 'sh', args.zone ?? '', query, mode.immediate ? 'runtime' : '', mode.permanent ? 'permanent' : '']);
    if (res.rc !== 0) {
      throw new ModuleError('E_FIREWALLD', `firewalld: reading the configuration failed on ${ctx.hostName}: ${(res.stderr || res.stdout).trim()}`, {
        hint: 'the firewalld module needs root on the host: set become: true',
      });
    }
    return firewalldFactsFromGather(res.stdout, element);
  },
  plan: planFirewalld,
  // Unchanged: Ansible's message. Changed under --check: Ansible returns no message, vncplay the planned changes.
  report: (args, facts) => (planFirewalld(args, facts).length ? {} : { msg: firewalldMessage(args, facts, false) }),
  finish: async (args, facts): Promise<ModuleReturn> => ({ changed: true, msg: firewalldMessage(args, facts, true) }),
});
