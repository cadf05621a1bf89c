import { ModuleError } from '../errors.js';
import { backupPathOf, type HostFileFacts } from './file-common.js';
import { checkValidateArg } from './copy.js';
import { editableFile, gatherTextFile, planTextEdit, textEditNoop } from './text-edit.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type Options, type SpecProblem } from './spec/types.js';
import type { Change } from './types.js';

/**
 * ansible.builtin.lineinfile, with Ansible's own semantics (modules/lineinfile.py present()/absent()) ported
 * line for line. Lines are handled as byte strings (latin1 strings of the file's raw bytes), as Python's
 * bytes regexes do, so non-UTF-8 files survive untouched.
 */
const options = {
  path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'], pattern: '\\S', patternText: 'a non-empty path', description: 'The file to modify.' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the line should be there.' },
  regexp: { type: 'str', aliases: ['regex'], description: 'Python-style regular expression looked for in every line.' },
  search_string: { type: 'str', description: 'Literal string looked for in every line.' },
  line: { type: 'str', aliases: ['value'], description: 'The line to insert or replace.' },
  insertafter: { type: 'str', description: "Regex, 'EOF' (default) or 'BOF': where a new line goes when nothing matched." },
  insertbefore: { type: 'str', description: "Regex or 'BOF': where a new line goes when nothing matched." },
  backrefs: { type: 'bool', default: false, description: 'Expand \\1 / \\g<name> from regexp in line; never add a line when regexp does not match.' },
  create: { type: 'bool', default: false, description: 'Create the file when it is missing (false: the task fails).' },
  backup: { type: 'bool', default: false, description: 'Keep the old file as PATH.PID.YYYY-mm-dd@HH:MM:SS~ before changing it.' },
  firstmatch: { type: 'bool', default: false, description: 'Use the first match of regexp/insertafter/insertbefore instead of the last.' },
  validate: { type: 'str', pattern: '\\S', patternText: 'a command', description: 'Command run on the new file before it replaces the old one; %s is the temp file.' },
  mode: { type: 'mode', description: "Permissions as a quoted octal string ('0644') or symbolic ('u=rw,go=r'). An unquoted 0644 is octal, as in Ansible; a decimal integer (644) is refused." },
  owner: { type: 'str', pattern: '\\S', patternText: 'a user name or uid', description: 'User name or uid that should own the file.' },
  group: { type: 'str', pattern: '\\S', patternText: 'a group name or gid', description: 'Group name or gid that should own the file.' },
} as const satisfies Options;

const spec = defineSpec({
  description: 'Make sure one line is in a file (or is not), replacing the line a regexp matches, as Ansible does.',
  options,
  // Ansible's own declarations (a `backrefs: false` beside search_string counts as given, as in Ansible).
  mutually_exclusive: [
    ['insertbefore', 'insertafter'],
    ['regexp', 'search_string'],
    ['backrefs', 'search_string'],
  ],
  check: checkLineinfileArgs,
});

/**
 * ansible.builtin.lineinfile, with Ansible's own semantics (modules/lineinfile.py present()/absent()) ported
 * line for line. Lines are handled as byte strings (latin1 strings of the file's raw bytes), as Python's
 * bytes regexes do, so non-UTF-8 files survive untouched.
 */
export type LineinfileArgs = ArgsOf<typeof options>;

/** What the edit itself reads. */
type EditArgs = Pick<LineinfileArgs, 'state' | 'regexp' | 'search_string' | 'line' | 'insertafter' | 'insertbefore' | 'backrefs' | 'firstmatch'>;

/** The checks lineinfile.py makes in main() after AnsibleModule's own, with its messages; and regexes that compile. */
function checkLineinfileArgs(a: LineinfileArgs): SpecProblem | undefined {
  if (a.state === 'present') {
    if (a.backrefs && a.regexp === undefined) return { param: 'backrefs', message: 'regexp is required with backrefs=true' };
    if (a.line === undefined) return { param: 'state', message: 'line is required with state=present', hint: 'add `line: …`, or say state: absent' };
  } else if (a.regexp === undefined && a.search_string === undefined && a.line === undefined) {
    return { param: 'state', message: 'one of line, search_string, or regexp is required with state=absent' };
  }
  if (a.validate !== undefined) {
    const problem = checkValidateArg(a.validate);
    if (problem) return problem;
  }
  for (const name of ['regexp', 'insertafter', 'insertbefore'] as const) {
    const re = a[name];
    if (re === undefined || re === 'EOF' || re === 'BOF') continue;
    try {
      pyRegex(re);
    } catch (e) {
      return { param: name, message: `${name} is not a valid regular expression: ${(e as Error).message}` };
    }
  }
  return undefined;
}

/** What an unchanged file already is, in lineinfile's terms. */
function lineinfileNoop(args: LineinfileArgs): string {
  if (args.state === 'absent') return `has no line matching ${JSON.stringify(args.regexp ?? args.search_string ?? args.line)}`;
  if (args.backrefs) return `needs no change for regexp ${JSON.stringify(args.regexp)}`;
  return `has the line ${JSON.stringify(args.line)}`;
}

// ───────────────────────────── Python regex and bytes helpers ─────────────────────────────

/** UTF-8 text → the latin1 string of its bytes (our stand-in for Python bytes). */
export function toBin(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** Translate the Python-only regex syntax people write in playbooks into JavaScript's. */
export function pyRegex(pattern: string): RegExp {
  let flags = '';
  let src = pattern.replace(/^\(\?([aiLmsux]+)\)/, (_m, f: string) => {
    if (f.includes('i')) flags += 'i';
    if (f.includes('m')) flags += 'm';
    if (f.includes('s')) flags += 's';
    return '';
  });
  src = src
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(toBin(src), flags);
}

/** Python's re.search on a line that still has its '\n': `$` also matches before that final newline. */
function searchLine(re: RegExp, line: string): RegExpExecArray | null {
  return re.exec(line) ?? (line.endsWith('\n') ? re.exec(line.slice(0, -1)) : null);
}

/** Python's Match.expand: \1..\99, \g<n>, \g<name>, and the usual escapes; unmatched groups expand to ''. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    const g = /^g<([^>]+)>/.exec(template.slice(i + 1));
    if (g) {
      const key = g[1]!;
      const val = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
      if (/^\d+$/.test(key) ? Number(key) >= m.length : !(m.groups && key in m.groups)) {
        throw new ModuleError('E_LINEINFILE_BACKREF', `invalid group reference \\g<${key}> in line`);
      }
      out += val ?? '';
      i += g[0].length;
    } else if (/\d/.test(next)) {
      const d = /^\d{1,2}/.exec(template.slice(i + 1))![0];
      if (Number(d) >= m.length) throw new ModuleError('E_LINEINFILE_BACKREF', `invalid group reference \\${d} in line`);
      out += m[Number(d)] ?? '';
      i += d.length;
    } else if (next in escapes) {
      out += escapes[next];
      i += 1;
    } else {
      out += `\\${next}`;
      i += 1;
    }
  }
  return out;
}

/** Python's bytes.readlines(): split after every '\n', keeping it. */
export function readLines(content: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] === '\n') {
      out.push(content.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < content.length) out.push(content.slice(start));
  return out;
}

const rstripNl = (s: string): string => s.replace(/[\r\n]+$/, '');

// ───────────────────────────── the edit itself (pure) ─────────────────────────────

export interface LineEdit {
  lines: string[];
  changed: boolean;
  msg: string;
  /** absent: how many lines were removed. */
  found?: number;
}

/** lineinfile present(): returns the new lines (byte strings) and Ansible's msg. */
export function presentEdit(input: readonly string[], a: EditArgs): LineEdit {
  const lines = [...input];
  const line = toBin(a.line ?? '');
  const sep = '\n';
  let insertafter = a.insertafter;
  const insertbefore = a.insertbefore;
  if (insertafter === undefined && insertbefore === undefined) insertafter = 'EOF';
  const reM = a.regexp !== undefined ? pyRegex(a.regexp) : undefined;
  let reIns: RegExp | undefined;
  if (insertafter !== undefined && insertafter !== 'BOF' && insertafter !== 'EOF') reIns = pyRegex(insertafter);
  else if (insertbefore !== undefined && insertbefore !== 'BOF') reIns = pyRegex(insertbefore);

  const index = [-1, -1];
  let match: RegExpExecArray | boolean | null = null;

  if (reM) {
    for (let i = 0; i < lines.length; i++) {
      const m = searchLine(reM, lines[i]!);
      if (m) {
        index[0] = i;
        match = m;
        if (a.firstmatch) break;
      }
    }
  }
  if (a.search_string !== undefined) {
    const needle = toBin(a.search_string);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.includes(needle)) {
        index[0] = i;
        match = true;
        if (a.firstmatch) break;
      }
    }
  }
  if (!match) {
    for (let i = 0; i < lines.length; i++) {
      const cur = lines[i]!;
      if (line === rstripNl(cur)) {
        index[0] = i;
      } else if (reIns && searchLine(reIns, cur)) {
        if (insertafter !== undefined) {
          index[1] = i + 1;
          if (a.firstmatch) break;
        }
        if (insertbefore !== undefined) {
          index[1] = i;
          if (a.firstmatch) break;
        }
      }
    }
  }

  let msg = '';
  let changed = false;
  const added = (): void => {
    msg = 'line added';
    changed = true;
  };
  if (index[0] !== -1) {
    let newLine = a.backrefs && match && typeof match !== 'boolean' ? expandTemplate(line, match) : line;
    if (!newLine.endsWith(sep)) newLine += sep;
    // (Ansible has an insert branch here for "no regexp, no match, no exact line"; index[0] is only ever set by a
    // match or an exact line, so it cannot run and is left out.)
    if (lines[index[0]!] !== newLine) {
      lines[index[0]!] = newLine;
      msg = 'line replaced';
      changed = true;
    }
  } else if (a.backrefs) {
    // Without a match the backrefs cannot be filled in, so nothing is written (Ansible does the same).
  } else if (insertbefore === 'BOF' || insertafter === 'BOF') {
    lines.unshift(line + sep);
    added();
  } else if (insertafter === 'EOF' || index[1] === -1) {
    if (lines.length > 0 && !/[\n\r]$/.test(lines[lines.length - 1]!)) lines.push(sep);
    lines.push(line + sep);
    added();
  } else if (insertafter !== undefined && index[1] !== -1) {
    const at = index[1]!;
    if (lines.length === at) {
      if (rstripNl(lines[at - 1]!) !== line) {
        lines.push(line + sep);
        added();
      }
    } else if (line !== rstripNl(lines[at]!)) {
      lines.splice(at, 0, line + sep);
      added();
    }
  } else {
    lines.splice(index[1]!, 0, line + sep);
    added();
  }
  return { lines, changed, msg };
}

/** lineinfile absent(): drop every matching line. */
export function absentEdit(input: readonly string[], a: EditArgs): LineEdit {
  const re = a.regexp !== undefined ? pyRegex(a.regexp) : undefined;
  const needle = a.search_string !== undefined ? toBin(a.search_string) : undefined;
  const line = toBin(a.line ?? '');
  let found = 0;
  const lines = input.filter((cur) => {
    const hit = re ? searchLine(re, cur) !== null : needle !== undefined ? cur.includes(needle) : line === rstripNl(cur);
    if (hit) found++;
    return !hit;
  });
  return { lines, changed: found > 0, msg: found > 0 ? `${found} line(s) removed` : '', found };
}

/** The whole file in (latin1 byte string), the whole file out. Exported for table tests. */
export function editContent(content: string, a: EditArgs): LineEdit {
  return a.state === 'present' ? presentEdit(readLines(content), a) : absentEdit(readLines(content), a);
}

// ───────────────────────────── module ─────────────────────────────

export const lineinfileModule = plannedModule(spec, {
  kind: 'planned',
  name: 'lineinfile',
  where: 'host',
  gather(args, ctx): Promise<HostFileFacts> {
    // The parent is only checked for existence (create: true makes it with mkdir -p).
    return gatherTextFile(ctx, args.path, args);
  },
  plan(args, facts) {
    return planLineinfile(args, facts);
  },
  noop: (args, facts) => textEditNoop(facts, lineinfileNoop(args)),
  report(args, facts) {
    const out: Record<string, unknown> = { backup: '' };
    try {
      for (const c of planLineinfile(args, facts)) {
        for (const s of c.steps) out['backup'] = backupPathOf(s) ?? out['backup'];
      }
      const p = facts.paths[0]!;
      if (args.state === 'absent' && p.content) out['found'] = absentEdit(readLines(p.content.toString('latin1')), args).found;
    } catch {
      // plan() reports the failure itself
    }
    return out;
  },
});

export function planLineinfile(args: LineinfileArgs, facts: HostFileFacts): Change[] {
  const p = editableFile(facts, 'lineinfile');
  // The probe expands `~`, so the gathered path is the one to act on.
  const a = { ...args, path: p.path };
  if (!p.exists) {
    if (a.state === 'absent') return [];
    if (!a.create) {
      throw new ModuleError('E_LINEINFILE_MISSING', `Destination ${a.path} does not exist !`, { hint: 'set create: true to make it' });
    }
  }
  const before = p.content ? p.content.toString('latin1') : '';
  const edit = a.state === 'present' ? presentEdit(readLines(before), a) : absentEdit(readLines(before), a);
  // Ansible's lineinfile has no `follow`: like the other edits it writes os.path.realpath(path).
  return planTextEdit(facts, args, edit.changed ? { after: edit.lines.join(''), msg: edit.msg } : undefined, {
    diffHeader: (path) => `${path} (content)`,
  });
}
