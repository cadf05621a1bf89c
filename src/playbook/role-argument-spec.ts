import path from 'node:path';
import { parseArgs } from '../modules/spec/parse.js';
import type { ElementType, Options, ParamSpec, ParamType } from '../modules/spec/types.js';
import type { RoleArgumentCheck } from './model.js';

/**
 * A role's argument spec (meta/argument_specs.yml, or `argument_specs` in meta/main.yml), as Ansible checks it:
 * a role whose entry point (`main`, or the `tasks_from` file's name) has a spec gets a first task, "Validating
 * arguments against arg spec 'ENTRY' - SHORT_DESCRIPTION", tagged `always` (Role._prepend_validation_task). It
 * runs Ansible's validate_argument_spec action: the role's variables named in the spec, with the role's parameters
 * over them, checked by the spec's options — here by vncplay's own spec parser, which has Ansible's types and
 * conversions (modules/spec/parse.ts).
 */

/** The task's name, as Ansible's _create_validation_task makes it. */
export function roleArgumentsTaskName(entryPoint: string, shortDescription: unknown): string {
  const name = `Validating arguments against arg spec '${entryPoint}'`;
  return typeof shortDescription === 'string' ? `${name} - ${shortDescription}` : name;
}

const PARAM_TYPES: ReadonlySet<string> = new Set<ParamType>(['str', 'int', 'float', 'bool', 'list', 'dict', 'path', 'raw']);

/** Ansible's type name as the spec parser's; a type vncplay's parser lacks (bits, bytes, json, jsonarg, a callable) is taken as any value. */
function paramType(written: unknown): ParamType {
  if (written === undefined) return 'str'; // Ansible's default type
  return typeof written === 'string' && PARAM_TYPES.has(written) ? (written as ParamType) : 'raw';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The spec's `options` as the parser's Options: type, elements, nested options, choices, aliases and required.
 * Defaults are left out: Ansible's action only checks, it sets no variable, and a default never fails a check.
 */
export function roleOptions(written: Record<string, unknown>): Options {
  const out: Record<string, ParamSpec> = {};
  for (const [name, value] of Object.entries(written)) {
    const o = isRecord(value) ? value : {};
    const spec: { -readonly [K in keyof ParamSpec]: ParamSpec[K] } = { type: paramType(o['type']) };
    if (o['elements'] !== undefined) {
      const elements = paramType(o['elements']);
      spec.elements = elements === 'list' ? 'raw' : (elements as ElementType);
    }
    if (isRecord(o['options'])) spec.options = roleOptions(o['options']);
    if (Array.isArray(o['choices'])) spec.choices = o['choices'].filter((c): c is string | number => typeof c === 'string' || typeof c === 'number');
    if (Array.isArray(o['aliases'])) spec.aliases = o['aliases'].filter((a): a is string => typeof a === 'string');
    if (o['required'] === true) spec.required = true;
    out[name] = spec;
  }
  return out;
}

/**
 * Ansible's validate_argument_spec result for these values (the role's variables the spec names, its parameters
 * over them, all rendered): `failed` with `argument_errors` (one message each), or the "passed" message.
 */
export function validateRoleArguments(check: RoleArgumentCheck, values: Record<string, unknown>): Record<string, unknown> {
  // Ansible's role_path: absolute.
  const context = { argument_spec_name: check.entryPoint, name: check.role, path: path.resolve(check.roleDir), type: 'role' };
  const spec = { description: `the arguments of role ${check.role}`, options: roleOptions(check.options) };
  const { issues } = parseArgs(spec, values, { owner: check.role, rendered: true });
  if (issues.length === 0) return { changed: false, msg: 'The arg spec validation passed', validate_args_context: context };
  // The parser speaks of modules; these are a role's arguments.
  const errors = issues.map((i) => i.message.replace(`module \`${check.role}\``, `role \`${check.role}\``));
  return {
    changed: false,
    failed: true,
    msg: `Validation of arguments failed:\n${errors.join('\n')}`,
    argument_errors: errors,
    argument_spec_data: check.options,
    validate_args_context: context,
  };
}
