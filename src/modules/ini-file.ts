import { ModuleError } from '../errors.js';
import type { HostFileFacts } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import { backupFileOf, editableFile, fileAttributeOptions, gatherTextFile, planTextEdit, textEditNoop } from './text-edit.js';

/** community.general.ini_file: one option (or a section) of an INI file, ported from the collection's do_ini(). */
const spec = defineSpec({
  description: 'Set, add or remove an option (or a whole section) in an INI file, keeping the rest of the file as it is.',
  options: {
    path: { type: 'path', required: true, aliases: ['dest'], pattern: '\\S', patternText: 'a non-empty path', description: 'The INI file (created when missing, unless create is false).' },
    section: { type: 'str', description: 'The section; omitted: options before the first section header.' },
    option: { type: 'str', description: 'The option; omitted with state absent: the whole section is removed.' },
    value: { type: 'str', description: 'The value of the option.' },
    values: { type: 'list', elements: 'str', description: 'Several values of the option, one line each.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the option (or section) should be there.' },
    exclusive: { type: 'bool', default: true, description: 'With values: remove other lines of the option.' },
    no_extra_spaces: { type: 'bool', default: false, description: 'Write `option=value` instead of `option = value`.' },
    allow_no_value: { type: 'bool', default: false, description: 'Allow an option without a value (a bare `option` line).' },
    create: { type: 'bool', default: true, description: 'Create the file when it is missing.' },
    backup: { type: 'bool', default: false, description: 'Keep the old file as PATH.PID.YYYY-mm-dd@HH:MM:SS~ before changing it.' },
    ...fileAttributeOptions,
  },
  mutually_exclusive: [['value', 'values']],
  check(args) {
    if (args.state === 'present' && !args.allow_no_value && args.value === undefined && (args.values ?? []).length === 0) {
      return { param: 'value', message: "Parameter 'value(s)' must be defined if state=present and allow_no_value=False." };
    }
    return undefined;
  },
});

type IniArgs = ArgsOf<typeof spec.options>;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The collection's match_opt (a commented-out option too) and match_active_opt, over a line with its newline. */
function matchOption(option: string, line: string, active = false): RegExpExecArray | null {
  return new RegExp(`^${active ? '' : '[#;]?'}( |\\t)*(${escapeRegExp(option)})( |\\t)*(=|$)( |\\t)*(.*)`, 'm').exec(line);
}

const FAKE_SECTION = 'ad01e11446efb704fcdbdb21f2c43757423d91c5';

/** do_ini() on the file's text (undefined when it does not exist): the new text and Ansible's message. */
export function iniText(args: IniArgs, original: string | undefined): { after: string; msg: string; changed: boolean } {
  const values: string[] = [];
  for (const v of args.value !== undefined ? [args.value] : (args.values ?? [])) if (!values.includes(v)) values.push(v);
  // Python reads the file in text mode: a BOM dropped (utf-8-sig), \r\n and \r read as \n.
  const text = (original ?? '').replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines: string[] = [...(text.match(/[^\n]*\n|[^\n]+$/g) ?? [])];
  let changed = false;
  if (lines.length === 0) lines.push('\n');
  if (!lines[lines.length - 1]!.endsWith('\n')) {
    lines[lines.length - 1] += '\n';
    changed = true;
  }
  lines.unshift(`[${FAKE_SECTION}]`);
  lines.push('[');
  const section = args.section ? args.section : FAKE_SECTION;
  let withinSection = !section;
  let sectionStart = 0;
  let sectionEnd = 0;
  let msg = 'OK';
  const assignment = (o: string, v: string): string => (args.no_extra_spaces ? `${o}=${v}\n` : `${o} = ${v}\n`);
  const option = args.option;
  let noValuePresent = false;
  for (const [index, line] of lines.entries()) {
    if (line.startsWith(`[${section}]`)) {
      withinSection = true;
      sectionStart = index;
    } else if (line.startsWith('[') && withinSection) {
      sectionEnd = index;
      break;
    }
  }
  const before = lines.slice(0, sectionStart);
  let sectionLines = lines.slice(sectionStart, sectionEnd);
  const after = lines.slice(sectionEnd);
  let changedLines = sectionLines.map(() => false);
  const update = (index: number, newline: string): void => {
    if (sectionLines[index] !== newline) {
      changed = true;
      msg = 'option changed';
    }
    sectionLines[index] = newline;
    changedLines[index] = true;
  };
  if (args.state === 'present' && option) {
    for (const [index, line] of sectionLines.entries()) {
      const m = matchOption(option, line);
      if (!m) continue;
      const matched = m[6]!;
      if (values.length > 0 && values.includes(matched)) {
        if (!matched && args.allow_no_value) {
          update(index, `${option}\n`);
          noValuePresent = true;
        } else update(index, assignment(option, matched));
        values.splice(values.indexOf(matched), 1);
      } else if (values.length === 0 && args.allow_no_value) {
        update(index, `${option}\n`);
        noValuePresent = true;
        break;
      }
    }
  }
  if (args.state === 'present' && args.exclusive && !args.allow_no_value && option) {
    if (values.length > 0) {
      for (const [index, line] of sectionLines.entries()) {
        if (!changedLines[index] && matchOption(option, line)) {
          update(index, assignment(option, values.shift()!));
          if (values.length === 0) break;
        }
      }
    }
    for (let index = sectionLines.length - 1; index > 0; index--) {
      if (!changedLines[index] && matchOption(option, sectionLines[index]!)) {
        sectionLines.splice(index, 1);
        changedLines.splice(index, 1);
        changed = true;
        msg = 'option changed';
      }
    }
  }
  if (args.state === 'present') {
    for (let index = sectionLines.length; index > 0; index--) {
      if (!/^[ \t]*([#;].*)?$/m.test(sectionLines[index - 1]!.replace(/\n$/, ''))) {
        if (option && values.length > 0) {
          sectionLines.splice(index, 0, ...values.map((v) => assignment(option, v)));
          msg = 'option added';
          changed = true;
        } else if (option && values.length === 0 && args.allow_no_value && !noValuePresent) {
          sectionLines.splice(index, 0, `${option}\n`);
          msg = 'option added';
          changed = true;
        }
        break;
      }
    }
  }
  if (args.state === 'absent') {
    if (option) {
      const kept = args.exclusive
        ? sectionLines.filter((l) => !matchOption(option, l, true))
        : values.length > 0
          ? sectionLines.filter((l) => !values.includes(matchOption(option, l, true)?.[6] ?? '\0none'))
          : sectionLines;
      if (kept.length !== sectionLines.length) {
        changed = true;
        msg = 'option changed';
        sectionLines = kept;
        changedLines = kept.map(() => false);
      }
    } else if (sectionLines.length > 0) {
      sectionLines = [];
      msg = 'section removed';
      changed = true;
    }
  }
  const out = [...before, ...sectionLines, ...after].slice(1, -1);
  if (!withinSection && args.state === 'present') {
    out.push(`[${section}]\n`);
    msg = 'section and option added';
    if (option && values.length > 0) out.push(...values.map((v) => assignment(option, v)));
    else if (option && values.length === 0 && args.allow_no_value) out.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  return { after: out.join(''), msg, changed };
}

function bytesToText(content: Uint8Array | undefined): string {
  return Buffer.from(content ?? new Uint8Array()).toString('utf8');
}

function editOf(args: IniArgs, facts: HostFileFacts): { after: string; msg: string; changed: boolean } {
  const p = facts.paths[0]!;
  return iniText(args, p.exists ? bytesToText(p.content) : undefined);
}

/** What an unchanged INI file already has, in ini_file's terms. */
function iniNoop(args: IniArgs): string {
  const section = args.section === undefined ? 'before the first section' : `in [${args.section}]`;
  if (args.option === undefined) return args.state === 'present' ? `has the section [${args.section ?? ''}]` : `has no section [${args.section ?? ''}]`;
  return args.state === 'present' ? `has ${args.option} ${section} as asked` : `has no ${args.option} ${section}`;
}

export const iniFileModule = plannedModule(spec, {
  kind: 'planned',
  name: 'ini_file',
  where: 'host',
  gather: (args, ctx): Promise<HostFileFacts> => gatherTextFile(ctx, args.path, args),
  plan(args, facts) {
    const p = editableFile(facts, 'ini_file');
    if (!p.exists && !args.create) throw new ModuleError('E_INI_MISSING', `Destination ${p.path} does not exist!`, { hint: 'leave create at true to make it' });
    const edit = editOf(args, facts);
    return planTextEdit(facts, args, edit.changed ? { after: Buffer.from(edit.after, 'utf8').toString('latin1'), msg: edit.msg } : undefined, { sayAttributes: false });
  },
  noop: (args, facts) => textEditNoop(facts, iniNoop(args)),
  report(args, facts) {
    const edit = editOf(args, facts);
    const changes = edit.changed ? planTextEdit(facts, args, { after: Buffer.from(edit.after, 'utf8').toString('latin1'), msg: edit.msg }, { sayAttributes: false }) : [];
    const backup = backupFileOf(changes);
    return { msg: edit.msg, path: args.path, ...(backup !== undefined ? { backup_file: backup } : {}) };
  },
});
