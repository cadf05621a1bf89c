import { writeSync } from 'node:fs';
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { RunEvent } from '../runner/events.js';
import { formatRecap } from './recap.js';

type RowWrapper = ListrTaskWrapper<unknown, never, never>;

const FINISHING_NOTE = '- interrupted: finishing this step (Ctrl-C again to quit now)';

/**
 * One host's row in one batch. What it shows and how it ends are decided by the run's events alone: listr2 starts
 * a row's task only once the batches before it have finished drawing, which may be after this batch is over, and
 * then it just draws the state the row has reached.
 */
class HostRow {
  private title: string;
  private failure: string | undefined;
  private finishing = false;
  private wrapper: RowWrapper | undefined;
  private markEnded: () => void = () => undefined;
  readonly ended = new Promise<void>((resolve) => {
    this.markEnded = resolve;
  });

  constructor(readonly host: string) {
    this.title = host;
  }

  show(title: string): void {
    this.title = title;
    this.refresh();
  }

  fail(reason: string): void {
    this.failure = reason;
    this.show(`${this.host}: ${reason}`);
  }

  /** After the first Ctrl-C: the host finishes the step it is on and starts no other. */
  interrupt(): void {
    this.finishing = true;
    this.refresh();
  }

  /** The batch is over for this host; safe to call more than once. */
  end(): void {
    this.markEnded();
  }

  /** listr2's task for this row: settles ✔ or ✖ once the batch is over, however late listr2 calls it. */
  async draw(wrapper: RowWrapper): Promise<void> {
    this.wrapper = wrapper;
    this.refresh();
    await this.ended;
    this.finishing = false;
    this.refresh();
    // listr2 shows a failed row's error in place of its title: the error names the host too.
    if (this.failure !== undefined) throw new Error(`${this.host}: ${this.failure}`);
  }

  private refresh(): void {
    if (!this.wrapper) return;
    this.wrapper.title = this.finishing && this.failure === undefined ? `${this.title} ${FINISHING_NOTE}` : this.title;
  }
}

/**
 * The line below the rows for a question the run waits on (a key's passphrase). listr2 holds stdout and stderr while
 * a list is drawn: a question written there would appear only after the list, and the view would look hung.
 */
class QuestionLine {
  private question = '';
  private wrapper: RowWrapper | undefined;

  show(question: string): void {
    this.question = question;
    this.refresh();
  }

  /** listr2's task for the line in one batch's list; an empty title draws no line. */
  async draw(wrapper: RowWrapper, batchOver: Promise<unknown>): Promise<void> {
    this.wrapper = wrapper;
    this.refresh();
    await batchOver;
    if (this.wrapper === wrapper) this.wrapper = undefined;
    wrapper.title = '';
  }

  private refresh(): void {
    if (this.wrapper) this.wrapper.title = this.question;
  }
}

/** Where the CLI shows a question it reads from the terminal without echo (src/cli/prompt.ts). */
export interface QuestionDisplay {
  show(question: string): void;
  /** The question with what has been typed so far, for a prompt that echoes (pause). */
  typed(line: string): void;
  answered(): void;
}

export interface LiveReporter {
  onEvent(e: RunEvent): void;
  /** The first Ctrl-C: the rows say their hosts are finishing their step (the CLI's own notice waits for the view). */
  interrupting(): void;
  /** Questions asked while the view is drawn go on a line below the rows. */
  questions: QuestionDisplay;
  /** Resolves once the view has drawn its last frame and the recap; never waits on a row the run did not end. */
  done(): Promise<void>;
}

/** The TTY view: during each play (each serial batch) one row per host with the task it is on, then Ansible's recap. */
export function liveReporter(write: (text: string) => void): LiveReporter {
  let batchRows = new Map<string, HostRow>();
  const questionLine = new QuestionLine();
  // Batches are drawn one after another: listr2 takes over stdout while a list runs, so every header and the recap
  // is written from this queue, between lists.
  let drawing: Promise<void> = Promise.resolve();
  const queue = (step: () => void | Promise<unknown>): void => {
    drawing = drawing.then(step).then(
      () => undefined,
      () => undefined,
    );
  };

  // listr2 hides the cursor while a list is drawn and shows it at the list's end; a process that exits during a
  // list (a second Ctrl-C) would leave the user's terminal without one. Written past listr2's hold on stdout.
  let listDrawn = false;
  const showCursorOnExit = (): void => {
    if (listDrawn) writeSync(process.stdout.fd, '\x1b[?25h');
  };
  process.on('exit', showCursorOnExit);

  const endBatch = (): void => {
    for (const row of batchRows.values()) row.end();
    batchRows = new Map();
  };

  const startBatch = (e: Extract<RunEvent, { type: 'play_start' }>): void => {
    endBatch();
    const rows = new Map(e.hosts.map((host) => [host, new HostRow(host)]));
    batchRows = rows;
    const batchOver = Promise.all([...rows.values()].map((row) => row.ended));
    const list = new Listr(
      [
        ...[...rows.values()].map((row) => ({ title: row.host, task: (_ctx: unknown, wrapper: RowWrapper) => row.draw(wrapper) })),
        { title: '', task: (_ctx: unknown, wrapper: RowWrapper) => questionLine.draw(wrapper, batchOver) },
      ],
      // listr2's own SIGINT listener would exit 127 at once; the CLI's handler finishes the run and prints the recap.
      { concurrent: true, exitOnError: false, registerSignalListeners: false },
    );
    const header = `PLAY [${e.name}]${e.batches > 1 ? ` (batch ${e.batch}/${e.batches})` : ''}\n`;
    queue(async () => {
      write(header);
      listDrawn = true;
      try {
        await list.run();
      } finally {
        listDrawn = false;
      }
    });
  };

  return {
    questions: {
      show: (question) => questionLine.show(question),
      typed: (line) => questionLine.show(line),
      answered: () => questionLine.show(''),
    },
    interrupting() {
      for (const row of batchRows.values()) row.interrupt();
    },
    onEvent(e) {
      switch (e.type) {
        case 'play_start':
          startBatch(e);
          break;
        case 'task_start':
          batchRows.get(e.host)?.show(`${e.host}: ${e.task.name}`);
          break;
        case 'task_result': {
          const row = batchRows.get(e.host);
          if (e.status === 'failed' || e.status === 'unreachable') row?.fail(`${e.task.name}: ${e.msg ?? e.status}`);
          else row?.show(`${e.host}: ${e.task.name} (${e.status})`);
          break;
        }
        case 'play_end':
          endBatch();
          break;
        case 'warning': {
          const line = `[WARNING]: ${e.host ? `${e.host}: ` : ''}${e.message}\n`;
          queue(() => write(`\x1b[35m${line}\x1b[0m`));
          break;
        }
        case 'recap':
          endBatch();
          queue(() => write('\n' + formatRecap(e.hosts, true)));
          break;
        case 'run_end':
          if (e.interrupted) queue(() => write('interrupted: no new tasks were started after Ctrl-C\n'));
          break;
        default:
          break;
      }
    },
    done: () => {
      // A run that threw mid-play sent no play_end: its rows end here, so the view can finish drawing.
      endBatch();
      return drawing.then(() => {
        process.off('exit', showCursorOnExit);
      });
    },
  };
}
