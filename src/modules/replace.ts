import { ModuleError } from '../errors.js';
import { expandTemplate } from './lineinfile.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import {
  backupFileOf,
  decodeContent,
  editableFile,
  encodeContent,
  fileAttributeOptions,
  gatherTextFile,
  isPythonRegex,
  planTextEdit,
  pythonRegex,
  supportedEncodings,
  textEditNoop,
  type TextEdit,
} from './text-edit.js';
import type { HostFileFacts } from './file-common.js';

/** ansible.builtin.replace: every match of a regular expression in a file replaced, optionally between after/before. */
const spec = defineSpec({
  description: 'Replace every match of a regular expression in a file (Python syntax, multiline), optionally only between `after` and `before`.',
  options: {
    path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'], pattern: '\\S', patternText: 'a non-empty path', description: 'The file to modify.' },
    regexp: { type: 'str', required: true, description: 'Regular expression (Python re, MULTILINE) to look for.' },
    replace: { type: 'str', default: '', description: 'The replacement; \\1, \\g<1> and \\g<name> insert groups.' },
    after: { type: 'str', description: 'Only replace after the first match of this expression (DOTALL).' },
    before: { type: 'str', description: 'Only replace before the first match of this expression (DOTALL).' },
    backup: { type: 'bool', default: false, description: 'Keep the old file as PATH.PID.YYYY-mm-dd@HH:MM:SS~ before changing it.' },
    validate: { type: 'str', description: 'Command run on the new file before it replaces the old one; %s is the temp file.' },
    encoding: { type: 'str', default: 'utf-8', choices: supportedEncodings, description: 'How the file is read and written (utf-8 or latin-1).' },
    ...fileAttributeOptions,
  },
  check(args) {
    for (const name of ['regexp', 'after', 'before'] as const) {
      const value = args[name];
      if (value !== undefined && !isPythonRegex(value)) return { param: name, message: `\`${value}\` is not a valid regular expression` };
    }
    return undefined;
  },
});

type ReplaceArgs = ArgsOf<typeof spec.options>;

/** The section the replacement applies to (Ansible's after/before pattern), or undefined when it does not match. */
function sectionOf(args: ReplaceArgs, text: string): { start: number; end: number; pattern: string } | undefined | 'whole' {
  const pattern =
    args.after && args.before ? `${args.after}(?P<subsection>.*?)${args.before}` : args.after ? `${args.after}(?P<subsection>.*)` : args.before ? `(?P<subsection>.*)${args.before}` : '';
  if (pattern === '') return 'whole';
  const m = pythonRegex(pattern, 'sdu').exec(text);
  const span = m?.indices?.groups?.['subsection'];
  return span ? { start: span[0], end: span[1], pattern } : undefined;
}

/** Ansible's replace on text: the new content and its message, or a message alone when nothing changes. */
export function replaceText(args: ReplaceArgs, text: string): { after?: string; msg: string } {
  const section = sectionOf(args, text);
  if (section === undefined) {
    const pattern = args.after && args.before ? `${args.after}(?P<subsection>.*?)${args.before}` : args.after ? `${args.after}(?P<subsection>.*)` : `(?P<subsection>.*)${args.before}`;
    return { msg: `Pattern for before/after params did not match the given file: ${pattern}` };
  }
  const [start, end] = section === 'whole' ? [0, text.length] : [section.start, section.end];
  const part = text.slice(start, end);
  let count = 0;
  const replaced = part.replace(pythonRegex(args.regexp, 'gmu'), (...found: unknown[]) => {
    count++;
    const named = typeof found[found.length - 1] === 'object' ? (found.pop() as Record<string, string | undefined>) : undefined;
    found.pop(); // the whole string
    const index = found.pop() as number;
    const m = Object.assign(found.map((x) => x as string | undefined), { index, input: part, groups: named }) as unknown as RegExpExecArray;
    return expandTemplate(args.replace, m);
  });
  if (count === 0 || replaced === part) return { msg: '' };
  return { after: text.slice(0, start) + replaced + text.slice(end), msg: `${count} replacements made` };
}

export const replaceModule = plannedModule(spec, {
  kind: 'planned',
  name: 'replace',
  where: 'host',
  gather: (args, ctx): Promise<HostFileFacts> => gatherTextFile(ctx, args.path, args),
  plan(args, facts) {
    const p = editableFile(facts, 'replace');
    if (!p.exists) throw new ModuleError('E_REPLACE_MISSING', `Path ${p.path} does not exist !`, { hint: 'replace edits an existing file; create it first (copy, or lineinfile with create: true)' });
    const result = replaceText(args, decodeContent(p.content, args.encoding));
    const edit: TextEdit | undefined = result.after !== undefined ? { after: encodeContent(result.after, args.encoding), msg: result.msg } : undefined;
    return planTextEdit(facts, args, edit);
  },
  noop: (args, facts) => textEditNoop(facts, `needs no replacement of ${JSON.stringify(args.regexp)}`),
  report(args, facts) {
    const p = facts.paths[0]!;
    const out: Record<string, unknown> = { rc: 0, msg: '' };
    if (p.exists && p.content !== undefined) {
      const result = replaceText(args, decodeContent(p.content, args.encoding));
      out['msg'] = result.msg;
      const backup = backupFileOf(planTextEdit(facts, args, result.after !== undefined ? { after: encodeContent(result.after, args.encoding), msg: result.msg } : undefined));
      if (backup !== undefined) out['backup_file'] = backup;
    }
    return out;
  },
});
