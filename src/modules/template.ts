import { readFile, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { ModuleError } from '../errors.js';
import { checkWriteArgs, gatherWrite, planWrite, writeNoop, writeOptions, writeReport, type WriteFacts } from './copy.js';
import { baseName } from './file-common.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';

const spec = defineSpec({
  description: 'Render a Jinja2 template file from the controller with the play variables and write it on the host like copy.',
  options: {
    ...writeOptions,
    src: { type: 'path', required: true, pattern: '\\S', patternText: 'a non-empty path', description: "Template on the controller (role's templates/, then beside the playbook)." },
    newline_sequence: {
      type: 'str',
      choices: ['\\n', '\\r', '\\r\\n', '\n', '\r', '\r\n'],
      default: '\\n',
      description: "Line ending of the written file: '\\n', '\\r' or '\\r\\n' (written with single quotes, as in Ansible).",
    },
    trim_blocks: { type: 'bool', default: true, description: 'Remove the first newline after a block tag, as Ansible.' },
    lstrip_blocks: { type: 'bool', default: false, description: 'Strip spaces and tabs before a block tag.' },
    output_encoding: { type: 'str', choices: ['utf-8', 'utf8', 'UTF-8'], description: 'Only utf-8 is supported.' },
  },
  check: checkWriteArgs,
});

/** ansible.builtin.template: render a controller-side Jinja2 file with the task's variables and copy the result. */
export type TemplateArgs = ArgsOf<typeof spec.options>;

/** Ansible normalises every line ending of the rendered text to newline_sequence ('\\r\\n' or a real CR LF). */
export function applyNewlineSequence(text: string, sequence = '\n'): string {
  const seq = sequence.replaceAll('\\n', '\n').replaceAll('\\r', '\r');
  const lf = text.replace(/\r\n|\r/g, '\n');
  return seq === '\n' ? lf : lf.replaceAll('\n', seq);
}

/**
 * The variables Ansible's template action adds for every template: ansible_managed (its default text unless the
 * play sets it), template_path/fullpath/host/uid/destpath/run_date.
 */
export function templateVars(found: string, dest: string, vars: Record<string, unknown>): Record<string, unknown> {
  return {
    ansible_managed: vars['ansible_managed'] ?? 'Ansible managed',
    template_path: found,
    template_fullpath: found,
    template_destpath: dest,
    template_host: hostname(),
    template_uid: userInfo().username,
    template_run_date: new Date().toISOString(),
  };
}

/**
 * Define the template_* variables inside the template itself (`{% set %}` on the first line, no newline added),
 * so they exist whether or not the renderer honours RenderOptions.extraVars. Play variables win, as in Ansible.
 */
export function withTemplateVars(source: string, extra: Record<string, unknown>, vars: Record<string, unknown>): string {
  const sets = Object.entries(extra)
    .filter(([k, v]) => !(k in vars) && typeof v === 'string')
    .map(([k, v]) => `{% set ${k} = ${JSON.stringify(v)} %}`)
    .join('');
  return sets + source;
}

export const templateModule = plannedModule(spec, {
  kind: 'planned',
  name: 'template',
  where: 'host',
  controllerFiles: () => [{ param: 'src', kind: 'templates' }],
  async gather(args, ctx): Promise<WriteFacts> {
    const found = await ctx.findFile(args.src, 'templates');
    let source: string;
    try {
      source = await readFile(found, 'utf8');
    } catch (e) {
      throw new ModuleError('E_TEMPLATE_SRC', `could not read template ${found}: ${(e as Error).message}`, { cause: e });
    }
    // Rendering happens here, on the controller, so plan() stays pure and --check shows the real result.
    const extraVars = templateVars(found, args.dest, ctx.vars);
    const rendered = ctx.render(withTemplateVars(source, extraVars, ctx.vars), {
      trimBlocks: args.trim_blocks,
      lstripBlocks: args.lstrip_blocks,
      extraVars,
      file: found,
    });
    const text = applyNewlineSequence(rendered, args.newline_sequence);
    const srcMode = args.mode === 'preserve' ? (await stat(found)).mode & 0o7777 : undefined;
    return gatherWrite(args, ctx, Buffer.from(text, 'utf8'), baseName(found), found, srcMode);
  },
  plan: planWrite,
  noop: writeNoop,
  report: writeReport,
});
