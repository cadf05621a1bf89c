import { readFile } from 'node:fs/promises';
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { formatExcerpt, PlaybookError, type SourcePos } from '../errors.js';
import { ANSIBLE_YAML_OPTIONS, VAULT_ERROR_PREFIX } from '../inventory/yaml-options.js';
import { Unsafe } from './unsafe.js';

/**
 * One YAML file with positions: every error made from it carries file:line:col and a two-line excerpt.
 * Parsed as YAML 1.1, as Ansible (PyYAML) does: `yes`/`no` are booleans (`y`/`n` are not) and `0644` is an
 * octal integer.
 */
export class YamlSource {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly lines: LineCounter,
    readonly doc: Document.Parsed,
  ) {}

  get root(): Node | null {
    return this.doc.contents;
  }

  posAt(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(Math.min(offset, this.text.length));
    return { file: this.file, line, col };
  }

  posOf(node: unknown): SourcePos {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return this.posAt(range?.[0] ?? 0);
  }

  error(code: string, message: string, at: unknown, hint?: string): PlaybookError {
    const pos = typeof at === 'number' ? this.posAt(at) : this.posOf(at);
    return new PlaybookError(code, message, {
      pos,
      excerpt: formatExcerpt(this.text, pos.line, pos.col),
      ...(hint ? { hint } : {}),
    });
  }

  /** The source text of a node as written (`0644`, not 420). */
  literal(node: unknown): string {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? this.text.slice(range[0], range[1]) : '';
  }

  /**
   * Plain JS value of a node (aliases resolved, merge keys applied). `!unsafe` strings stay Unsafe wrappers
   * wherever they are: they are data for the runner, which never renders them.
   */
  toJS(node: unknown): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.toJS(node.resolve(this.doc));
    if (isScalar(node)) return node.value;
    return (node as Node).toJS(this.doc, { maxAliasCount: 100 });
  }

  /**
   * A keyword's value (`name`, `when`, `tags`, `vars` …): like toJS, but a keyword written `!unsafe 'text'`
   * itself is just its text (keywords are checked and read as strings). Unsafe values inside a keyword's
   * mapping or list (`vars: {a: !unsafe …}`, `loop: [!unsafe …]`) keep their wrapper.
   */
  keywordJS(node: unknown): unknown {
    const v = this.toJS(node);
    return v instanceof Unsafe ? v.value : v;
  }
}

/**
 * Read and parse `file`. Syntax problems come back as positioned errors; `usable` says whether the tree is
 * sound enough to walk (duplicate keys are reported but do not stop the walk, so later errors still show).
 */
export async function readYamlSource(
  file: string,
): Promise<{ source: YamlSource; errors: PlaybookError[]; usable: boolean }> {
  const text = await readFile(file, 'utf8');
  return parseYamlSource(file, text);
}

/**
 * `!unsafe 'text'` in a playbook, task file or vars file: the string is data, never a template, as in Ansible.
 * The shared Ansible reading (inventory/yaml-options.ts) gives the Unsafe wrapper (src/playbook/unsafe.ts), the
 * same as in inventories, group_vars/host_vars and -e @file.
 */
export const PLAYBOOK_YAML_OPTIONS: typeof ANSIBLE_YAML_OPTIONS = ANSIBLE_YAML_OPTIONS;

export function parseYamlSource(file: string, text: string): { source: YamlSource; errors: PlaybookError[]; usable: boolean } {
  const lines = new LineCounter();
  // The same PyYAML-compatible reading as inventories (YAML 1.1 booleans without y/n, !vault decrypted, !unsafe).
  const doc = parseDocument(text, { ...PLAYBOOK_YAML_OPTIONS, lineCounter: lines });
  const source = new YamlSource(file, text, lines, doc);
  const errors: PlaybookError[] = [];
  // The yaml parser only sometimes names a tab as the cause; when a file fails to parse, look for tabs in
  // indentation ourselves and report those instead of the confusing errors they cause further on.
  const tabLines = doc.errors.some((e) => e.code !== 'DUPLICATE_KEY') ? tabIndentedLines(text) : [];
  const firstTabLine = tabLines[0] ?? Infinity;
  for (const line of tabLines) {
    const col = (text.split(/\r?\n/)[line - 1] ?? '').indexOf('\t') + 1;
    errors.push(
      new PlaybookError('E_YAML_TAB', 'tab character used for indentation: YAML indentation must be spaces', {
        pos: { file, line, col },
        excerpt: formatExcerpt(text, line, col),
        hint: 'replace the tab with spaces (2 per level is usual)',
      }),
    );
  }
  let usable = true;
  for (const e of doc.errors) {
    const offset = e.pos[0];
    if (e.code === 'DUPLICATE_KEY') {
      const key = (/^[^:\n]*/.exec(text.slice(offset))?.[0] ?? '').trim();
      errors.push(
        source.error(
          'E_DUPLICATE_KEY',
          `duplicate key \`${key}\`: each key may appear once in a mapping`,
          offset,
          'YAML would silently keep only one of the values; remove or rename one of them',
        ),
      );
      continue;
    }
    usable = false;
    if (e.message.startsWith(VAULT_ERROR_PREFIX)) {
      const message = e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
      errors.push(source.error('E_VAULT', message, offset, 'check --vault-password-file / --vault-id / --ask-vault-pass'));
      continue;
    }
    if (e.code === 'TAB_AS_INDENT' || source.posAt(offset).line >= firstTabLine) continue;
    const message = e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
    const lineText = text.split(/\r?\n/)[source.posAt(offset).line - 1] ?? '';
    errors.push(
      source.error(
        'E_YAML_SYNTAX',
        `invalid YAML: ${message.charAt(0).toLowerCase()}${message.slice(1)}`,
        offset,
        syntaxHint(lineText, message),
      ),
    );
  }
  errors.push(...neutraliseCollectionKeys(source));
  return { source, errors, usable };
}

/** 1-based numbers of lines whose indentation holds a tab. */
function tabIndentedLines(text: string): number[] {
  const out: number[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (/^[ ]*\t/.test(l) && l.trim() !== '') out.push(i + 1);
  });
  return out;
}

function syntaxHint(lineText: string, message = ''): string {
  if (/flow (sequence|map|collection)/i.test(message) && /end with/.test(message)) {
    return 'a [ … ] list or { … } mapping was opened and not closed: add the closing bracket (or quote the value)';
  }
  if (/:\s+\{\{/.test(lineText) || /^\s*-\s+\{\{/.test(lineText)) {
    return 'a value that starts with {{ must be quoted: msg: "{{ var }} …"';
  }
  if (/:\s+[^'"\s].*: /.test(lineText)) return 'a value containing ": " must be quoted';
  return 'check the indentation of this line against the lines above (keys of one mapping start in the same column)';
}

/**
 * `msg: {{ x }}` is valid YAML: a flow mapping whose key is another mapping. Ansible users write it by mistake
 * all the time, so report it as the quoting error it is (and replace the key so toJS never sees a collection key).
 */
function neutraliseCollectionKeys(source: YamlSource): PlaybookError[] {
  const errors: PlaybookError[] = [];
  visit(source.doc, {
    Pair(_key, pair: Pair) {
      if (!isCollection(pair.key)) return;
      const at = (pair.key as Node).range?.[0] ?? 0;
      const outerStart = at > 0 && source.text[at - 1] === '{' ? at - 1 : at;
      const literal = source.literal(pair.key);
      errors.push(
        source.error(
          'E_UNQUOTED_TEMPLATE',
          'unquoted template: YAML reads `{{ … }}` at the start of a value as a mapping, not a string',
          outerStart,
          'quote the whole value: key: "{{ var }}"',
        ),
      );
      pair.key = new Scalar(literal);
    },
  });
  return errors;
}

// ---------- small node helpers ----------

export function isMapNode(n: unknown): n is YAMLMap<unknown, unknown> {
  return isMap(n);
}

export { isMap, isPair, isScalar, isSeq };

/** Key text of a map pair (YAML keys are scalars in playbooks; anything else is stringified). */
export function keyOf(pair: Pair<unknown, unknown>): string {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return String(k);
}

/** Pairs of a mapping node, in order. */
export function pairsOf(node: unknown): Pair<unknown, unknown>[] {
  return isMap(node) ? (node.items as Pair<unknown, unknown>[]) : [];
}

/**
 * Follow `path` (keys and indexes) from `node`. Returns the deepest node reached, the key node of the last
 * map step, and whether the whole path was found (a value parsed from a key=value string has no node).
 */
export function nodeAtPath(
  node: unknown,
  path: readonly (string | number)[],
): { node: unknown; keyNode?: unknown; found: boolean } {
  let cur: unknown = node;
  let keyNode: unknown;
  for (const seg of path) {
    if (isMap(cur)) {
      const pair = (cur.items as Pair<unknown, unknown>[]).find((p) => keyOf(p) === String(seg));
      if (!pair) return { node: cur, found: false };
      keyNode = pair.key;
      cur = pair.value ?? pair.key;
    } else if (isSeq(cur) && /^\d+$/.test(String(seg)) && cur.items[Number(seg)] !== undefined) {
      keyNode = undefined;
      cur = cur.items[Number(seg)];
    } else {
      return { node: cur, found: false };
    }
  }
  return { node: cur, keyNode, found: true };
}
