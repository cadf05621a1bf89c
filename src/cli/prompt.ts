import type { QuestionDisplay } from '../output/live.js';

/**
 * What a piped stdin sent beyond the line already answered: `printf 'vault\nbecome\n' | vncplay -J -K` gives
 * both lines in one chunk, and the second prompt must find its line here (it would wait forever otherwise).
 */
let pipedRest = '';
let pipedEnded = false;
/**
 * What was typed on the terminal after the line a prompt took, in the same read (keys typed ahead, a paste of
 * several lines): the next prompt starts with it, as a terminal's own line buffer would give it.
 */
let typedAhead = '';

// The question goes to stderr, or to the live view's question line while the view is drawn.
const onStderr: QuestionDisplay = {
  show: (question) => process.stderr.write(question),
  typed: (line) => process.stderr.write(`\r\x1b[K${line}`),
  answered: () => process.stderr.write('\n'),
};

/** Reads a line from the terminal without echoing it (become and vault passwords, key passphrases). */
export function promptHidden(question: string, display: QuestionDisplay = onStderr): Promise<string> {
  return promptLine(question, { hidden: true, display });
}

/** True once a piped (not terminal) stdin has ended: an empty answer then means "nobody answered". */
export function stdinEnded(): boolean {
  return !process.stdin.isTTY && pipedEnded && pipedRest === '';
}

/**
 * Reads a line: from the terminal (echoed unless `hidden`), or the next line of a piped stdin (the question is not
 * shown then: scripts pipe answers in).
 */
export async function promptLine(question: string, opts: { hidden: boolean; display?: QuestionDisplay }): Promise<string> {
  const display = opts.display ?? onStderr;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    // Not a terminal: read one line from stdin (scripts pipe the password in).
    return new Promise((resolve) => {
      let buf = pipedRest;
      const takeLine = (): boolean => {
        const nl = buf.indexOf('\n');
        if (nl < 0) return false;
        pipedRest = buf.slice(nl + 1);
        resolve(buf.slice(0, nl).replace(/\r$/, ''));
        return true;
      };
      if (takeLine()) return;
      if (pipedEnded) {
        pipedRest = '';
        resolve(buf.replace(/\r?\n$/, ''));
        return;
      }
      const onData = (chunk: Buffer): void => {
        buf += chunk.toString('utf8');
        if (takeLine()) {
          stdin.off('data', onData);
          stdin.off('end', onEnd);
          stdin.pause();
        }
      };
      const onEnd = (): void => {
        pipedEnded = true;
        stdin.off('data', onData);
        pipedRest = '';
        resolve(buf.replace(/\r?\n$/, ''));
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
    });
  }
  display.show(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const take = (text: string): void => {
      const chars = [...text];
      for (const [i, ch] of chars.entries()) {
        if (ch === '\r' || ch === '\n') {
          // The rest is the next prompt's (a CR LF pair ends one line).
          typedAhead = chars.slice(ch === '\r' && chars[i + 1] === '\n' ? i + 2 : i + 1).join('');
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          typedAhead = '';
          done();
          reject(new Error('interrupted'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
        // Through the display, so the live view redraws the question line with the echo.
        if (!opts.hidden) display.typed(question + value);
      }
    };
    const onData = (chunk: Buffer): void => take(chunk.toString('utf8'));
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      display.answered();
    };
    stdin.on('data', onData);
    const ahead = typedAhead;
    typedAhead = '';
    if (ahead !== '') take(ahead);
  });
}
