import { PyDatetime, PyTimedelta } from '../playbook/py-datetime.js';

/**
 * Python's str.splitlines(): the line boundaries Python knows (\n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028/9),
 * no empty string after a final line end. Modules that replay an Ansible module's parsing split text with it.
 */
export function splitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** str(datetime.datetime) of a moment in the local time zone: `2026-12-08 02:03:31.769000`, as module results give it. */
export function pythonDatetime(moment: Date): string {
  return PyDatetime.fromLocalDate(moment).str();
}

/** str(datetime.timedelta) of a duration in milliseconds: `0:00:00.007000`, `1 day, 2:03:04`. */
export function pythonTimedelta(ms: number): string {
  return new PyTimedelta(Math.round(ms * 1000)).str();
}
