import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { aliasProblem, MAX_ALIAS_COUNT } from '../inventory/yaml-aliases.js';
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
    return (node as Node).toJS(this.doc, { maxAliasCount: MAX_ALIAS_COUNT });
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
  return parseYamlSource(file, await readSourceText(file));
}

/**
 * The text of a playbook, task or vars file. Bytes that are not UTF-8 are an error at their line and column (a
 * lossy decoding would change the values silently). A FIFO is read as the pipe `<(…)` gives: until its writer
 * closes it; one that no process writes to is an error, not a wait without end. Other errors are the file
 * system's (ENOENT, EISDIR …).
 */
export async function readSourceText(file: string): Promise<string> {
  const bytes = await readSourceBytes(file);
  const invalidAt = firstInvalidUtf8(bytes);
  if (invalidAt === undefined) return bytes.toString('utf8');
  const text = bytes.toString('utf8');
  const lineStart = bytes.lastIndexOf(0x0a, invalidAt - 1) + 1;
  const line = bytes.subarray(0, lineStart).toString('latin1').split('\n').length;
  const col = bytes.subarray(lineStart, invalidAt).toString('utf8').length + 1;
  const byte = bytes[invalidAt]!.toString(16).padStart(2, '0');
  throw new PlaybookError('E_ENCODING', `the file is not valid UTF-8: byte 0x${byte} cannot start or continue a character here`, {
    pos: { file, line, col },
    excerpt: formatExcerpt(text, line, col),
    hint: 'save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8 FILE)',
  });
}

/** How long a FIFO read waits between polls while its writer has not written yet. */
const FIFO_POLL_MS = 10;
/**
 * How long a FIFO without a writer is given to get one: a writer already blocked in open() joins only just after
 * this reader opens, and until it has, a read says end of file.
 */
const FIFO_WRITER_WAIT_MS = 500;

async function readSourceBytes(file: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO that no process writes to would otherwise block a libuv thread for good.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFIFO()) return await fh.readFile();
    const chunks: Buffer[] = [];
    const writerDeadline = Date.now() + FIFO_WRITER_WAIT_MS;
    for (;;) {
      const chunk = Buffer.alloc(65536);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EAGAIN') throw err;
        return { bytesRead: -1 };
      });
      if (bytesRead === 0 && (chunks.length > 0 || Date.now() >= writerDeadline)) break;
      if (bytesRead > 0) chunks.push(chunk.subarray(0, bytesRead));
      else await sleep(FIFO_POLL_MS);
    }
    if (chunks.length === 0) {
      throw new PlaybookError('E_READ', `\`${file}\` is a FIFO that no process is writing to`, {
        pos: { file, line: 1, col: 1 },
        hint: 'start the writer first, or pass a regular file (a process substitution <(…) works)',
      });
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence; undefined when all are. */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: the sequence length and the allowed range of the second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    const [length, low, high] =
      b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf]
      : b === 0xe0 ? [3, 0xa0, 0xbf]
      : b === 0xed ? [3, 0x80, 0x9f]
      : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf]
      : b === 0xf0 ? [4, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf]
      : b === 0xf4 ? [4, 0x80, 0x8f]
      : [0, 0, 0];
    if (length === 0) return i;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return undefined;
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
    // After the first syntax error the parser has lost its place: what it reports further on (one error per token
    // of every later line) follows from that one mistake, so only the first is shown, as PyYAML does.
    if (errors.some((x) => x.code === 'E_YAML_SYNTAX')) continue;
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
  const aliasError = usable ? checkAliases(source) : undefined;
  if (aliasError) errors.push(aliasError);
  return { source, errors, usable: usable && !aliasError };
}

/**
 * An alias to no anchor, or aliases of aliases past the limit, as a positioned error instead of the `yaml`
 * package's ReferenceError (see aliasProblem).
 */
function checkAliases(source: YamlSource): PlaybookError | undefined {
  const problem = aliasProblem(source.doc);
  return problem && source.error('E_YAML_ALIAS', problem.message, problem.offset, problem.hint);
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
  if (/missing closing/i.test(message)) return 'close the quote on the same value (a quote inside the value is written twice: \'it\'\'s\')';
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
