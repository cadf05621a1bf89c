import { createHash } from 'node:crypto';
import type { ErrorObject } from 'ajv/dist/2020.js';
import type Ajv2020 from 'ajv/dist/2020.js';
import { describeValue, parseArgs, type SpecIssue } from '../modules/spec/parse.js';
import type { AnyModule } from '../modules/types.js';
import { Unsafe } from './filters.js';
import { suggest } from './suggest.js';
import { isTemplateSchema, loaderFragment, type ModuleLookup, type Schema } from './schema.js';

/** How messages describe a value ("the string \"x\""); one wording for the spec's and the schema's errors. */
export { describeValue };

/**
 * Load-time validation with ajv against fragments of the playbook schema (src/playbook/schema.ts).
 * The loader walks the YAML itself (for positions, module lookup and nesting) and asks this file to check one
 * keyword mapping or one module's arguments at a time; ajv errors come back as `SchemaIssue`s with a path into
 * the checked object, which the loader maps to a YAML node.
 */

/** One problem with a path into the checked value: the spec's issue shape, shared by keyword and argument checks. */
export type SchemaIssue = SpecIssue;

/** What is being checked, for messages: "unknown parameter `x` for module `file`". */
export interface CheckSubject {
  noun: 'parameter' | 'keyword';
  owner: string;
}

export type KeywordFragment = 'taskKeywords' | 'playKeywords' | 'importPlaybookKeywords' | 'roleEntry';

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
type AjvInstance = InstanceType<typeof Ajv2020.default>;

/**
 * ajv options shared by the run-time compiler and scripts/gen-schema.ts (precompiled validators must behave
 * exactly like compiled ones).
 */
export const ajvOptions = {
  allErrors: true,
  strict: false,
  // Not `verbose`: it makes compiling slower; withContext() finds the same schema and data afterwards.
  verbose: false,
  allowUnionTypes: true,
  // The schema is ours and tested (test/pure/playbook-schema.test.ts); checking it against the meta-schema
  // on every run costs ~60 ms.
  validateSchema: false,
  // ajv's code optimiser costs about a third of compile time (measured: ~140 → ~95 ms CPU for ten fragments);
  // the validated objects are a few keys each, so the unoptimised code is just as fast here.
  code: { optimize: false },
  // String lengths in UTF-16 units: needs no ajv runtime helper, so precompiled code is self-contained.
  unicode: false,
  // Never print to the user's terminal from a validator (unknown formats and the like are ignored quietly).
  logger: false as const,
};

/**
 * Module schemas may use `format`; real format checks would need ajv-formats (slow to import), and the runner
 * re-checks rendered arguments anyway, so formats are accepted as annotations here.
 */
export function addLenientFormats(ajv: AjvInstance): void {
  for (const f of ['ipv4', 'ipv6', 'uri', 'hostname', 'cidr', 'regex', 'date-time', 'email']) ajv.addFormat(f, true);
}

/** Identity of a fragment: a precompiled validator is used only for exactly the fragment it was made from. */
export function fragmentHash(fragment: Schema): string {
  return createHash('sha1').update(JSON.stringify(fragment)).digest('hex');
}

interface Compiled {
  modules: readonly AnyModule[];
  fragments: Map<string, Schema | undefined>;
  validators: Map<string, Validator>;
  origins: Map<string, 'precompiled' | 'compiled'>;
  ajv?: Promise<AjvInstance>;
}

// Per module list, each fragment gets its validator on first use only: a --syntax-check needs the keyword
// fragments and the few modules a playbook uses. Fragments are self-contained (no $ref), so each compiles
// alone; compiling through the root schema would build every module's validator (~200 ms).
const compiledByModules = new WeakMap<readonly AnyModule[], Compiled>();

function compiledFor(lookup: ModuleLookup): Compiled {
  const mods = lookup.all();
  let c = compiledByModules.get(mods);
  if (!c) {
    c = { modules: mods, fragments: new Map(), validators: new Map(), origins: new Map() };
    compiledByModules.set(mods, c);
  }
  return c;
}

/** Generated next to the schema by scripts/gen-schema.ts; the same relative path from src/ and from dist/. */
const precompiledDir = new URL('../../schemas/validators/', import.meta.url);

/**
 * A precompiled validator (ajv standalone code in schemas/validators/) when one exists for exactly this
 * fragment: this skips importing ajv and compiling (~150 ms of a --syntax-check). A module whose schema changed
 * since `npm run gen:schema` simply falls back to compiling.
 */
async function precompiled(def: string, fragment: Schema): Promise<Validator | undefined> {
  try {
    const mod = (await import(new URL(`${def}.mjs`, precompiledDir).href)) as { hash?: unknown; validate?: unknown };
    if (mod.hash === fragmentHash(fragment) && typeof mod.validate === 'function') return mod.validate as Validator;
  } catch {
    // not generated (or not shipped): compile instead
  }
  return undefined;
}

async function compiled(c: Compiled, fragment: Schema): Promise<Validator> {
  c.ajv ??= import('ajv/dist/2020.js').then(({ default: mod }) => {
    const ajv = new mod.default(ajvOptions);
    addLenientFormats(ajv);
    return ajv;
  });
  return (await c.ajv).compile(fragment) as Validator;
}

async function validatorFor(lookup: ModuleLookup, def: string): Promise<{ validate: Validator; fragment: Schema }> {
  const c = compiledFor(lookup);
  if (!c.fragments.has(def)) c.fragments.set(def, loaderFragment(def));
  const fragment = c.fragments.get(def);
  if (!fragment) throw new Error(`internal: no schema fragment ${def}`);
  let v = c.validators.get(def);
  if (!v) {
    const pre = await precompiled(def, fragment);
    c.origins.set(def, pre ? 'precompiled' : 'compiled');
    v = pre ?? (await compiled(c, fragment));
    c.validators.set(def, v);
  }
  return { validate: v, fragment };
}

/** Which validators were precompiled or compiled so far (for tests and the speed benchmark). */
export function validatorOrigins(lookup: ModuleLookup): ReadonlyMap<string, 'precompiled' | 'compiled'> {
  return compiledFor(lookup).origins;
}

export async function checkKeywords(fragment: KeywordFragment, data: Record<string, unknown>, lookup: ModuleLookup, owner: string): Promise<SchemaIssue[]> {
  const v = await validatorFor(lookup, fragment);
  const plain = withoutUnsafe(data);
  if (v.validate(plain)) return [];
  return explain(withContext(v.validate.errors ?? [], v.fragment, plain), { noun: 'keyword', owner });
}

/** A module's arguments as written, checked: the problems, and the arguments its spec parsed. */
export interface ModuleArgsCheck {
  issues: SchemaIssue[];
  /**
   * What the module's load-time hooks (controllerFiles) read: converted, aliases resolved, defaults filled in;
   * a parameter whose value is still a template is absent.
   */
  parsed: Record<string, unknown>;
}

/**
 * Checks a module's arguments as written. First they are converted in place the way AnsibleModule converts
 * them (`port: "22"` → 22, `force: "yes"` → true, "a,b" → a list), so the task keeps the converted values;
 * template strings are left for the run-time check.
 */
export function checkModuleArgs(m: AnyModule, args: Record<string, unknown>): ModuleArgsCheck {
  // The module's own spec checks (src/modules/spec/parse.ts), with positions down to the value.
  const parsed = parseArgs(m.spec, args, { owner: m.name, rendered: false });
  Object.assign(args, parsed.converted);
  return { issues: parsed.issues, parsed: parsed.args };
}

/** `!unsafe` values are checked by their text (a copy only where one is inside). */
function withoutUnsafe<T>(v: T): T {
  if (v instanceof Unsafe) return v.value as T;
  if (Array.isArray(v)) {
    const out = v.map(withoutUnsafe);
    return (out.some((x, i) => x !== v[i]) ? out : v) as T;
  }
  if (typeof v === 'object' && v !== null) {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      const y = withoutUnsafe(x);
      if (y !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = y;
    }
    return (out ?? v) as T;
  }
  return v;
}

/** What ajv's `verbose` would add: the failing value and the schema object holding the failed keyword. */
function withContext(errors: ErrorObject[], schema: unknown, data: unknown): ErrorObject[] {
  return errors.map((e) => ({
    ...e,
    data: follow(data, parsePointer(e.instancePath)),
    parentSchema: follow(schema, parsePointer(e.schemaPath.replace(/^#/, '')).slice(0, -1)) as ErrorObject['parentSchema'],
  }));
}

function follow(root: unknown, path: (string | number)[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(seg)];
  }
  return cur;
}

// ---------- ajv errors → user messages ----------

function parsePointer(p: string): (string | number)[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * ajv reports every failed branch of an anyOf. Keep what a person needs: drop the template alternative,
 * keep the one branch whose type fits the value, or collapse type mismatches into "must be X or Y".
 */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  let out = [...errors];
  const combos = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  // Innermost first, so an outer anyOf sees the already simplified inner one.
  combos.sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const combo of combos) {
    const branches = (combo.parentSchema as Schema | undefined)?.[combo.keyword];
    if (!Array.isArray(branches)) continue;
    const prefix = `${combo.schemaPath}/`;
    const own = out.filter((e) => e.schemaPath.startsWith(prefix));
    const byBranch = new Map<number, ErrorObject[]>();
    for (const e of own) {
      const idx = Number(e.schemaPath.slice(prefix.length).split('/')[0]);
      if (!byBranch.has(idx)) byBranch.set(idx, []);
      byBranch.get(idx)!.push(e);
    }
    const hasTemplate = branches.some(isTemplateSchema);
    const candidates = [...byBranch.entries()].filter(([i]) => !isTemplateSchema(branches[i]));
    const fitting = candidates.find(
      ([, errs]) => !errs.some((e) => e.keyword === 'type' && e.instancePath === combo.instancePath),
    );
    // No branch errors: a oneOf matched more than once (mutually exclusive parameters); explainOne words it.
    if (own.length === 0) continue;
    out = out.filter((e) => !own.includes(e) && e !== combo);
    const onlyRequired = candidates.every(([, errs]) => errs.every((e) => e.keyword === 'required' && e.instancePath === combo.instancePath));
    if (onlyRequired && candidates.length > 1) {
      // Alternatives such as path/dest/name: one missing parameter, with its aliases named.
      const names = candidates.flatMap(([, errs]) => errs.map((e) => String(e.params.missingProperty)));
      out.push({ ...errors.find((e) => own.includes(e))!, params: { missingProperty: names[0], alternatives: names.slice(1) } });
      continue;
    }
    if (fitting) {
      out.push(...fitting[1]);
    } else {
      const types = candidates.flatMap(([, errs]) =>
        errs.filter((e) => e.keyword === 'type' && e.instancePath === combo.instancePath).map((e) => String(e.params.type)),
      );
      out.push({
        ...combo,
        keyword: 'type',
        params: { type: [...new Set(types.flatMap((t) => t.split(',')))].join(','), template: hasTemplate },
      });
    }
  }
  return out;
}

const typeWords: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true/false)',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function expectedTypes(t: string, template: boolean): string {
  const words = t.split(',').map((x) => typeWords[x] ?? x);
  if (template) words.push('a "{{ template }}" string');
  if (words.length === 1) return words[0]!;
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function typeHint(expected: string, data: unknown, subject: CheckSubject): string {
  const types = expected.split(',');
  // Strings that convert were converted (coerceArgs); a decimal fraction is what an integer refuses, as in Ansible.
  const fraction = typeof data === 'number' ? !Number.isInteger(data) : typeof data === 'string' && /^\s*[-+]?(\d*\.\d+|\d+\.\d*)\s*$/.test(data);
  if (fraction && types.includes('integer') && !types.includes('number')) {
    return 'a whole number is needed here: Ansible converts "22" but not "1.5" or "1.0"';
  }
  if (types.includes('boolean')) return 'write true or false (YAML also reads yes/no), or a "{{ template }}" that renders to one';
  if (types.includes('integer') || types.includes('number')) return 'write a number without quotes, or a "{{ template }}" that renders to one';
  if (types.includes('array')) return 'write a YAML list (one `- item` per line, or [a, b])';
  if (types.includes('object')) return 'write a mapping (indented `key: value` lines)';
  return `see the ${subject.noun}s of \`${subject.owner}\` in schemas/playbook.schema.json`;
}

function explainOne(e: ErrorObject, subject: CheckSubject): SchemaIssue {
  const path = parsePointer(e.instancePath);
  const last = path[path.length - 1];
  const name = last === undefined ? subject.owner : typeof last === 'number' ? `item ${last} of \`${String(path[path.length - 2] ?? subject.owner)}\`` : `\`${last}\``;
  const got = describeValue(e.data);
  switch (e.keyword) {
    case 'type':
      return {
        path,
        onKey: false,
        code: 'E_TYPE',
        message: `${name} must be ${expectedTypes(String(e.params.type), e.params.template === true)}, got ${got}`,
        hint: typeHint(String(e.params.type), e.data, subject),
      };
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map((x) => String(x));
      const near = typeof e.data === 'string' ? suggest(e.data, allowed) : undefined;
      return {
        path,
        onKey: false,
        code: 'E_ENUM',
        message: `${name} must be one of ${allowed.map((a) => `\`${a}\``).join(', ')}, got ${got}`,
        hint: near ? `did you mean \`${near}\`?` : `use one of: ${allowed.join(', ')}`,
      };
    }
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const props = Object.keys(((e.parentSchema as Schema | undefined)?.properties as Schema | undefined) ?? {});
      const near = suggest(key, props);
      const where = path.length === 0 ? `\`${subject.owner}\`` : name;
      return {
        path: [...path, key],
        onKey: true,
        code: subject.noun === 'parameter' ? 'E_UNKNOWN_PARAM' : 'E_UNKNOWN_KEY',
        message: `unknown ${subject.noun} \`${key}\` for ${path.length === 0 && subject.noun === 'parameter' ? 'module ' : ''}${where}`,
        hint: near ? `did you mean \`${near}\`?` : `valid ${subject.noun}s: ${props.sort().join(', ')}`,
      };
    }
    case 'required': {
      const key = String(e.params.missingProperty);
      const alternatives = (e.params.alternatives as string[] | undefined) ?? [];
      return {
        path,
        onKey: false,
        code: 'E_MISSING_PARAM',
        message: `missing required ${subject.noun} \`${key}\` for ${path.length === 0 ? `module \`${subject.owner}\`` : name}`,
        hint: alternatives.length > 0 ? `add \`${key}: …\` (or one of its alternatives ${alternatives.map((a) => `\`${a}\``).join(', ')})` : `add \`${key}: …\``,
      };
    }
    case 'oneOf':
    case 'anyOf': {
      const branches = ((e.parentSchema as Schema | undefined)?.[e.keyword] ?? []) as Schema[];
      const keys = branches.flatMap((b) => (Array.isArray(b.required) ? (b.required as string[]) : []));
      if (keys.length > 0) {
        return {
          path,
          onKey: false,
          code: 'E_EXCLUSIVE_PARAMS',
          message: `${path.length === 0 ? `\`${subject.owner}\`` : name} takes exactly one of ${keys.map((k) => `\`${k}\``).join(', ')}`,
          hint: 'they are aliases or alternatives: keep one',
        };
      }
      return {
        path,
        onKey: false,
        code: 'E_SCHEMA',
        message: `${name} matches none or several of its allowed forms, got ${got}`,
        hint: `see the ${subject.noun}s of \`${subject.owner}\` in schemas/playbook.schema.json`,
      };
    }
    case 'pattern':
      return {
        path,
        onKey: false,
        code: 'E_PATTERN',
        message: `${name} must match the pattern /${String(e.params.pattern)}/, got ${got}`,
        hint: 'check the value for typos or stray characters',
      };
    default:
      return {
        path,
        onKey: false,
        code: 'E_SCHEMA',
        message: `${name} ${e.message ?? 'is invalid'}, got ${got}`,
        hint: `see the ${subject.noun}s of \`${subject.owner}\` in schemas/playbook.schema.json`,
      };
  }
}

export function explain(errors: ErrorObject[], subject: CheckSubject): SchemaIssue[] {
  const issues = simplify(errors).map((e) => explainOne(e, subject));
  // ajv may report the same thing twice through different schema paths; one line per problem is enough.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path.join('/')}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
