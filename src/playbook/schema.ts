import { collectionPrefixes } from '../modules/lookup.js';
import { allModules } from '../modules/registry.js';
import { moduleKeys, moduleNameProblem, notImplementedMessage } from '../modules/ansible-names.js';
import { ACTION_ONLY } from '../modules/library/search-path.js';
import { ansibleCollections } from '../modules/ansible-names.generated.js';
import { unsupportedPlayKeys, unsupportedTaskKeys } from './unsupported-keywords.js';
import type { AnyModule } from '../modules/types.js';

/**
 * The playbook JSON Schema (draft 2020-12), built from the module registry so module argument specs and the
 * schema in schemas/playbook.schema.json cannot drift. The same object feeds the load-time ajv validator
 * (src/playbook/validate.ts), which compiles fragments of it (`$defs/taskKeywords`, `$defs/args.NAME`) lazily.
 */

export type Schema = Record<string, unknown>;

export const SCHEMA_ID = 'https://vncplay.dev/schemas/playbook.schema.json';

/** A string that the runner renders at run time: accepted wherever a number, boolean, list or enum is expected. */
export const TEMPLATE_PATTERN = '\\{\\{|\\{%';

export function templateSchema(): Schema {
  return {
    type: 'string',
    pattern: TEMPLATE_PATTERN,
    description: 'A Jinja2 template ("{{ var }}"), rendered per host at run time and then checked.',
  };
}

export function isTemplateSchema(s: unknown): boolean {
  return typeof s === 'object' && s !== null && (s as Schema).pattern === TEMPLATE_PATTERN && (s as Schema).type === 'string';
}

/** Annotations kept on the outer schema when wrapped, so editors still show them on hover. */
const annotationKeys = ['title', 'description', 'default', 'examples', 'deprecated', 'deprecationMessage', 'markdownDescription', 'doNotSuggest', 'errorMessage'];

/** True when a plain string like "{{ x }}" would fail this schema, so a template alternative is needed. */
function needsTemplateAlternative(s: Schema): boolean {
  if ('enum' in s || 'const' in s || 'pattern' in s || 'format' in s) return true;
  const t = s.type;
  const types = Array.isArray(t) ? t : t === undefined ? [] : [t];
  return types.length > 0 && !types.includes('string');
}

/**
 * Deep copy of a module or keyword schema where every value that expects a number, boolean, list, mapping or
 * enum also accepts a template string. The runner renders and re-checks the module schema strictly.
 */
export function allowTemplates(schema: Schema, opts: { root?: boolean } = {}): Schema {
  const s: Schema = { ...schema };
  delete s.$schema;
  delete s.$id;
  if (isObject(s.properties)) {
    s.properties = Object.fromEntries(
      Object.entries(s.properties).map(([k, v]) => [k, isObject(v) ? allowTemplates(v) : v]),
    );
  }
  if (isObject(s.items)) s.items = allowTemplates(s.items);
  if (isObject(s.additionalProperties)) s.additionalProperties = allowTemplates(s.additionalProperties);
  for (const comb of ['anyOf', 'oneOf'] as const) {
    const list = s[comb];
    if (Array.isArray(list)) {
      // Branches are not wrapped one by one: the single template branch added below covers them all.
      const branches = list.map((x: unknown) => (isObject(x) ? allowTemplates(x, { root: true }) : x));
      s[comb] = branches;
      // At the root (a module's argument object) a combinator says which parameters go together; a
      // template alternative only makes sense for values, and only when no branch takes any string already.
      const takesAnyString = branches.some((b) => isObject(b) && !needsTemplateAlternative(b) && (b.type === 'string' || (Array.isArray(b.type) && b.type.includes('string'))));
      if (!opts.root && !takesAnyString && !list.some(isTemplateSchema)) {
        branches.push(templateSchema());
        // A template may also match another branch; "exactly one" must not turn that into an error.
        if (comb === 'oneOf') {
          delete s.oneOf;
          s.anyOf = branches;
        }
      }
      return s;
    }
  }
  if (opts.root || !needsTemplateAlternative(s)) return s;
  const outer: Schema = {};
  const inner: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (annotationKeys.includes(k)) outer[k] = v;
    else inner[k] = v;
  }
  // A template is a string too: a string schema stays one outside, so a number fails there, with the schema's own
  // errorMessage (yaml-language-server reports the wrapper's type check, not its branches': `mode: 644`).
  if (s.type === 'string') outer.type = 'string';
  outer.anyOf = [inner, templateSchema()];
  return outer;
}

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------- keywords ----------

const conditionSchema: Schema = {
  type: ['string', 'boolean', 'array'],
  items: { type: ['string', 'boolean'] },
};
const boolOrTemplate = (description: string): Schema => allowTemplates({ type: 'boolean', description });
/** Keywords that say how to reach the host and escalate there, for plays, blocks and tasks alike. */
function connectionKeywordProperties(): Record<string, Schema> {
  return {
    remote_user: { type: 'string', description: 'Log in as this user where the inventory sets no ansible_user (beats -u and ansible.cfg).' },
    connection: allowTemplates({
      enum: ['ssh', 'local', 'smart', 'ansible.builtin.ssh', 'ansible.builtin.local'],
      description: 'How to reach the host where the inventory sets no ansible_connection: ssh (smart is ssh) or local.',
    }),
    become_method: allowTemplates({
      enum: ['sudo', 'su', 'ansible.builtin.sudo', 'ansible.builtin.su'],
      description: "How to become another user: sudo, or su (with the target user's password: ansible_become_password or -K).",
    }),
  };
}

const stringList = (description: string): Schema => ({
  type: ['string', 'array'],
  items: { type: 'string' },
  description,
});
const tagsSchema: Schema = {
  type: ['string', 'array'],
  items: { type: ['string', 'number'] },
  description: 'Tags for --tags/--skip-tags: a list, or a comma-separated string.',
};
const varsSchema: Schema = {
  type: 'object',
  description: 'Variables for this scope (values may be templates).',
};
const moduleDefaultsSchema: Schema = {
  type: ['object', 'array'],
  items: { type: 'object' },
  description: 'Default arguments per module (`ansible.builtin.file: {owner: vnc}`) for the tasks in this scope; a task\'s own arguments win.',
};

/** Names the loader treats as `include_tasks`/`import_tasks` (with their FQCN forms). */
export const includeKeys = ['include_tasks', 'ansible.builtin.include_tasks'] as const;
export const importKeys = ['import_tasks', 'ansible.builtin.import_tasks'] as const;
/** The old `include:` (deprecated in Ansible 2.14): import_tasks or include_tasks depending on its use. */
export const legacyIncludeKeys = ['include', 'ansible.builtin.include'] as const;
export const includeRoleKeys = ['include_role', 'ansible.builtin.include_role'] as const;
export const roleKeys = ['import_role', 'ansible.builtin.import_role', ...includeRoleKeys] as const;
export const importPlaybookKeys = ['import_playbook', 'ansible.builtin.import_playbook'] as const;

const taskFileSchema = (description: string): Schema => ({
  description,
  type: ['string', 'object'],
  properties: {
    file: { type: 'string', description: 'Task file, relative to the including file, then the playbook folder.' },
    apply: { type: 'object', description: 'Keywords applied to the included tasks (include_tasks only).' },
  },
  additionalProperties: false,
});

/** import_role's arguments are read at load; include_role's may be templates, rendered when it is reached. */
const roleImportSchema = (description: string, dynamic: boolean): Schema => ({
  description,
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Role name (roles/NAME beside the playbook, a sub-path, NS.COLL.ROLE) or path.' },
    tasks_from: { type: 'string', description: 'File of tasks/ to run instead of main.yml.' },
    vars_from: { type: 'string', description: 'File of vars/ to load instead of main.yml.' },
    defaults_from: { type: 'string', description: 'File of defaults/ to load instead of main.yml.' },
    handlers_from: { type: 'string', description: 'File of handlers/ to load instead of main.yml.' },
    public: dynamic
      ? boolOrTemplate("Keep the role's defaults and vars visible to the play's later tasks (default: only the role's own tasks see them).")
      : { type: 'boolean', description: 'Accepted; an imported role\'s variables are always play-wide.' },
    allow_duplicates: { type: 'boolean', description: 'Accepted; an imported or included role always runs.' },
    apply: { type: 'object', description: 'Accepted; keywords of this task (but its `when` and `tags`) apply to every role task.' },
  },
  required: ['name'],
  additionalProperties: false,
});

/**
 * Task keywords (everything a task may hold besides its one module key). `block`/`rescue`/`always` are only
 * `array` here: the loader walks nested tasks itself; the editor schema replaces them with `$ref`s.
 */
export function taskKeywordProperties(): Record<string, Schema> {
  const include = taskFileSchema('Load a task file at run time (its name may be a template).');
  const imp = taskFileSchema('Insert a task file at load time (static: its name cannot be a template).');
  return {
    name: { type: 'string', description: 'Task name, shown in output and used by --start-at-task.' },
    when: { ...conditionSchema, description: 'Run only when this Jinja2 expression (or all in the list) is true.' },
    loop: allowTemplates({ type: 'array', description: 'Run the task once per item (`item`, or loop_control.loop_var).' }),
    with_items: {
      type: ['array', 'string', 'number', 'boolean'],
      description: 'Legacy loop: like `loop`, flattening one level; a single value is a one-item list (a bare `var` is its name, as in Ansible 2.14).',
    },
    loop_control: {
      type: 'object',
      description: 'Loop options.',
      properties: {
        loop_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Name of the loop variable (default item).' },
        label: { type: 'string', description: 'What output shows for each item.' },
        index_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Variable holding the 0-based index.' },
        pause: allowTemplates({ type: 'number', minimum: 0, description: 'Seconds to wait between items.' }),
        extended: boolOrTemplate('Expose ansible_loop with extended information.'),
      },
      additionalProperties: false,
    },
    register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Save the result in this variable.' },
    notify: stringList('Handlers (names or listen topics) to notify when this task changed something.'),
    changed_when: { ...conditionSchema, description: 'Override when the task reports changed.' },
    failed_when: { ...conditionSchema, description: 'Override when the task reports failed.' },
    ignore_errors: boolOrTemplate('Continue with the host when this task fails.'),
    any_errors_fatal: boolOrTemplate('This task (or any task of this block) failing on a host, not rescued, ends the play for every host.'),
    module_defaults: moduleDefaultsSchema,
    retries: allowTemplates({ type: 'integer', minimum: 0, description: 'Attempts for `until` (default 3).' }),
    delay: allowTemplates({ type: 'number', minimum: 0, description: 'Seconds between `until` attempts (default 5).' }),
    until: { ...conditionSchema, description: 'Retry the task until this expression is true.' },
    tags: tagsSchema,
    become: boolOrTemplate('Run with privilege escalation (sudo -n).'),
    become_user: { type: 'string', description: 'User to become (default root).' },
    ...connectionKeywordProperties(),
    check_mode: boolOrTemplate('true: always run in check mode; false: run for real even under --check.'),
    delegate_to: { type: 'string', description: 'Run on this host instead: an inventory host (its own connection variables), localhost (the controller), or an address reached by name.' },
    delegate_facts: boolOrTemplate('With delegate_to: facts the task gathers go to the delegated host instead of the task\'s host.'),
    run_once: boolOrTemplate('Run on the first host of the batch only.'),
    async: allowTemplates({ type: 'integer', minimum: 0, description: 'Run the module (command, shell) in the background, killed after this many seconds; 0 runs it in the foreground.' }),
    poll: allowTemplates({ type: 'integer', minimum: 0, description: 'With async: check the job every this many seconds until it ends (default 15); 0 starts it and goes on (read it later with async_status).' }),
    no_log: boolOrTemplate('Hide arguments and results of this task in every output.'),
    vars: varsSchema,
    args: { type: 'object', description: 'Module arguments, merged with the ones given on the module key.' },
    environment: allowTemplates({
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      description: 'Environment variables for the module command.',
    }),
    listen: stringList('Handlers only: extra topics this handler answers to.'),
    block: { type: 'array', description: 'Tasks run as a group sharing keywords.' },
    rescue: { type: 'array', description: 'Tasks run when a task of the block failed.' },
    always: { type: 'array', description: 'Tasks run after the block whatever happened.' },
    include_tasks: include,
    'ansible.builtin.include_tasks': include,
    ...Object.fromEntries(
      legacyIncludeKeys.map((k) => [
        k,
        { type: 'string', description: 'Deprecated (Ansible 2.14): `include: file.yml a=1` — import_tasks, or include_tasks when templated or looped.' },
      ]),
    ),
    import_tasks: imp,
    'ansible.builtin.import_tasks': imp,
    action: {
      type: ['string', 'object'],
      properties: { module: { type: 'string' } },
      description: 'Older form: `action: MODULE args` (or a mapping with `module:`).',
    },
    local_action: {
      type: ['string', 'object'],
      properties: { module: { type: 'string' } },
      description: 'Older form of `action` with `delegate_to: localhost`.',
    },
    import_role: roleImportSchema('Insert a role\'s tasks here (loaded at load time).', false),
    'ansible.builtin.import_role': roleImportSchema('Insert a role\'s tasks here (loaded at load time).', false),
    include_role: roleImportSchema('Run a role when this task is reached, on each host (its name and files may be templates; it may loop).', true),
    'ansible.builtin.include_role': roleImportSchema('Run a role when this task is reached, on each host (its name and files may be templates; it may loop).', true),
  };
}

/** Play keywords; task lists and roles are `array` only here (see taskKeywordProperties). */
export function playKeywordProperties(): Record<string, Schema> {
  return {
    name: { type: 'string', description: 'Play name (default: the hosts pattern).' },
    hosts: {
      type: ['string', 'array'],
      items: { type: 'string' },
      description: 'Host pattern: names, groups, globs, a:b, a:&b, a:!b.',
    },
    vars: varsSchema,
    vars_files: {
      type: ['string', 'array'],
      items: { type: ['string', 'array'], items: { type: 'string' } },
      description: 'YAML files of variables, relative to the playbook (a nested list: the first that exists).',
    },
    vars_prompt: {
      type: 'array',
      description: 'Variables asked for when the play starts (not when given with -e; their default under --list-*/--syntax-check).',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Variable to set.' },
          prompt: { type: 'string', description: 'Question shown (default: the name).' },
          default: { type: ['string', 'number', 'boolean'], description: 'Value of an empty answer.' },
          private: { type: ['boolean', 'string'], description: 'Hide the typed answer (default true).' },
          confirm: { type: ['boolean', 'string'], description: 'Ask twice; the answers must match.' },
          encrypt: { enum: ['sha512_crypt', 'sha256_crypt', 'md5_crypt'], description: 'Hash the answer as crypt(3) does (with openssl passwd).' },
          salt_size: { type: 'integer', minimum: 1, maximum: 16, description: 'Length of the random salt (default 8).' },
          salt: { type: 'string', description: 'Fixed salt instead of a random one.' },
          unsafe: { type: ['boolean', 'string'], description: 'The answer is data: never rendered as a template.' },
        },
      },
    },
    become: boolOrTemplate('Privilege escalation for every task of the play.'),
    become_user: { type: 'string', description: 'User to become (default root).' },
    ...connectionKeywordProperties(),
    order: {
      enum: ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'],
      description: 'Order of the hosts (and so of serial batches): inventory order by default.',
    },
    gather_facts: {
      type: 'boolean',
      description: 'Accepted for compatibility; vncplay gathers facts lazily, when a task uses them.',
    },
    serial: {
      type: ['integer', 'string', 'array'],
      items: { type: ['integer', 'string'] },
      description: 'Batch size: a number, a percentage ("30%"), or a list of them.',
    },
    max_fail_percentage: allowTemplates({ type: 'number', minimum: 0, maximum: 100, description: 'Abort the play above this share of failed hosts in a batch.' }),
    any_errors_fatal: { type: 'boolean', description: 'Any failed host stops the whole play.' },
    module_defaults: moduleDefaultsSchema,
    strategy: { enum: ['linear', 'free'], description: 'linear: hosts move task by task together; free: each host runs ahead.' },
    tags: tagsSchema,
    environment: allowTemplates({
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      description: 'Environment variables for every task of the play (merged with a block\'s or task\'s own: theirs win per variable).',
    }),
    no_log: boolOrTemplate('Hide arguments and results of every task of the play.'),
    check_mode: boolOrTemplate('Check mode for every task of the play (a task\'s own check_mode wins).'),
    ignore_errors: boolOrTemplate('Continue with a host when a task fails, for every task of the play.'),
    roles: { type: 'array', description: 'Roles to run (before `tasks`).' },
    collections: {
      type: 'array',
      items: { type: 'string', pattern: '^\\w+\\.\\w+$' },
      description: 'Collections (NS.COLL) searched for short role names; modules are found by their short names anyway.',
    },
    pre_tasks: { type: 'array', description: 'Tasks run before the roles.' },
    tasks: { type: 'array', description: 'Tasks of the play.' },
    post_tasks: { type: 'array', description: 'Tasks run after `tasks`.' },
    handlers: { type: 'array', description: 'Tasks run once at the end of the play (or on meta: flush_handlers) when notified.' },
  };
}

export function importPlaybookProperties(): Record<string, Schema> {
  const file: Schema = { type: 'string', description: 'Playbook file to insert here, relative to this playbook.' };
  return {
    import_playbook: file,
    'ansible.builtin.import_playbook': file,
    name: { type: 'string' },
    tags: tagsSchema,
    vars: varsSchema,
    when: { ...conditionSchema, description: 'Condition applied to every task of the imported plays.' },
  };
}

/** Keys a role entry (`roles: [{role: x, ...}]`) understands; any other key is a role parameter, as in Ansible. */
export function roleEntryProperties(): Record<string, Schema> {
  return {
    role: { type: 'string', description: 'Role name (roles/NAME beside the playbook) or path.' },
    name: { type: 'string', description: 'Same as role.' },
    tags: tagsSchema,
    when: { ...conditionSchema, description: 'Condition applied to every task of the role.' },
    vars: varsSchema,
    become: boolOrTemplate('Privilege escalation for the role tasks.'),
    become_user: { type: 'string' },
  };
}

// ---------- modules ----------

export { collectionPrefixes, createModuleLookup, type ModuleLookup } from '../modules/lookup.js';

/** The module's argument schema as the loader checks it: templates allowed, unknown parameters refused. */
export function moduleArgsSchema(m: AnyModule): Schema {
  const s = allowTemplates(m.schema, { root: true });
  if (!('additionalProperties' in s)) s.additionalProperties = false;
  s.title = `${m.name} arguments`;
  return s;
}

function moduleValueSchema(m: AnyModule): Schema {
  const desc = typeof m.schema.description === 'string' ? m.schema.description : `The ${m.name} module.`;
  const free = m.freeForm
    ? `Free-form: the string becomes \`${m.freeForm}\` (key=value pairs for other parameters are extracted).`
    : 'key=value pairs, as Ansible accepts them (a mapping is clearer).';
  return {
    title: m.name,
    description: desc,
    anyOf: [{ $ref: `#/$defs/args.${m.name}` }, { type: 'string', description: free }, { type: 'null' }],
  };
}

// ---------- what only the editor schema says ----------

/**
 * YAML 1.1's booleans (`yes`, `no`, `on` …), which the loader reads as true/false; an editor reading YAML 1.2 (the
 * default of yaml-language-server) sees the same words as strings, so the editor schema accepts them there too.
 */
const YAML11_BOOLEAN = '^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$';

function acceptYaml11Booleans(s: Schema): Schema {
  const words = { type: 'string', pattern: YAML11_BOOLEAN, description: 'A YAML 1.1 boolean (yes/no, on/off), as the runner reads it.' };
  if (s.type === 'boolean') {
    const { type: _boolean, ...annotations } = s;
    return { ...annotations, anyOf: [{ type: 'boolean' }, words] };
  }
  const branches = s.anyOf;
  if (Array.isArray(branches) && branches.some((b) => isObject(b) && b.type === 'boolean')) return { ...s, anyOf: [...branches, words] };
  return s;
}

/**
 * A name the runner refuses with a reason: an error in the editor with that reason, never offered for completion.
 * yaml-language-server says only "Matches a schema that is not allowed" for `not`, but shows a deprecationMessage
 * as it is: the reason reaches the editor through it.
 */
function refusedName(message: string): Schema {
  return { not: {}, errorMessage: message, deprecationMessage: message, description: message, doNotSuggest: true };
}

/** The loader's E_NO_MODULE words, for the editor (yaml-language-server shows an errorMessage for a missing `required`). */
const NO_ACTION_MESSAGE = 'task has no module: expected one module key such as `command:` or `debug:`';

/**
 * Ansible's own modules (ansible.builtin) vncplay lacks, short and FQCN: the runner runs them from the controller's
 * ansible-core as Ansible does (any arguments: the module checks them when it runs), except the action-only ones
 * (set_stats, validate_argument_spec: Python on the controller), named as such, not as typos.
 */
function unimplementedModuleProperties(taken: Record<string, unknown>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const name of (ansibleCollections['ansible.builtin'] ?? '').split(' ')) {
    for (const key of [name, `ansible.builtin.${name}`]) {
      const problem = key in taken ? undefined : moduleNameProblem(key);
      if (!problem) continue;
      out[key] = ACTION_ONLY.has(name)
        ? refusedName(`${problem.message}, and it is an action plugin (Python Ansible runs on the controller, which vncplay does not): ${problem.hint}`)
        : { description: `${notImplementedMessage(key, `ansible.builtin.${name}`)}: it runs from the controller's ansible-core, as Ansible runs it, and checks its arguments itself when it runs` };
    }
  }
  return out;
}

/** Keys that make a task do something: a module, a block, an include or import, action/local_action. */
function taskActionKeys(moduleProps: Record<string, Schema>): string[] {
  return [...Object.keys(moduleProps), 'block', ...includeKeys, ...importKeys, ...legacyIncludeKeys, ...roleKeys, 'action', 'local_action'];
}

// ---------- the whole schema ----------

export function buildPlaybookSchema(modules: readonly AnyModule[] = allModules()): Schema {
  const sorted = [...modules].sort((a, b) => a.name.localeCompare(b.name));
  const defs: Record<string, Schema> = {};
  const moduleProps: Record<string, Schema> = {};
  for (const m of sorted) {
    defs[`args.${m.name}`] = moduleArgsSchema(m);
    defs[`module.${m.name}`] = moduleValueSchema(m);
    const ref = { $ref: `#/$defs/module.${m.name}` };
    for (const k of moduleKeys(m)) moduleProps[k] = ref;
  }

  const taskRef = { $ref: '#/$defs/taskList' };
  const editorKeywords = (props: Record<string, Schema>): Record<string, Schema> =>
    Object.fromEntries(Object.entries(props).map(([k, v]) => [k, acceptYaml11Booleans(v)]));
  const taskProps: Record<string, Schema> = editorKeywords(taskKeywordProperties());
  for (const k of ['block', 'rescue', 'always'] as const) taskProps[k] = { ...taskProps[k], ...taskRef };
  for (const [k, hint] of Object.entries(unsupportedTaskKeys)) {
    taskProps[k] ??= refusedName(`\`${k}\` is an Ansible task keyword that vncplay does not support: ${hint}`);
  }
  const playProps: Record<string, Schema> = editorKeywords(playKeywordProperties());
  for (const k of ['pre_tasks', 'tasks', 'post_tasks', 'handlers'] as const) playProps[k] = { ...playProps[k], ...taskRef };
  for (const [k, hint] of Object.entries(unsupportedPlayKeys)) {
    playProps[k] ??= refusedName(`\`${k}\` is an Ansible play keyword that vncplay does not support: ${hint}`);
  }
  playProps.roles = {
    ...playProps.roles,
    items: {
      anyOf: [
        { type: 'string', description: 'Role name.' },
        { type: 'object', properties: editorKeywords(roleEntryProperties()), description: 'Role with keywords; other keys are role parameters.' },
      ],
    },
  };

  const unimplemented = unimplementedModuleProperties({ ...taskProps, ...moduleProps });
  const runFromAnsibleCore = Object.fromEntries(Object.entries(unimplemented).filter(([, s]) => !('not' in s)));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'vncplay playbook',
    description: 'An Ansible-compatible playbook: a list of plays (or import_playbook entries). Generated by scripts/gen-schema.ts.',
    type: 'array',
    items: { anyOf: [{ $ref: '#/$defs/play' }, { $ref: '#/$defs/importPlaybook' }] },
    $defs: {
      play: {
        title: 'Play',
        type: 'object',
        properties: playProps,
        required: ['hosts'],
        additionalProperties: false,
      },
      importPlaybook: {
        title: 'import_playbook',
        type: 'object',
        properties: importPlaybookProperties(),
        additionalProperties: false,
      },
      taskList: { type: 'array', items: { $ref: '#/$defs/task' } },
      task: {
        title: 'Task',
        description: 'One module key plus task keywords; or block/rescue/always; or include_tasks/import_tasks.',
        type: 'object',
        properties: { ...unimplemented, ...taskProps, ...moduleProps },
        // Exactly one thing to do, as the loader demands: not two modules, not none.
        oneOf: taskActionKeys({ ...runFromAnsibleCore, ...moduleProps }).map((k) => ({ required: [k], errorMessage: NO_ACTION_MESSAGE })),
        patternProperties: {
          '^with_[A-Za-z0-9_.]+$': { description: 'Legacy loop over a lookup\'s results (with_dict, with_subelements, with_sequence …): any lookup of the README\'s list.' },
        },
        additionalProperties: false,
      },
      // Fragments compiled by the loader (src/playbook/validate.ts): keywords only, nested lists not followed.
      taskKeywords: { type: 'object', properties: taskKeywordProperties() },
      playKeywords: { type: 'object', properties: playKeywordProperties() },
      importPlaybookKeywords: { type: 'object', properties: importPlaybookProperties() },
      roleEntry: { type: 'object', properties: roleEntryProperties() },
      ...defs,
    },
  };
}

/** The exact text of schemas/playbook.schema.json (scripts/gen-schema.ts writes it; a test compares it). */
export function playbookSchemaJson(modules: readonly AnyModule[] = allModules()): string {
  return `${JSON.stringify(buildPlaybookSchema(modules), null, 2)}\n`;
}

/**
 * schemas/tasks.schema.json: for task files (roles/NAME/tasks/*.yml, import_tasks targets). It only points into
 * playbook.schema.json, relative to its own location, so the two cannot disagree.
 */
export function taskFileSchemaJson(): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'vncplay task file',
    description: 'A list of tasks (roles/NAME/tasks/*.yml, handlers/*.yml, import_tasks/include_tasks files). Generated by scripts/gen-schema.ts.',
    $ref: './playbook.schema.json#/$defs/taskList',
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Keys that only inform people (editors show them); validation ignores them, so the loader drops them. */
const annotationOnly = new Set(['title', 'description', 'default', 'examples', 'deprecated', 'markdownDescription']);

function stripAnnotations(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(stripAnnotations);
  if (!isObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (annotationOnly.has(k)) continue;
    // Inside these maps the keys are names (a parameter may well be called `description`), not keywords.
    out[k] = (k === 'properties' || k === 'patternProperties' || k === '$defs') && isObject(v)
      ? Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, stripAnnotations(sub)]))
      : stripAnnotations(v);
  }
  return out;
}

const keywordFragments: Record<string, () => Record<string, Schema>> = {
  taskKeywords: taskKeywordProperties,
  playKeywords: playKeywordProperties,
  importPlaybookKeywords: importPlaybookProperties,
  roleEntry: roleEntryProperties,
};

/**
 * One fragment the loader validates with (src/playbook/validate.ts), without annotations: a keyword set (module
 * arguments are checked by each module's spec). Built from the same functions as buildPlaybookSchema's `$defs` (a
 * test checks they are equal), but alone: a --syntax-check should not build the whole schema.
 */
export function loaderFragment(name: string): Schema | undefined {
  const keywords = keywordFragments[name];
  return keywords ? (stripAnnotations({ type: 'object', properties: keywords() }) as Schema) : undefined;
}

/** Every loader fragment by name (precompilation and tests). */
export function loaderFragments(): Record<string, Schema> {
  return Object.fromEntries(Object.keys(keywordFragments).map((n) => [n, loaderFragment(n)!]));
}
