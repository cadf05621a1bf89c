import type { ArgSchema } from '../types.js';
import type { ModuleSpec, ParamSpec, ParamType } from './types.js';

/**
 * The JSON Schema (draft 2020-12) of a spec, for editors and schemas/playbook.schema.json: it accepts what the
 * runner accepts (the spellings the spec converts: `"yes"`, `"22"`, `"a,b"`), and no more where JSON Schema can
 * say it. Aliases and ignored parameters are valid but not offered for completion (`doNotSuggest`, which
 * VS Code's and yaml-language-server's completion honour). The runner itself checks with the spec (parse.ts).
 */
export function specSchema(spec: ModuleSpec): ArgSchema {
  const properties: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec.options)) {
    properties[name] = paramSchema(p, p.ignored === true);
    for (const alias of p.aliases ?? []) properties[alias] = { ...paramSchema(p, true), description: `Alias of \`${name}\`.` };
  }
  const schema: ArgSchema = { type: 'object', description: spec.description, properties, additionalProperties: false };
  if (spec.extra) schema.patternProperties = { [spec.extra.pattern]: { description: spec.extra.description } };
  // Every rule names parameters that may be written under an alias: "given" means under any of its names.
  const given = (name: string): Record<string, unknown> => {
    const names = [name, ...(spec.options[name]?.aliases ?? [])];
    return names.length === 1 ? { required: names } : { anyOf: names.map((n) => ({ required: [n] })) };
  };
  const all: Record<string, unknown>[] = [];
  for (const [name, p] of Object.entries(spec.options)) if (p.required) all.push(given(name));
  for (const group of spec.required_one_of ?? []) all.push({ anyOf: group.map(given) });
  for (const group of spec.mutually_exclusive ?? []) {
    for (const [i, a] of group.entries()) for (const b of group.slice(i + 1)) all.push({ not: { allOf: [given(a), given(b)] } });
  }
  for (const group of spec.required_together ?? []) for (const n of group) all.push({ if: given(n), then: { allOf: group.map(given) } });
  for (const [n, needs] of Object.entries(spec.required_by ?? {})) all.push({ if: given(n), then: { allOf: needs.map(given) } });
  for (const [param, value, then, anyOf] of spec.required_if ?? []) {
    const names = [param, ...(spec.options[param]?.aliases ?? [])];
    const when = { anyOf: names.map((n) => ({ properties: { [n]: { const: value } }, required: [n] })) };
    all.push({ if: when, then: anyOf ? { anyOf: then.map(given) } : { allOf: then.map(given) } });
  }
  if (all.length > 0) schema.allOf = all;
  return schema;
}

/** Ansible's boolean spellings, any case, as one pattern (the truth table itself is convert.ts's toBoolean). */
const BOOL_TEXT = '^\\s*([yY]([eE][sS])?|[nN][oO]?|[tT]([rR][uU][eE])?|[fF]([aA][lL][sS][eE])?|[oO][nN]|[oO][fF][fF]|1|0)\\s*$';
/** An octal mode, or comma-separated symbolic clauses (convert.ts's OCTAL_MODE and SYMBOLIC_CLAUSE). */
const MODE_TEXT = '^(0?[0-7]{1,4}|0o[0-7]{1,4}|[ugoa]*([-+=][rwxXstugo]*)+(,[ugoa]*([-+=][rwxXstugo]*)+)*)$';
const MODE_MESSAGE = "a file mode is a quoted string: '0644' (octal) or 'u=rw,go=r' (symbolic); YAML reads an unquoted 644 as a decimal number";
const INT_TEXT = '^\\s*[-+]?\\d+(_\\d+)*\\s*$';
const FLOAT_TEXT = '^\\s*[-+]?(\\d+(_\\d+)*(\\.(\\d+(_\\d+)*)?)?|\\.\\d+(_\\d+)*)([eE][-+]?\\d+)?\\s*$';

function paramSchema(p: ParamSpec, hidden: boolean): Record<string, unknown> {
  const s: Record<string, unknown> = { ...valueSchema(p, p.type) };
  if (p.description !== undefined) s.description = p.description;
  if (p.default !== undefined) s.default = p.default;
  if (hidden) s.doNotSuggest = true;
  return s;
}

/** A value of `type` as written: the type itself, or a string the spec converts to it. */
function valueSchema(p: ParamSpec, type: ParamType): Record<string, unknown> {
  switch (type) {
    case 'str':
    case 'path':
      if (p.choices) return { enum: [...p.choices] };
      return p.pattern === undefined ? { type: ['string', 'number', 'boolean'] } : { type: 'string', pattern: p.pattern };
    case 'bool':
      return { anyOf: [{ type: 'boolean' }, { type: 'string', pattern: BOOL_TEXT }, { enum: [0, 1] }] };
    case 'int':
    case 'float': {
      const num: Record<string, unknown> = { type: type === 'int' ? 'integer' : 'number' };
      if (p.choices) num.enum = [...p.choices];
      if (p.min !== undefined) num.minimum = p.min;
      if (p.max !== undefined) num.maximum = p.max;
      return { anyOf: [num, { type: 'string', pattern: type === 'int' ? INT_TEXT : FLOAT_TEXT }] };
    }
    case 'list': {
      const items = p.elements === undefined ? {} : valueSchema({ ...p, type: p.elements }, p.elements);
      return { anyOf: [{ type: 'array', items }, { type: 'string', description: 'Comma-separated items.' }] };
    }
    case 'dict':
      if (!p.options) return { type: 'object' };
    {
      const nested: Record<string, unknown> = specSchema({ description: '', options: p.options });
      delete nested.description;
      return nested;
    }
    case 'mode': {
      // No number: the runner refuses `mode: 644` (decimal), and an editor cannot tell it from an unquoted 0644
      // (YAML 1.2 reads both as 644), so the editor asks for the quotes the runner's own hint asks for.
      const text = { type: 'string', pattern: MODE_TEXT, errorMessage: MODE_MESSAGE };
      return p.keywords ? { type: 'string', errorMessage: MODE_MESSAGE, anyOf: [text, { enum: [...p.keywords] }] } : text;
    }
    case 'raw':
      return {};
  }
}
