import { LineCounter, parseDocument, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions, type Tags } from 'yaml';
import { VaultError } from '../errors.js';
import { aliasProblem } from './yaml-aliases.js';
import { UNSAFE_TAGS } from '../playbook/unsafe.js';
import { decryptInlineValue } from '../vault/session.js';

/** Starts the message of a YAML error that is really a vault error (wrong or missing password, damaged value). */
export const VAULT_ERROR_PREFIX = 'vault: ';

/**
 * Ansible reads YAML with PyYAML: YAML 1.1 scalars (`yes`/`no`/`on`/`off` are booleans, `0755` is octal) and
 * merge keys. PyYAML lets a duplicate key through (last wins, with a warning); like the playbook loader, vncplay
 * reports it as an error, since one of the two values is silently lost. The `yaml` package's 1.1 schema also
 * treats `y`/`n` as booleans, which PyYAML does not, so the boolean tags are replaced with PyYAML's set.
 */

const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
/** PyYAML's decimal int: no leading zero, so `08` stays a string (`0[0-7]+` is octal, as in both). */
const PYYAML_DECIMAL = /^[-+]?(?:0|[1-9][0-9_]*)$/;
/** PyYAML's floats need a dot, and an exponent needs its sign: `1.5e3` and `1e3` stay strings. */
const PYYAML_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/;
const PYYAML_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/;

/**
 * The `yaml` package's YAML 1.1 scalars adjusted to what PyYAML resolves (checked against ansible-inventory):
 * its booleans, ints and floats, and no timestamps (a date stays the string written, which is also how it
 * prints in an Ansible template).
 */
function ansibleTags(tags: Tags, unsafe: 'wrapper' | 'text'): Tags {
  const out: Tags = [];
  for (const t of tags) {
    if (typeof t !== 'object' || !('tag' in t) || !('test' in t) || !t.test) {
      out.push(t);
      continue;
    }
    const format = 'format' in t ? t.format : undefined;
    if (t.tag === 'tag:yaml.org,2002:timestamp') continue;
    if (t.tag === 'tag:yaml.org,2002:bool') out.push({ ...t, test: t.test.test('yes') ? PYYAML_TRUE : PYYAML_FALSE });
    else if (t.tag === 'tag:yaml.org,2002:int' && format === undefined && t.test.test('12')) out.push({ ...t, test: PYYAML_DECIMAL });
    else if (t.tag === 'tag:yaml.org,2002:float' && format === 'EXP') out.push({ ...t, test: PYYAML_FLOAT_EXP });
    else if (t.tag === 'tag:yaml.org,2002:float' && format === undefined && t.test.test('1.5')) out.push({ ...t, test: PYYAML_FLOAT });
    else out.push(t);
  }
  // `!unsafe` marks a string Ansible must not template: an Unsafe wrapper that the runner never renders
  // (src/playbook/unsafe.ts), in inventories, group_vars/host_vars, -e @file and playbooks alike.
  if (unsafe === 'wrapper') out.push(...UNSAFE_TAGS);
  else out.push({ tag: '!unsafe', resolve: (s: string) => s });
  // `!vault |` values are decrypted as they are read, with the passwords given on the command line
  // (src/vault/session.ts); each one becomes a run secret. A wrong or missing password is a positioned error.
  out.push({
    tag: '!vault',
    resolve: (s: string, onError: (msg: string) => void) => {
      try {
        return decryptInlineValue(s);
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        onError(`${VAULT_ERROR_PREFIX}${err.message}`);
        return '';
      }
    },
  });
  return out;
}

/** How Ansible data files are read (inventories, vars files, -e @file, playbooks): `!unsafe` gives Unsafe wrappers. */
export const ANSIBLE_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  merge: true,
  uniqueKeys: true,
  prettyErrors: false,
  customTags: (tags) => ansibleTags(tags, 'wrapper'),
};

/**
 * The same reading with `!unsafe` as its plain string: for text that is already data and never rendered again
 * (from_yaml's result), where an Unsafe wrapper nested in a mapping would reach a module as an object.
 */
export const PLAIN_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  ...ANSIBLE_YAML_OPTIONS,
  customTags: (tags) => ansibleTags(tags, 'text'),
};

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
}

export function parseAnsibleYaml(text: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...ANSIBLE_YAML_OPTIONS, lineCounter: lines });
  return { doc, lines };
}

export interface YamlProblem {
  code: string;
  message: string;
  line: number;
  col: number;
  hint: string;
}

/**
 * The parse errors of a document as inventory errors. `fatal` is false when only duplicate keys were found:
 * the tree is still sound (the last value is kept), so the caller walks it and reports later problems too.
 */
export function yamlProblems(parsed: ParsedYaml, text: string): { problems: YamlProblem[]; fatal: boolean } {
  const problems: YamlProblem[] = [];
  let fatal = false;
  const tabLine = text.split(/\r?\n/).findIndex((l) => /^ *\t/.test(l)) + 1;
  for (const e of parsed.doc.errors) {
    const at = parsed.lines.linePos(e.pos[0]);
    const pos = at.line === 0 ? { line: 1, col: e.pos[0] + 1 } : at;
    if (e.code === 'DUPLICATE_KEY') {
      const key = (/^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0] ?? '').trim();
      problems.push({
        code: 'E_INV_DUPLICATE_KEY',
        message: `duplicate key '${key}': each key may appear once in a mapping`,
        ...pos,
        hint: 'only one of the values would be kept; remove or merge one of them',
      });
      continue;
    }
    fatal = true;
    if (e.message.startsWith(VAULT_ERROR_PREFIX)) {
      problems.push({ code: 'E_INV_VAULT', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), ...pos, hint: 'check --vault-password-file / --vault-id / --ask-vault-pass' });
      continue;
    }
    problems.push({
      code: 'E_INV_YAML_SYNTAX',
      message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      ...pos,
      hint:
        tabLine > 0
          ? `line ${tabLine} is indented with a tab: YAML indentation must be spaces`
          : 'fix the YAML syntax; check indentation and quotes',
    });
  }
  const alias = fatal ? undefined : aliasProblem(parsed.doc);
  if (alias) {
    fatal = true;
    const at = parsed.lines.linePos(alias.offset);
    problems.push({ code: 'E_INV_YAML_ALIAS', message: alias.message, line: at.line, col: at.col, hint: alias.hint });
  }
  return { problems, fatal };
}
