/*
 * YAML text as PyYAML's yaml.dump writes it for Ansible's to_yaml and to_nice_yaml filters (AnsibleDumper,
 * allow_unicode=True): the same layout (sequences under a key are not indented, a sequence item's content starts
 * `indent` columns after its dash), the same choice of plain, 'single' or "double" quoting, so that a value such as
 * 'on', 'yes' or '2020-01-01' stays a string when the file is read back. Not reproduced: PyYAML folds lines longer
 * than 80 columns (the value read back is the same).
 */

export interface DumpOptions {
  indent: number;
  /** to_yaml (default_flow_style=None): collections holding only scalars are written inline, `[a, b]`, `{k: v}`. */
  flowLeaves: boolean;
  sortKeys: boolean;
}

/** A datetime or date, written as PyYAML's timestamp representer does (its str(), tagged !!timestamp). */
export class YamlTimestamp {
  constructor(readonly text: string) {}
}

type Plain = null | boolean | number | string | YamlTimestamp | Plain[] | { [k: string]: Plain };

/** The text of a value that is a list or a dict (other values: undefined, the caller's fallback writes them). */
export function dumpPyYaml(value: Plain, opts: DumpOptions): string | undefined {
  if (!isCollection(value)) return undefined;
  const lines: string[] = [];
  if (opts.flowLeaves && isLeaf(value)) return `${flow(value, opts)}\n`;
  if (Array.isArray(value)) sequence(value, 0, opts, lines);
  else mapping(value, 0, opts, lines);
  return `${lines.join('\n')}\n`;
}

function isCollection(v: Plain): v is Plain[] | { [k: string]: Plain } {
  return typeof v === 'object' && v !== null && !(v instanceof YamlTimestamp);
}

function isEmpty(v: Plain[] | { [k: string]: Plain }): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

/** A collection of scalars only: what default_flow_style=None writes inline. */
function isLeaf(v: Plain[] | { [k: string]: Plain }): boolean {
  return (Array.isArray(v) ? v : Object.values(v)).every((x) => !isCollection(x));
}

function entries(v: { [k: string]: Plain }, opts: DumpOptions): [string, Plain][] {
  const list = Object.entries(v);
  return opts.sortKeys ? list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : list;
}

/** What follows `key:` or `- ` on the same line, or undefined when the value starts on the next lines. */
function inline(v: Plain, col: number, opts: DumpOptions, context: 'block' | 'flow'): string | undefined {
  if (!isCollection(v)) return scalar(v, col + opts.indent, context);
  if (isEmpty(v)) return Array.isArray(v) ? '[]' : '{}';
  if (opts.flowLeaves && isLeaf(v)) return flow(v, opts);
  return undefined;
}

function mapping(map: { [k: string]: Plain }, col: number, opts: DumpOptions, out: string[]): void {
  const pad = ' '.repeat(col);
  for (const [k, v] of entries(map, opts)) {
    const key = `${pad}${scalar(k, col + opts.indent, 'block')}:`;
    const same = inline(v, col, opts, 'block');
    if (same !== undefined) out.push(`${key} ${same}`);
    else {
      out.push(key);
      // A sequence under a key is not indented (PyYAML's indentless sequences); a mapping is.
      if (Array.isArray(v)) sequence(v, col, opts, out);
      else mapping(v as { [k: string]: Plain }, col + opts.indent, opts, out);
    }
  }
}

function sequence(list: Plain[], col: number, opts: DumpOptions, out: string[]): void {
  const dash = `${' '.repeat(col)}-${' '.repeat(Math.max(1, opts.indent - 1))}`;
  for (const item of list) {
    const same = inline(item, col, opts, 'block');
    if (same !== undefined) {
      out.push(`${' '.repeat(col)}- ${same}`);
      continue;
    }
    const inner: string[] = [];
    const content = col + Math.max(2, opts.indent);
    if (Array.isArray(item)) sequence(item, content, opts, inner);
    else mapping(item as { [k: string]: Plain }, content, opts, inner);
    // The item's first line starts on the dash's line.
    inner[0] = dash + inner[0]!.slice(dash.length);
    out.push(...inner);
  }
}

function flow(v: Plain[] | { [k: string]: Plain }, opts: DumpOptions): string {
  if (Array.isArray(v)) return `[${v.map((x) => scalar(x, 0, 'flow')).join(', ')}]`;
  return `{${entries(v, opts).map(([k, x]) => `${scalar(k, 0, 'flow')}: ${scalar(x, 0, 'flow')}`).join(', ')}}`;
}

// ───────────────────────────── scalars ─────────────────────────────

/** YAML 1.1's implicit types (PyYAML's resolvers): a string that reads as one of these must be quoted. */
const IMPLICIT = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:<<|=)$/,
];

function scalar(v: Plain, contIndent: number, context: 'block' | 'flow'): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return pyFloatOrInt(v);
  // PyYAML's emitter refuses a plain scalar with a space inside a flow collection: it quotes the timestamp and marks
  // it non-specific (`! '2020-02-29 13:45:30'`), as Ansible's to_yaml shows.
  if (v instanceof YamlTimestamp) return context === 'flow' && v.text.includes(' ') ? `! '${v.text}'` : v.text;
  if (typeof v !== 'string') return "''";
  return quoted(v, contIndent, context);
}

function pyFloatOrInt(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
  const s = String(n);
  // Python writes 1e+21 as 1.0e+21.
  return /e/.test(s) && !/\./.test(s.split('e')[0]!) ? s.replace('e', '.0e') : s;
}

/** Characters PyYAML writes only inside double quotes (escaped): controls, tabs, and the BOM. */
const SPECIAL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\t\ufeff]/;

function quoted(s: string, contIndent: number, context: 'block' | 'flow'): string {
  if (SPECIAL.test(s)) return JSON.stringify(s);
  if (plainAllowed(s, context)) return s;
  // Single quotes: ' doubled; each line break written as a blank line, the next line indented.
  const body = s.replace(/'/g, "''").split('\n').join(`\n\n${' '.repeat(contIndent)}`);
  return `'${body}'`;
}

function plainAllowed(s: string, context: 'block' | 'flow'): boolean {
  if (s === '' || IMPLICIT.some((re) => re.test(s))) return false;
  if (/^\s|\s$/.test(s) || s.includes('\n')) return false;
  if (/^[#,[\]{}&*!|>'"%@`]/.test(s)) return false;
  if (/^[-?:](\s|$)/.test(s)) return false;
  if (s.includes(': ') || s.includes(' #') || s.endsWith(':')) return false;
  if (context === 'flow' && /[,[\]{}]/.test(s)) return false;
  return true;
}
