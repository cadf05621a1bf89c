import { ModuleError } from '../errors.js';
import type { HostFileFacts } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import { backupFileOf, editableFile, fileAttributeOptions, gatherTextFile, isPythonRegex, planTextEdit, pythonRegex, textEditNoop } from './text-edit.js';

/** ansible.builtin.blockinfile: a block of lines between two marker lines, inserted, updated or removed. */
const spec = defineSpec({
  description: 'Insert, update or remove a block of lines between marker lines (# BEGIN/END ANSIBLE MANAGED BLOCK) in a file.',
  options: {
    path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'], pattern: '\\S', patternText: 'a non-empty path', description: 'The file to modify.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the block should be there.' },
    block: { type: 'str', default: '', aliases: ['content'], description: 'The lines between the markers; empty removes the block.' },
    marker: { type: 'str', default: '# {mark} ANSIBLE MANAGED BLOCK', description: 'The marker line template; {mark} becomes marker_begin or marker_end.' },
    marker_begin: { type: 'str', default: 'BEGIN', description: '{mark} of the first marker.' },
    marker_end: { type: 'str', default: 'END', description: '{mark} of the last marker.' },
    insertafter: { type: 'str', description: "Where a new block goes: after the last line matching this expression, or 'EOF' (default)." },
    insertbefore: { type: 'str', description: "Where a new block goes: before the last line matching this expression, or 'BOF'." },
    create: { type: 'bool', default: false, description: 'Create the file when it is missing.' },
    backup: { type: 'bool', default: false, description: 'Keep the old file as PATH.PID.YYYY-mm-dd@HH:MM:SS~ before changing it.' },
    validate: { type: 'str', description: 'Command run on the new file before it replaces the old one; %s is the temp file.' },
    ...fileAttributeOptions,
  },
  mutually_exclusive: [['insertbefore', 'insertafter']],
  check(args) {
    for (const name of ['insertafter', 'insertbefore'] as const) {
      const value = args[name];
      if (value !== undefined && value !== 'EOF' && value !== 'BOF' && !isPythonRegex(value)) return { param: name, message: `\`${value}\` is not a valid regular expression` };
    }
    return undefined;
  },
});

type BlockinfileArgs = ArgsOf<typeof spec.options>;

/** Python's bytes.splitlines(keepends=True): \n, \r\n and \r end a line. */
function splitLinesKeep(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** UTF-8 text as the latin1 byte string the file content is handled as. */
const bytesOf = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** Ansible's blockinfile on the file's bytes (latin1 string; undefined when it does not exist). */
export function blockinfileText(args: BlockinfileArgs, original: string | undefined): { after: string; msg: string } {
  const lines = original === undefined ? [] : splitLinesKeep(original);
  let insertafter = args.insertafter;
  const insertbefore = args.insertbefore;
  if (insertbefore === undefined && insertafter === undefined) insertafter = 'EOF';
  const insertPattern = insertafter !== undefined && insertafter !== 'EOF' ? insertafter : insertbefore !== undefined && insertbefore !== 'BOF' ? insertbefore : undefined;
  const marker = bytesOf(args.marker);
  const marker0 = `${marker.replaceAll('{mark}', bytesOf(args.marker_begin))}\n`;
  const marker1 = `${marker.replaceAll('{mark}', bytesOf(args.marker_end))}\n`;
  let block = bytesOf(args.block);
  let blocklines: string[] = [];
  if (args.state === 'present' && block !== '') {
    if (!block.endsWith('\n')) block += '\n';
    blocklines = [marker0, ...splitLinesKeep(block), marker1];
  }
  let n0: number | undefined;
  let n1: number | undefined;
  lines.forEach((line, i) => {
    if (line === marker0) n0 = i;
    if (line === marker1) n1 = i;
  });
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertPattern !== undefined) {
      const multiline = /^\(\?[aiLsux]*m/.test(insertPattern);
      const re = pythonRegex(bytesOf(insertPattern), '');
      if (multiline && original !== undefined) {
        const m = re.exec(original);
        if (m) n0 = (original.slice(0, insertafter !== undefined ? m.index + m[0].length : m.index).match(/\n/g) ?? []).length;
      } else {
        // Python's `$` also matches before the line's own final newline.
        lines.forEach((line, i) => {
          if (re.test(line) || (line.endsWith('\n') && re.test(line.slice(0, -1)))) n0 = i;
        });
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertafter !== undefined) n0 += 1;
    } else if (insertbefore !== undefined) n0 = 0;
    else n0 = lines.length;
  } else if (n0 < n1) {
    lines.splice(n0, n1 + 1 - n0);
  } else {
    lines.splice(n1, n0 + 1 - n1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blocklines);
  const after = lines.join('');
  const msg = original === after ? '' : original === undefined ? 'File created' : blocklines.length === 0 ? 'Block removed' : 'Block inserted';
  return { after, msg };
}

export const blockinfileModule = plannedModule(spec, {
  kind: 'planned',
  name: 'blockinfile',
  where: 'host',
  gather: (args, ctx): Promise<HostFileFacts> => gatherTextFile(ctx, args.path, args),
  plan(args, facts) {
    const p = editableFile(facts, 'blockinfile');
    if (!p.exists) {
      if (args.state === 'absent') return [];
      if (!args.create) throw new ModuleError('E_BLOCKINFILE_MISSING', `Path ${p.path} does not exist !`, { hint: 'set create: true to make it' });
    }
    const result = blockinfileText(args, p.exists ? (p.content?.toString('latin1') ?? '') : undefined);
    return planTextEdit(facts, args, result.msg === '' ? undefined : result);
  },
  noop: (args, facts) => textEditNoop(facts, args.state === 'present' && args.block !== '' ? 'has the block between its markers' : 'has no block between its markers'),
  report(args, facts) {
    const p = facts.paths[0]!;
    if (!p.exists && args.state === 'absent') return { msg: `File ${p.path} not present` };
    const result = p.exists || args.create ? blockinfileText(args, p.exists ? (p.content?.toString('latin1') ?? '') : undefined) : { msg: '' };
    const backup = 'after' in result && result.msg !== '' ? backupFileOf(planTextEdit(facts, args, result)) : undefined;
    return { msg: result.msg, ...(backup !== undefined ? { backup_file: backup } : {}) };
  },
});
