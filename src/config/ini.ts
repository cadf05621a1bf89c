import { ErrorList, formatExcerpt, UsageError, type SourcePos } from '../errors.js';

/**
 * An INI file read the way Python's configparser reads ansible.cfg (Ansible: `ConfigParser(inline_comment_prefixes=
 * (';',))`, values fetched raw): `[section]` headers, `key = value` or `key: value` (first `=` or `:`), keys
 * lower-cased, whole-line `#`/`;` comments, inline `;` comments after whitespace, continuation lines (indented deeper
 * than their key) joined with newlines, `[DEFAULT]` supplying every section's missing keys. A duplicate section or
 * key, a line outside any section and a line with no delimiter are errors, as they are for configparser.
 */
export interface IniEntry {
  value: string;
  pos: SourcePos;
}

export interface IniFile {
  file: string;
  text: string;
  sections: Map<string, Map<string, IniEntry>>;
}

/** The value of `key` in `section` (or in [DEFAULT]), as configparser's get(section, key, raw=True) gives it. */
export function iniValue(ini: IniFile, section: string, key: string): IniEntry | undefined {
  const own = ini.sections.get(section);
  if (!own) return undefined;
  return own.get(key) ?? ini.sections.get('DEFAULT')?.get(key);
}

const SECTION_HEADER = /^\[(.+)\]/;
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;

export function parseIni(file: string, text: string): IniFile {
  const sections = new Map<string, Map<string, IniEntry>>();
  const problems: UsageError[] = [];
  const lines = text.split(/\r?\n/);
  let current: Map<string, IniEntry> | undefined;
  /** The option whose value continuation lines extend, with the lines gathered so far. */
  let open: { key: string; lines: string[]; indent: number } | undefined;
  const close = (): void => {
    if (!open || !current) return;
    const entry = current.get(open.key)!;
    current.set(open.key, { ...entry, value: open.lines.join('\n').replace(/\n+$/, '') });
  };
  const error = (line: number, col: number, message: string, hint: string): void => {
    problems.push(
      new UsageError('E_CONFIG_SYNTAX', message, { pos: { file, line, col }, excerpt: formatExcerpt(text, line, col), hint }),
    );
  };
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const trimmed = raw.trim();
    const fullComment = trimmed.startsWith('#') || trimmed.startsWith(';');
    const value = fullComment ? '' : stripInlineComment(raw).trim();
    if (value === '') {
      // configparser keeps blank lines inside a multi-line value (dropped again at its end); comments end nothing.
      if (!fullComment && open) open.lines.push('');
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    if (open && indent > open.indent) {
      open.lines.push(value);
      return;
    }
    close();
    open = undefined;
    const header = SECTION_HEADER.exec(value);
    if (header) {
      const name = header[1]!;
      if (sections.has(name) && name !== 'DEFAULT') {
        error(lineNo, indent + 1, `section [${name}] appears twice`, 'configparser (and so Ansible) refuses a repeated section: merge the two');
        current = sections.get(name);
        return;
      }
      current = sections.get(name) ?? new Map<string, IniEntry>();
      sections.set(name, current);
      return;
    }
    if (!current) {
      error(lineNo, indent + 1, 'a setting before any [section] header', 'start the file with [defaults] (or the section the setting belongs to)');
      return;
    }
    const option = OPTION.exec(value);
    const key = option?.[1]?.trimEnd().toLowerCase() ?? '';
    if (!option || key === '') {
      error(lineNo, indent + 1, `\`${value}\` is not a setting`, 'write `key = value` (or `key: value`)');
      return;
    }
    if (current.has(key)) {
      error(lineNo, indent + 1, `\`${key}\` is set twice in this section`, 'configparser (and so Ansible) refuses a repeated key: keep one');
      return;
    }
    current.set(key, { value: option[3]!, pos: { file, line: lineNo, col: indent + 1 } });
    open = { key, lines: [option[3]!], indent };
  });
  close();
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new ErrorList(problems);
  return { file, text, sections };
}

/** configparser's inline comments: `;` preceded by whitespace starts one (`#` only at the start of a line). */
function stripInlineComment(line: string): string {
  const m = /\s;/.exec(line);
  return m ? line.slice(0, m.index) : line;
}
