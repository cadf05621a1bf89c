/**
 * A module's declarative argument spec, in the spirit of Ansible's argument_spec: per parameter a `type` that IS
 * the conversion (done once, by parse.ts), `choices`, `default`, `aliases`, `required`, `no_log`; per module the
 * cross-field rules. From one spec come the module's TypeScript `Args` type (ArgsOf below), its JSON Schema for
 * editors (json-schema.ts), its README entry and the runner's checks at load and run time (parse.ts).
 */

/**
 * Ansible's argument_spec types vncplay's modules use. `path` converts like `str` (no `~` expansion: see parse.ts).
 * `mode` is vncplay's own (Ansible declares file modes `raw` and parses them in the module): an octal string
 * ('0644', '0o644') or a symbolic mode ('u=rw,go=r'); a number is refused, since YAML reads 644 as decimal.
 */
export type ParamType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'path' | 'raw' | 'mode';
/** What a list's items are (`elements`). */
export type ElementType = Exclude<ParamType, 'list'>;

export interface ParamSpec {
  type: ParamType;
  /** List items' type; `dict` items may declare `options`. */
  elements?: ElementType;
  /** Keys of a `dict` (or of each `dict` item of a list), checked and converted the same way. */
  options?: Options;
  choices?: readonly (string | number)[];
  default?: unknown;
  aliases?: readonly string[];
  required?: boolean;
  /** Never shown in output: the runner redacts the value everywhere (a password, a cloud key). */
  no_log?: boolean;
  description?: string;
  /** Constraints beyond Ansible's types, also written into the JSON Schema: numbers in [min, max]. */
  min?: number;
  max?: number;
  /** A string value (or each string item) must match this regular expression (JavaScript syntax, `u` flag). */
  pattern?: string;
  /** What `pattern` means, for the message when it does not match ("a signal name or number like HUP or 15"). */
  patternText?: string;
  /** Accepted for compatibility and ignored (Ansible's `service` parameters systemd does not use). */
  ignored?: boolean;
  /** Words taken as they are besides the values of `type` (copy's `mode: preserve`). */
  keywords?: readonly string[];
  /**
   * Values older playbooks use that Ansible 2.14 refuses only when the task runs (service's `state: running`):
   * value → what to write instead. Still refused, but at load time as a warning (see `removedParams`).
   */
  removedValues?: Readonly<Record<string, string>>;
}

export type Options = Readonly<Record<string, ParamSpec>>;

/** Ansible's required_if entry: when `param == value`, all (or with `anyOf`, one) of `then` must be given. */
export type RequiredIf = readonly [param: string, value: unknown, then: readonly string[], anyOf?: boolean];

export interface ModuleSpec<O extends Options = Options> {
  /** One sentence: what the module does (README and editor hover). */
  description: string;
  options: O;
  mutually_exclusive?: readonly (readonly string[])[];
  required_one_of?: readonly (readonly string[])[];
  required_together?: readonly (readonly string[])[];
  required_if?: readonly RequiredIf[];
  required_by?: Readonly<Record<string, readonly string[]>>;
  /**
   * Other parameter names the module accepts (set_fact: any variable name), as `raw` values; a name must match
   * `pattern`. Without it an unknown parameter is an error.
   */
  extra?: { pattern: string; patternText: string; description: string };
  /**
   * Parameters older Ansible had and 2.14 refuses only when the task runs (get_url's `sha256sum`): name → what to
   * write instead. ansible-playbook --syntax-check accepts them, so the loader only warns (the task may never run
   * on these hosts); the run-time check refuses them as any unknown parameter, and the task fails there.
   */
  removedParams?: Readonly<Record<string, string>>;
  /**
   * Rules the declarations above cannot say (wait_for: state=drained needs a port, not a path). Gets the parsed
   * arguments (only called when every parameter is valid and no template is still to be rendered); returns the
   * problem and the parameter it is about, so the error points at that parameter's value.
   */
  check?(args: ArgsOf<O>): SpecProblem | readonly SpecProblem[] | undefined;
}

/** A module's own check failed: the message and the parameter whose value the error points at. */
export interface SpecProblem {
  param: string;
  /** Inside the parameter's value: a list item, a key of it (security_group's `rules[0].cidr` is [0, 'cidr']). */
  at?: readonly (string | number)[];
  message: string;
  hint?: string;
}

// ───────────────────────────── the Args type, inferred from the spec ─────────────────────────────

type ScalarOf<T extends ParamType> = T extends 'str' | 'path' | 'mode'
  ? string
  : T extends 'int' | 'float'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends 'dict'
        ? Record<string, unknown>
        : unknown;

type DictOf<P> = P extends { options: infer O extends Options } ? ArgsOf<O> : Record<string, unknown>;

type ElementOf<P> = P extends { elements: infer E extends ElementType }
  ? E extends 'dict'
    ? DictOf<P>
    : P extends { choices: readonly (infer C)[] }
      ? C
      : ScalarOf<E>
  : unknown;

/** The value a module receives for one parameter: the declared type, narrowed to `choices` when it has some. */
export type ValueOf<P extends ParamSpec> = P['type'] extends 'list'
  ? ElementOf<P>[]
  : P['type'] extends 'dict'
    ? DictOf<P>
    : P extends { choices: readonly (infer C)[] }
      ? C
      : ScalarOf<P['type']>;

/** Parameters that always have a value after parsing: required ones and ones with a default. */
type PresentKeys<O extends Options> = {
  [K in keyof O]: O[K] extends { required: true } ? K : O[K] extends { default: NonNullable<unknown> } ? K : never;
}[keyof O];

type Simplify<T> = { [K in keyof T]: T[K] };

/** The parsed arguments of a spec: canonical names only (aliases resolved), defaults filled in, values converted. */
export type ArgsOf<O extends Options> = Simplify<
  { -readonly [K in PresentKeys<O>]: ValueOf<O[K]> } & { -readonly [K in Exclude<keyof O, PresentKeys<O>>]?: ValueOf<O[K]> }
>;

/** The identity, typed: `defineSpec({...})` keeps every literal (choices, required, default) for ArgsOf. */
export function defineSpec<const O extends Options>(spec: ModuleSpec<O>): ModuleSpec<O> {
  return spec;
}
