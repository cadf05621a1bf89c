import { ModuleError } from '../errors.js';
import { backupName, backupStep } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, Step } from './types.js';

/**
 * community.general.pamd: edit one rule of a PAM service file (/etc/pam.d/NAME) as Ansible's module does: its
 * parser, its linked-list edits (which also drop the comments between two rules an insert lands between), its
 * validation, and its `# Updated by Ansible - TIME` line as the file's second line.
 */
const VALID_TYPES = ['account', '-account', 'auth', '-auth', 'password', '-password', 'session', '-session'] as const;
const SIMPLE_CONTROLS = ['required', 'requisite', 'sufficient', 'optional', 'include', 'substack', 'definitive'];
const CONTROL_VALUES = [
  'success', 'open_err', 'symbol_err', 'service_err', 'system_err', 'buf_err', 'perm_denied', 'auth_err', 'cred_insufficient',
  'authinfo_unavail', 'user_unknown', 'maxtries', 'new_authtok_reqd', 'acct_expired', 'session_err', 'cred_unavail', 'cred_expired',
  'cred_err', 'no_module_data', 'conv_err', 'authtok_err', 'authtok_recover_err', 'authtok_lock_busy', 'authtok_disable_aging',
  'try_again', 'ignore', 'abort', 'authtok_expired', 'module_unknown', 'bad_item', 'conv_again', 'incomplete', 'default',
];
const CONTROL_ACTIONS = ['ignore', 'bad', 'die', 'ok', 'done', 'reset'];

const options = {
  name: { type: 'str', required: true, description: 'The service file, in `path` (sshd, common-auth).' },
  type: { type: 'str', required: true, choices: VALID_TYPES, description: 'The type of the rule to find.' },
  control: { type: 'str', required: true, description: 'The control of the rule to find (required, [success=1 default=ignore], …).' },
  module_path: { type: 'str', required: true, description: 'The module of the rule to find (pam_unix.so).' },
  new_type: { type: 'str', choices: VALID_TYPES, description: 'The type to set, or of the rule to insert.' },
  new_control: { type: 'str', description: 'The control to set, or of the rule to insert.' },
  new_module_path: { type: 'str', description: 'The module to set, or of the rule to insert.' },
  module_arguments: { type: 'list', elements: 'str', description: 'Arguments to set (updated, before, after), add (args_present) or remove (args_absent).' },
  state: { type: 'str', choices: ['absent', 'after', 'args_absent', 'args_present', 'before', 'updated'], default: 'updated', description: 'What to do with the rules found.' },
  path: { type: 'path', default: '/etc/pam.d', description: 'The folder of the service files.' },
  backup: { type: 'bool', default: false, description: 'Keep a copy of the file before changing it.' },
} as const;

type PamdArgs = ArgsOf<typeof options>;

const spec = defineSpec({
  description: 'Change, add, remove or edit the arguments of a rule in a PAM service file.',
  options,
  required_if: [
    ['state', 'args_present', ['module_arguments']],
    ['state', 'args_absent', ['module_arguments']],
    ['state', 'before', ['new_control', 'new_type', 'new_module_path']],
    ['state', 'after', ['new_control', 'new_type', 'new_module_path']],
  ],
});

/** parse_module_arguments: each string split into words, a `[...]` group kept whole. */
export function parseArguments(args: readonly string[] | string | undefined): string[] {
  if (args === undefined) return [];
  const list = typeof args === 'string' ? [args] : args;
  if (list.length === 1 && !list[0]) return [];
  return list.flatMap((a) => (a.match(/\[.*\]|\S+/g) ?? []));
}

interface Node {
  kind: 'comment' | 'include' | 'empty' | 'rule';
  text: string;
  prev?: Node | undefined;
  next?: Node | undefined;
  rule?: Rule;
}

class Rule {
  private controlWords: string[] | string = '';
  args: string[];
  constructor(
    public type: string,
    control: string,
    public path: string,
    args: readonly string[] | string | undefined,
  ) {
    this.control = control;
    this.args = parseArguments(args);
  }
  get control(): string {
    return Array.isArray(this.controlWords) ? `[${this.controlWords.join(' ')}]` : this.controlWords;
  }
  set control(c: string) {
    this.controlWords = c.startsWith('[') ? c.replaceAll(' = ', '=').replaceAll('[', '').replaceAll(']', '').split(' ') : c;
  }
  matches(type: string | undefined, control: string | undefined, path: string | undefined): boolean {
    return type === this.type && control === this.control && path === this.path;
  }
  toString(): string {
    const head = `${this.type.padEnd(11)}${this.control} ${this.path}`;
    return this.args.length > 0 ? `${head} ${this.args.join(' ')}` : head;
  }
  problem(): string | undefined {
    if (!(VALID_TYPES as readonly string[]).includes(this.type)) return `Rule type, ${this.type}, is not valid in rule ${this.toString()}`;
    if (!Array.isArray(this.controlWords)) {
      return SIMPLE_CONTROLS.includes(this.control) ? undefined : `Rule control, ${this.control}, is not valid in rule ${this.toString()}`;
    }
    for (const c of this.controlWords) {
      const [value = '', action = ''] = c.split('=');
      if (!CONTROL_VALUES.includes(value)) return `Rule control value, ${value}, is not valid in rule ${this.toString()}`;
      if (!CONTROL_ACTIONS.includes(action) && !/^\+?\d+$/.test(action.trim())) return `Rule control action, ${action}, is not valid in rule ${this.toString()}`;
    }
    return undefined;
  }
}

const RULE = /(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*/;

/** PamdService: the file as a doubly linked list of lines, edited as Ansible edits it. */
export class PamdService {
  head: Node | undefined;
  tail: Node | undefined;

  constructor(content: string) {
    for (const line of content.split(/\r\n|\n|\r/).filter((_, i, all) => i < all.length - 1 || all[i] !== '')) {
      if (line.trimStart().startsWith('#')) this.append({ kind: 'comment', text: line });
      else if (line.trimStart().startsWith('@include')) this.append({ kind: 'include', text: line });
      else if (line.trim() === '') this.append({ kind: 'empty', text: line });
      else {
        const m = RULE.exec(line);
        if (!m) throw new ModuleError('E_PAMD_PARSE', `cannot read the PAM rule: ${line}`);
        this.append(ruleNode(new Rule(m[1]!, m[2]!, m[3]!, m[4]!)));
      }
    }
  }

  private append(n: Node): void {
    if (!this.tail) this.head = this.tail = n;
    else {
      n.prev = this.tail;
      this.tail.next = n;
      this.tail = n;
    }
  }

  private *nodes(): Generator<Node> {
    for (let n = this.head; n; n = n.next) yield n;
  }

  get(type: string, control: string, path: string): Node[] {
    return [...this.nodes()].filter((n) => n.rule?.matches(type, control, path));
  }

  remove(type: string, control: string, path: string): number {
    let changes = 0;
    for (const n of this.get(type, control, path)) {
      if (n.prev) {
        n.prev.next = n.next;
        if (n.next) n.next.prev = n.prev;
      } else {
        this.head = n.next;
        if (n.next) n.next.prev = undefined;
      }
      changes++;
    }
    return changes;
  }

  update(a: PamdArgs): number {
    const newArgs = a.module_arguments === undefined ? undefined : parseArguments(a.module_arguments);
    let changes = 0;
    for (const { rule } of this.get(a.type, a.control, a.module_path)) {
      const r = rule!;
      let changed = false;
      if (a.new_type && r.type !== a.new_type) [r.type, changed] = [a.new_type, true];
      if (a.new_control && r.control !== a.new_control) [r.control, changed] = [a.new_control, true];
      if (a.new_module_path && r.path !== a.new_module_path) [r.path, changed] = [a.new_module_path, true];
      if (newArgs !== undefined && r.args.join('\0') !== newArgs.join('\0')) [r.args, changed] = [parseArguments(newArgs), true];
      if (changed) changes++;
    }
    return changes;
  }

  insertBefore(a: PamdArgs): number {
    let changes = 0;
    for (const current of this.get(a.type, a.control, a.module_path)) {
      const added = ruleNode(new Rule(a.new_type!, a.new_control!, a.new_module_path!, a.module_arguments));
      let previous = current.prev;
      while (previous && (previous.kind === 'comment' || previous.kind === 'empty')) previous = previous.prev;
      if (previous && !previous.rule?.matches(a.new_type, a.new_control, a.new_module_path)) {
        // Linked to the previous rule: the comments between them are dropped (Ansible's own behaviour).
        previous.next = added;
        added.prev = previous;
        added.next = current;
        current.prev = added;
        changes++;
      } else if (!previous) {
        if (!current.prev) this.head = added;
        else current.prev.next = added;
        added.prev = current.prev;
        added.next = current;
        current.prev = added;
        changes++;
      }
    }
    return changes;
  }

  insertAfter(a: PamdArgs): number {
    let changes = 0;
    for (const current of this.get(a.type, a.control, a.module_path)) {
      let next = current.next;
      while (next && (next.kind === 'comment' || next.kind === 'empty')) next = next.next;
      const added = ruleNode(new Rule(a.new_type!, a.new_control!, a.new_module_path!, a.module_arguments));
      if (next && !next.rule?.matches(a.new_type, a.new_control, a.new_module_path)) {
        next.prev = added;
        added.next = next;
        added.prev = current;
        current.next = added;
        changes++;
      } else if (!next) {
        added.prev = this.tail;
        this.tail!.next = added;
        this.tail = added;
        current.next = added;
        changes++;
      }
    }
    return changes;
  }

  addArguments(a: PamdArgs): number {
    const wanted = parseArguments(a.module_arguments);
    let changes = 0;
    for (const { rule } of this.get(a.type, a.control, a.module_path)) {
      const r = rule!;
      const split = (list: string[]): { simple: Set<string>; kv: Map<string, string> } => {
        const simple = new Set<string>();
        const kv = new Map<string, string>();
        for (const arg of list) {
          if (arg.startsWith('[')) continue;
          if (arg.includes('=')) {
            const [k = '', v = ''] = arg.split('=');
            kv.set(k, v);
          } else simple.add(arg);
        }
        return { simple, kv };
      };
      const want = split(wanted);
      const have = split(r.args);
      const add = [...want.simple].filter((s) => !have.simple.has(s)).concat([...want.kv.keys()].filter((k) => !have.kv.has(k)).map((k) => `${k}=${want.kv.get(k)!}`));
      let changed = false;
      if (add.length > 0) {
        r.args = [...r.args, ...add];
        changed = true;
      }
      for (const [k, v] of want.kv) {
        const old = have.kv.get(k);
        if (old !== undefined && old !== v) {
          r.args[r.args.indexOf(`${k}=${old}`)] = `${k}=${v}`;
          changed = true;
        }
      }
      if (changed) changes++;
    }
    return changes;
  }

  removeArguments(a: PamdArgs): number {
    const unwanted = parseArguments(a.module_arguments);
    let changes = 0;
    for (const { rule } of this.get(a.type, a.control, a.module_path)) {
      if (!rule!.args.some((x) => unwanted.includes(x))) continue;
      rule!.args = rule!.args.filter((x) => !unwanted.includes(x));
      changes++;
    }
    return changes;
  }

  problem(): string | undefined {
    for (const n of this.nodes()) {
      const p = n.rule?.problem();
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /** The file Ansible writes: `# Updated by Ansible - TIME` as the second line (replacing an earlier one). */
  text(mark: string): string {
    const lines = [...this.nodes()].map((n) => (n.rule ? n.rule.toString() : n.text));
    if (lines.length <= 1) lines.unshift('', mark);
    else if (lines[1]!.startsWith('# Updated by Ansible')) lines[1] = mark;
    else lines.splice(1, 0, mark);
    return `${lines.join('\n')}\n`;
  }
}

function ruleNode(rule: Rule): Node {
  return { kind: 'rule', text: '', rule };
}

export interface PamdFacts {
  file: string;
  text: string;
  pid: number;
  now: number;
}

/** The changes Ansible's state makes, the new text, or the validation problem. */
export function editPamd(args: PamdArgs, text: string, now: number): { changes: number; after: string } {
  const service = new PamdService(text);
  if (args.state === 'args_present' && parseArguments(args.module_arguments).some((a) => a.startsWith('['))) {
    throw new ModuleError('E_PAMD_ARGS', "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'.");
  }
  const changes = {
    updated: () => service.update(args),
    before: () => service.insertBefore(args),
    after: () => service.insertAfter(args),
    args_absent: () => service.removeArguments(args),
    args_present: () => service.addArguments(args),
    absent: () => service.remove(args.type, args.control, args.module_path),
  }[args.state]();
  const problem = service.problem();
  if (problem !== undefined) throw new ModuleError('E_PAMD_INVALID', problem);
  // Python's datetime.now().isoformat(), in UTC.
  const mark = `# Updated by Ansible - ${new Date(now).toISOString().replace('Z', '000')}`;
  return { changes, after: service.text(mark) };
}

const READ = 'f=$1; printf "%s %s\\n" "$$" "$(date +%s%3N)"; r=$(readlink -f -- "$f") || r=$f; printf "%s\\n" "$r"; base64 -w0 < "$f"';

export const pamdModule = plannedModule(spec, {
  kind: 'planned',
  name: 'pamd',
  where: 'host',
  async gather(args, ctx): Promise<PamdFacts> {
    const file = `${args.path.replace(/\/+$/, '')}/${args.name}`;
    const res = await ctx.exec(['sh', '-c', READ, 'sh', file]);
    if (res.rc !== 0) throw new ModuleError('E_PAMD_READ', `Unable to open/read PAM module file ${file} with error ${res.stderr.trim()}.`);
    const [head = '', real = file, body = ''] = res.stdout.split('\n');
    const [pid = 0, now = 0] = head.split(' ').map(Number);
    return { file: real, text: Buffer.from(body, 'base64').toString('utf8'), pid, now };
  },
  plan(args, facts): Change[] {
    const { changes, after } = editPamd(args, facts.text, facts.now);
    if (changes === 0) return [];
    const steps: Step[] = [];
    if (args.backup) steps.push(backupStep(facts.file, backupName(facts.file, facts.pid, Math.floor(facts.now / 1000))));
    // Ansible writes through a link to the file it points to (atomic_move to realpath).
    steps.push({ kind: 'write', path: facts.file, content: after });
    return [{ summary: `${args.state} ${args.type} ${args.control} ${args.module_path} in ${facts.file}`, diff: { path: facts.file, before: facts.text, after }, steps }];
  },
  report(args, facts) {
    return { change_count: editPamd(args, facts.text, facts.now).changes, backupdest: '' };
  },
});
