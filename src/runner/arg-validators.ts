import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { AnyModule } from '../modules/types.js';
import { coerceArgs } from '../playbook/free-form.js';

/**
 * Validators for a module's RENDERED arguments (the strict module schema, no template alternatives).
 * Compiling them with ajv at run time cost ~250 ms CPU per run (importing ajv's ~80 CommonJS files + compiling
 * six schemas), a third of vncplay's controller CPU on the 20-host benchmark. So, like the loader's validators
 * (src/playbook/precompile.ts), they ship as ajv standalone code in schemas/runtime-validators/NAME.mjs, each
 * carrying the hash of the schema it was made from; a module whose schema changed since `npm run gen:schema`
 * falls back to compiling, with the very same options.
 */

export type ArgValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** The ajv options of the run-time check; precompiled code is generated with exactly these. */
export const runtimeAjvOptions = { allErrors: true, strict: false, coerceTypes: false } as const;

/** Identity of a module schema: precompiled code is used only for exactly the schema it was made from. */
export function schemaHash(schema: object): string {
  return createHash('sha1').update(JSON.stringify(schema)).digest('hex');
}

/** File name of a module's precompiled validator (module names are [a-z_] identifiers). */
export function runtimeValidatorFile(mod: Pick<AnyModule, 'name'>): string {
  return `${mod.name}.mjs`;
}

/** The same relative path from src/runner/ and dist/runner/. */
const runtimeDir = new URL('../../schemas/runtime-validators/', import.meta.url);

type AjvInstance = InstanceType<typeof import('ajv/dist/2020.js').Ajv2020>;
let ajv: AjvInstance | undefined;

/** ajv is CommonJS: required on first need only, so a run whose validators are all precompiled never loads it. */
function compile(mod: AnyModule): ArgValidator {
  if (!ajv) {
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    ajv = new Ajv2020(runtimeAjvOptions);
  }
  return ajv.compile(mod.schema) as ArgValidator;
}

async function precompiled(mod: AnyModule): Promise<ArgValidator | undefined> {
  try {
    const m = (await import(new URL(runtimeValidatorFile(mod), runtimeDir).href)) as { hash?: unknown; validate?: unknown };
    if (m.hash === schemaHash(mod.schema) && typeof m.validate === 'function') return m.validate as ArgValidator;
  } catch {
    // not generated for this module (or not shipped): compile instead
  }
  return undefined;
}

const ready = new WeakMap<AnyModule, ArgValidator>();
const loading = new WeakMap<AnyModule, Promise<void>>();
/** Where each module's validator came from (for the test that the shipped files are current and used). */
export const validatorOrigins = new Map<string, 'precompiled' | 'compiled'>();

/** Loads the module's precompiled validator once per process (a no-op when there is none: argValidator compiles). */
export function loadArgValidator(mod: AnyModule): Promise<void> {
  if (ready.has(mod)) return Promise.resolve();
  let p = loading.get(mod);
  if (!p) {
    p = precompiled(mod).then((v) => {
      if (v && !ready.has(mod)) {
        ready.set(mod, v);
        validatorOrigins.set(mod.name, 'precompiled');
      }
    });
    loading.set(mod, p);
  }
  return p;
}

/** The module's rendered-argument validator: the precompiled one if loaded, else compiled now (once). */
export function argValidator(mod: AnyModule): ArgValidator {
  let v = ready.get(mod);
  if (!v) {
    v = compile(mod);
    ready.set(mod, v);
    validatorOrigins.set(mod.name, 'compiled');
  }
  return coercing(mod, v);
}

const coercingValidators = new WeakMap<ArgValidator, ArgValidator>();

/**
 * Like ajv's `coerceTypes`, but with Ansible's rules (AnsibleModule's argument_spec types, see coerceArgs):
 * the rendered arguments are converted IN PLACE before the check, so `port: "{{ port }}"` rendering to "22"
 * reaches the module as 22, and "yes" for a boolean as true. The caller's object is the one it passes on to
 * the module (invoke-module.ts); nested lists and mappings are copied, never changed, as they may be variables.
 */
function coercing(mod: AnyModule, validate: ArgValidator): ArgValidator {
  let wrapped = coercingValidators.get(validate);
  if (!wrapped) {
    const check = (data: unknown): boolean => {
      if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
        const args = data as Record<string, unknown>;
        Object.assign(args, coerceArgs(args, mod.schema, { rendered: true }));
      }
      const ok = validate(data);
      check.errors = validate.errors ?? null;
      return ok;
    };
    check.errors = null as ErrorObject[] | null;
    wrapped = check;
    coercingValidators.set(validate, wrapped);
  }
  return wrapped;
}

/** minLength/maxLength count code points through this ajv helper; inlined so the .mjs needs no ajv at all. */
const UCS2LENGTH_REQUIRE = /require\("ajv\/dist\/runtime\/ucs2length"\)\.default/g;
// A copy of ajv/dist/runtime/ucs2length.js (MIT): the length of a string in Unicode code points.
const UCS2LENGTH_INLINE = `(function ucs2length(str) {
  const len = str.length;
  let length = 0;
  let pos = 0;
  let value;
  while (pos < len) {
    length++;
    value = str.charCodeAt(pos++);
    if (value >= 0xd800 && value <= 0xdbff && pos < len) {
      value = str.charCodeAt(pos);
      if ((value & 0xfc00) === 0xdc00) pos++;
    }
  }
  return length;
})`;

/**
 * Standalone sources for every module's rendered-argument check, keyed by file name (for scripts/gen-schema.ts
 * and the test that keeps schemas/runtime-validators/ current). A schema whose code would need an ajv runtime
 * helper (`require(…)`) is left out and compiled at run time instead
 * (ucs2length, the one helper the module schemas need, is inlined).
 */
export async function runtimeValidatorSources(modules: readonly AnyModule[]): Promise<Map<string, string>> {
  const [{ Ajv2020 }, { default: standalone }] = await Promise.all([import('ajv/dist/2020.js'), import('ajv/dist/standalone/index.js')]);
  const files = new Map<string, string>();
  // A module with a spec is checked by the spec itself (src/modules/spec/parse.ts), not by ajv.
  for (const mod of modules.filter((m) => m.spec === undefined).sort((a, b) => a.name.localeCompare(b.name))) {
    const one = new Ajv2020({ ...runtimeAjvOptions, code: { source: true, esm: true } });
    const source = standalone.default(one, one.compile(mod.schema)).replace(UCS2LENGTH_REQUIRE, UCS2LENGTH_INLINE);
    if (/\brequire\(/.test(source)) continue;
    files.set(
      runtimeValidatorFile(mod),
      [
        `// Generated by scripts/gen-schema.ts (npm run gen:schema) from the schema of module \`${mod.name}\`: do not edit.`,
        source,
        `export const hash = '${schemaHash(mod.schema)}';`,
        '',
      ].join('\n'),
    );
  }
  return files;
}
