import type { ArgSchema } from '../types.js';
import type { ModuleSpec, Options, ParamSpec, ParamType } from './types.js';

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
  const all: Record<string, unknown>[] = [];
  // A required parameter may be given under any of its names: one branch per name (the loader's explanation
  // of such an anyOf names the alternatives).
  for (const [name, p] of Object.entries(spec.options)) {
    if (!p.required) continue;
    if (p.aliases?.length) all.push({ anyOf: namesOf(spec.options, [name]).map((n) => ({ required: [n] })) });
    else ((schema.required ??= []) as string[]).push(name);
  }
  for (const group of spec.required_one_of ?? []) all.push({ anyOf: namesOf(spec.options, group).map((n) => ({ required: [n] })) });
  for (const group of spec.mutually_exclusive ?? []) {
    for (const [i, a] of group.entries()) for (const b of group.slice(i + 1)) all.push({ not: { required: [a, b] } });
  }
  const dependent: Record<string, string[]> = {};
  for (const group of spec.required_together ?? []) for (const n of group) (dependent[n] ??= []).push(...group.filter((m) => m !== n));
  for (const [n, needs] of Object.entries(spec.required_by ?? {})) (dependent[n] ??= []).push(...needs);
  if (Object.keys(dependent).length > 0) schema.dependentRequired = dependent;
  for (const [param, value, then, anyOf] of spec.required_if ?? []) {
    const need = anyOf ? { anyOf: then.map((n) => ({ required: [n] })) } : { required: [...then] };
    all.push({ if: { properties: { [param]: { const: value } }, required: [param] }, then: need });
  }
  if (all.length > 0) schema.allOf = all;
  return schema;
}

function namesOf(options: Options, names: readonly string[]): string[] {
  return names.flatMap((n) => [n, ...(options[n]?.aliases ?? [])]);
}

/** Ansible's boolean spellings, any case, as one pattern (the truth table itself is convert.ts's toBoolean). */
const BOOL_TEXT = '^\\s*([yY]([eE][sS])?|[nN][oO]?|[tT]([rR][uU][eE])?|[fF]([aA][lL][sS][eE])?|[oO][nN]|[oO][fF][fF]|1|0)\\s*$';
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
    case 'raw':
      return {};
  }
}
