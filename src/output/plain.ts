import { pyJson } from '../playbook/filters.js';
import type { RunEvent } from '../runner/events.js';
import { renderDiffs } from './diff.js';
import { banner, formatRecap } from './recap.js';

export interface PlainOptions {
  write(text: string): void;
  verbosity: number;
  color: boolean;
}

/** Ansible-like line output for pipes and logs: a header per play and task, one line per host result. */
export function plainReporter(opts: PlainOptions): (e: RunEvent) => void {
  let lastTask: string | undefined;
  const paint = (code: number, text: string): string => (opts.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const out = (text: string): void => opts.write(text + '\n');
  return (e) => {
    switch (e.type) {
      case 'play_start':
        lastTask = undefined;
        out(`\n${banner(`PLAY [${e.name}]${e.batches > 1 ? ` (batch ${e.batch}/${e.batches})` : ''}`)}`);
        break;
      case 'task_start':
        if (e.task.id !== lastTask) {
          lastTask = e.task.id;
          out(`\n${banner(`${e.task.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.task.name}]`)}`);
          if (opts.verbosity >= 2) out(`task path: ${e.task.path}`);
        }
        break;
      case 'task_result': {
        if (e.task.id !== lastTask) {
          lastTask = e.task.id;
          out(`\n${banner(`${e.task.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.task.name}]`)}`);
        }
        if (e.diff?.length) out(renderDiffs(e.diff).replace(/\n$/, ''));
        out(resultLine(e, opts.verbosity, paint));
        // A bug inside vncplay: its stack, for a bug report (a user's own mistake has none).
        if (opts.verbosity >= 3 && e.error?.stack !== undefined) out(paint(31, e.error.stack));
        break;
      }
      case 'warning':
        out(paint(35, `[WARNING]: ${e.host ? `${e.host}: ` : ''}${e.message}`));
        break;
      case 'verbose':
        if (e.level <= opts.verbosity) out(paint(34, `${e.host ? `[${e.host}] ` : ''}${e.message}`));
        break;
      case 'drill':
        out(paint(36, `drill ${e.phase}: ${JSON.stringify(e.data)}`));
        break;
      case 'no_hosts_remaining':
        out(`\n${banner('NO MORE HOSTS LEFT')}`);
        break;
      case 'recap':
        out(`\n${formatRecap(e.hosts, opts.color)}`);
        break;
      case 'run_end':
        if (e.interrupted) out(paint(31, 'interrupted: no new tasks were started after Ctrl-C'));
        break;
      default:
        break;
    }
  };
}

function resultLine(
  e: Extract<RunEvent, { type: 'task_result' }>,
  verbosity: number,
  paint: (code: number, t: string) => string,
): string {
  const host = e.delegatedTo ? `${e.host} -> ${e.delegatedTo}` : e.host;
  const item = e.label !== undefined ? ` => (item=${e.label})` : '';
  const details = verbosity >= 1 && e.result && e.task.module !== 'debug' ? ` => ${dumpResult(e.result, verbosity)}` : '';
  switch (e.status) {
    case 'ok':
      return paint(32, `ok: [${host}]${item}${msgOf(e)}${details}`);
    case 'changed':
      return paint(33, `changed: [${host}]${item}${msgOf(e)}${details}`);
    case 'skipped':
      return paint(36, `skipping: [${host}]${item}${verbosity >= 1 && e.result ? ` => ${dumpResult(e.task.module === 'debug' ? withoutDebugStatus(e.result) : e.result, verbosity)}` : ''}`);
    case 'ignored':
      return paint(31, `fatal: [${host}]: FAILED! => ${dumpResult(e.result ?? { msg: e.msg }, verbosity)}`) + '\n' + paint(36, '...ignoring');
    case 'unreachable':
      return paint(31, `fatal: [${host}]: UNREACHABLE! => ${dumpResult({ msg: e.msg ?? '', unreachable: true }, verbosity)}`);
    case 'failed':
      return paint(31, `fatal: [${host}]: FAILED! => ${dumpResult(e.result ?? { msg: e.msg }, verbosity)}`);
    case 'rescued':
      return paint(35, `rescued: [${host}]`);
  }
}

/** debug's msg is shown inline as Ansible does; other modules only at -v. */
function msgOf(e: Extract<RunEvent, { type: 'task_result' }>): string {
  if (e.task.module !== 'debug' || !e.result) return '';
  const shown = { ...e.result };
  delete shown['changed'];
  return ` => ${dumpResult(shown, 0, 4)}`;
}

/** A debug result that has no msg, as CallbackBase._clean_results shows it: without its status keys. */
function withoutDebugStatus(result: Record<string, unknown>): Record<string, unknown> {
  const { changed: _changed, skip_reason: _reason, invocation: _invocation, ...shown } = result;
  return shown;
}

/**
 * A result as Ansible's callbacks print it: without the status keys the line already says (TaskResult.clean_copy
 * drops `failed` and `skipped`), through `json.dumps(sort_keys=True, ensure_ascii=False)` (CallbackBase._dump_results):
 * keys sorted at every depth, `", "` and `": "` between items on one line, or `indent` spaces per level; without
 * `invocation` and `diff` below -vvv, as _dump_results drops them.
 */
function dumpResult(result: Record<string, unknown>, verbosity: number, indent?: number): string {
  const { failed: _failed, skipped: _skipped, ...shown } = result;
  // Below -vvv the module's echo of its arguments and the diff are not printed (--diff prints the diff itself).
  if (verbosity < 3) {
    delete shown['invocation'];
    delete shown['diff'];
  }
  return pyJson(shown, indent, true);
}
