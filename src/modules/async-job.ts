import { randomInt } from 'node:crypto';
import { ModuleError } from '../errors.js';
import type { AsyncCommand, ModuleContext, ModuleReturn } from './types.js';

/*
 * Background jobs (`async:`), kept where Ansible's async_wrapper keeps them, so either tool reads the other's:
 * ~/.ansible_async/JID of the user the task runs as, a JSON file holding {"started": 1, "finished": 0,
 * "ansible_job_id": JID} while the job runs and the module's result (command's: rc, stdout, stderr, cmd, start,
 * end, delta, msg, changed, failed) once it is done. No python on the host: the job is a detached `setsid sh`
 * that runs the program in its own process group, kills that group once the time limit has passed (writing
 * Ansible's "Timeout exceeded" result) with a watchdog of its own, and writes the result as JSON with awk.
 */

/** Where the job files live: the home of the user the command runs as (after become), as Ansible expands `~`. */
const ASYNC_DIR = 'home=$(getent passwd "$(id -u)" | cut -d: -f6); dir="${home:-$HOME}/.ansible_async"';

/** A file's text as a JSON string (trailing empty lines dropped, as command's strip_empty_ends does). */
const JSON_STRING = `json_text() {
  awk 'BEGIN { for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\\\u%04x", i)
               esc["\\t"] = "\\\\t"; esc["\\r"] = "\\\\r"; esc["\\\\"] = "\\\\\\\\"; esc["\\""] = "\\\\\\"" }
       { s = ""; n = length($0)
         for (i = 1; i <= n; i++) { c = substr($0, i, 1); s = s ((c in esc) ? esc[c] : c) }
         line[NR] = s }
       END { last = NR; while (last > 0 && line[last] == "") last--
             out = ""; for (i = 1; i <= last; i++) out = out (i > 1 ? "\\\\n" : "") line[i]
             printf "\\"%s\\"", out }' "$1"
}`;

/**
 * The detached job: $1 the job file, $2 the time limit in seconds, $3 the command as JSON (`cmd` of the result),
 * then the program's argv. The program runs under setsid (its own process group, so the limit kills its children
 * too), with its output in files beside the job file.
 */
const WORKER = `${JSON_STRING}
f=$1 limit=$2 cmd=$3; shift 3
start=$(date '+%Y-%m-%d %H:%M:%S.%6N') t0=$(date +%s%N)
setsid "$@" </dev/null >"$f.out" 2>"$f.err" &
pid=$!
# (dash reads "kill -N" as a signal number: a process group is always given after the signal.)
# When Ansible's async_wrapper kills it: checked every 5 seconds, the first time after 5 (so a controller waiting
# with poll gives up first, with its own message, as under Ansible).
kill_after=$(( 5 + (limit + 4) / 5 * 5 ))
setsid sh -c 'sleep "$1"; : >"$2.timeout"; kill -KILL "-$3"' watchdog "$kill_after" "$f" "$pid" </dev/null >/dev/null 2>&1 &
dog=$!
wait "$pid"; rc=$?
kill -TERM "-$dog" 2>/dev/null
end=$(date '+%Y-%m-%d %H:%M:%S.%6N') t1=$(date +%s%N)
us=$(( (t1 - t0) / 1000 ))
delta=$(printf '%d:%02d:%02d.%06d' $((us / 3600000000)) $((us / 60000000 % 60)) $((us / 1000000 % 60)) $((us % 1000000)))
if [ -e "$f.timeout" ]; then
  printf '{"msg": "Timeout exceeded", "failed": true, "child_pid": %s}' "$pid" >"$f.tmp"
else
  if [ "$rc" -eq 0 ]; then failed=false msg='""'; else failed=true msg='"non-zero return code"'; fi
  printf '{"changed": true, "failed": %s, "msg": %s, "rc": %s, "cmd": %s, "start": "%s", "end": "%s", "delta": "%s", "stdout": %s, "stderr": %s}' \\
    "$failed" "$msg" "$rc" "$cmd" "$start" "$end" "$delta" "$(json_text "$f.out")" "$(json_text "$f.err")" >"$f.tmp"
fi
mv -f "$f.tmp" "$f"
rm -f "$f.out" "$f.err" "$f.timeout"`;

/**
 * Starts the job and prints its file: $1 the job id's random part (the id is RANDOM.PID, as async_wrapper makes
 * it), then the worker's arguments after the job file.
 */
const LAUNCH = `set -e
${ASYNC_DIR}
mkdir -p "$dir"
jid="j$1.$$"; f="$dir/$jid"; shift
printf '{"started": 1, "finished": 0, "ansible_job_id": "%s"}' "$jid" >"$f.tmp"
mv -f "$f.tmp" "$f"
setsid sh -c '${WORKER.replace(/'/g, `'\\''`)}' async-job "$f" "$@" </dev/null >/dev/null 2>&1 &
printf '%s\\n%s\\n' "$jid" "$f"`;

/** Prints the job file's path, then its text (nothing when it does not exist); with $2 = cleanup, removes it. */
const STATUS = `${ASYNC_DIR}
f="$dir/$1"
printf '%s\\n' "$f"
if [ "$2" = cleanup ]; then rm -f "$f"; exit 0; fi
if [ -e "$f" ]; then cat "$f"; else exit 3; fi`;

export interface StartedJob {
  jid: string;
  resultsFile: string;
}

/** Starts `command` in the background on the host, killed after `seconds`. */
export async function startJob(ctx: ModuleContext, command: AsyncCommand, seconds: number): Promise<StartedJob> {
  const random = String(randomInt(0, 1e12)).padStart(12, '0');
  const res = await ctx.exec(['sh', '-c', LAUNCH, 'async-launch', random, String(seconds), JSON.stringify(command.cmd), ...command.argv]);
  const [jid, resultsFile] = res.stdout.split('\n');
  if (res.rc !== 0 || !jid || !resultsFile) {
    throw new ModuleError('E_ASYNC_START', `could not start the background job on ${ctx.hostName}: ${(res.stderr || res.stdout).trim() || `exit ${res.rc}`}`);
  }
  return { jid, resultsFile };
}

/** How a task runs in the background: its `async` and `poll`, rendered. */
export interface Background {
  seconds: number;
  poll: number;
}

/** A module call under `async:`: started in the background, then waited for (poll > 0) or left running (poll 0). */
export async function runInBackground(command: AsyncCommand | string, ctx: ModuleContext, background: Background): Promise<ModuleReturn> {
  if (typeof command === 'string') return { failed: true, msg: command };
  const job = await startJob(ctx, command, background.seconds);
  if (background.poll === 0) return startedResult(job);
  return pollJob(ctx, job, background.seconds, background.poll);
}

/** Ansible's answer for a job just started with `poll: 0`. */
export function startedResult(job: StartedJob): ModuleReturn {
  return { changed: true, data: { ansible_job_id: job.jid, started: 1, finished: 0, results_file: job.resultsFile, failed: 0 } };
}

/**
 * async_status: the job's state as Ansible's async_status action and module report it — started/finished,
 * and once finished the job's own result (rc, stdout, stderr …) with stdout_lines/stderr_lines; mode cleanup
 * removes the job file.
 */
export async function jobStatus(ctx: ModuleContext, jid: string, mode: 'status' | 'cleanup'): Promise<ModuleReturn> {
  const res = await ctx.exec(['sh', '-c', STATUS, 'async-status', jid, mode]);
  const newline = res.stdout.indexOf('\n');
  const file = res.stdout.slice(0, newline);
  const text = res.stdout.slice(newline + 1);
  const empty = { ansible_job_id: jid, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [] };
  if (mode === 'cleanup') return { changed: false, data: { ...empty, started: 0, finished: 0, erased: file } };
  const base = { ...empty, started: 1, finished: 0, results_file: file };
  if (res.rc === 3) return { changed: false, failed: true, msg: 'could not find job', data: { ...base, finished: 1 } };
  if (res.rc !== 0) throw new ModuleError('E_ASYNC_STATUS', `could not read job ${jid} on ${ctx.hostName}: ${res.stderr.trim() || `exit ${res.rc}`}`);
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Being written (async_status reads a file the job renames into place, so only an empty one): still running.
    if (text.trim() === '') return { changed: false, data: base };
    return { changed: false, failed: true, msg: `Could not parse job output: ${text}`, data: { ...base, finished: 1 } };
  }
  // The job's result has no `started`: it is finished (async_status' own rule).
  if (!('started' in data)) Object.assign(data, { finished: 1, ansible_job_id: jid });
  const result: Record<string, unknown> = { ...base, ...data };
  for (const k of ['stdout', 'stderr'] as const) {
    const v = result[k];
    if (typeof v === 'string') result[`${k}_lines`] = v === '' ? [] : v.split('\n');
  }
  const { changed, failed, msg, ...rest } = result;
  return {
    changed: changed === true,
    ...(failed === true || failed === 1 ? { failed: true } : {}),
    ...(typeof msg === 'string' && msg !== '' ? { msg } : {}),
    data: { ...rest, ...(typeof msg === 'string' ? { msg } : {}) },
  };
}

/**
 * `async: N, poll: M`: check the job every M seconds until it finishes (its result, the job file removed, as
 * Ansible cleans up) or N seconds have passed (Ansible's timeout failure, with the last status).
 */
export async function pollJob(ctx: ModuleContext, job: StartedJob, seconds: number, poll: number): Promise<ModuleReturn> {
  let left = seconds;
  let last: ModuleReturn = startedResult(job);
  while (left > 0) {
    await sleep(poll * 1000, ctx.signal);
    last = await jobStatus(ctx, job.jid, 'status');
    if (last.data?.['finished'] === 1 || last.failed) break;
    left -= poll;
  }
  if (last.data?.['finished'] !== 1) {
    return { changed: false, failed: true, msg: `async task did not complete within the requested time - ${seconds}s`, data: { async_result: last.data } };
  }
  await jobStatus(ctx, job.jid, 'cleanup');
  return last;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
