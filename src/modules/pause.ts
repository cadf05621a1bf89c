import { setTimeout as sleep } from 'node:timers/promises';
import { PyDatetime } from '../playbook/py-datetime.js';
import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/**
 * ansible.builtin.pause: wait some time, or for the person at the terminal. A prompt is only asked when the
 * controller has a terminal (ctx.ask); without one a prompt with no time limit does not wait, as Ansible's.
 */
const spec = defineSpec({
  description: 'Pause the play for a time, or until the person at the terminal presses enter (their input is `user_input`).',
  options: {
    minutes: { type: 'int', min: 0, description: 'Minutes to pause for.' },
    seconds: { type: 'int', min: 0, description: 'Seconds to pause for.' },
    prompt: { type: 'str', description: 'Text shown when asking (with a time given, shown while waiting).' },
    echo: { type: 'bool', default: true, description: 'Show what is typed at the prompt.' },
  },
  mutually_exclusive: [['minutes', 'seconds']],
});

/** Ansible rounds the measured pause to 2 decimals in the unit the task used, and prints it as Python does. */
function pausedFor(ms: number, unit: 'minutes' | 'seconds'): string {
  const n = Math.round((unit === 'minutes' ? ms / 60_000 : ms / 1000) * 100) / 100;
  return `Paused for ${Number.isInteger(n) ? n.toFixed(1) : String(n)} ${unit}`;
}

export const pauseModule = actionModule(spec, {
  kind: 'action',
  name: 'pause',
  where: 'controller',
  inCheckMode: 'run',
  async run(args, ctx) {
    const unit = args.seconds !== undefined ? 'seconds' : 'minutes';
    const wait = args.seconds ?? (args.minutes !== undefined ? args.minutes * 60 : undefined);
    const start = PyDatetime.now(false);
    let userInput = '';
    if (wait !== undefined) {
      if (args.prompt !== undefined) ctx.log(0, args.prompt);
      await sleep(Math.max(wait, 1) * 1000, undefined, { signal: ctx.signal }).catch(() => undefined);
    } else if (ctx.ask) {
      const hidden = args.echo ? '' : ' (output is hidden)';
      userInput = await ctx.ask(`${args.prompt ?? 'Press enter to continue, Ctrl+C to interrupt'}${hidden}:`, args.echo);
    } else {
      ctx.log(0, 'Not waiting for response to prompt as stdin is not interactive');
    }
    const stop = PyDatetime.now(false);
    const elapsedMs = (stop.wallMicros - start.wallMicros) / 1000;
    return {
      changed: false,
      data: {
        rc: 0,
        stderr: '',
        stdout: pausedFor(elapsedMs, unit),
        start: start.str(),
        stop: stop.str(),
        delta: Math.trunc(elapsedMs / 1000),
        echo: args.echo,
        user_input: userInput,
      },
    };
  },
});
