/**
 * Python's str.splitlines(): the line boundaries Python knows (\n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028/9),
 * no empty string after a final line end. Modules that replay an Ansible module's parsing split text with it.
 */
export function splitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** str(datetime.datetime) of a moment in the local time zone: `2026-12-08 02:03:31.769628`, as module results give it. */
export function pythonDatetime(moment: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${moment.getFullYear()}-${two(moment.getMonth() + 1)}-${two(moment.getDate())}`;
  return `${date} ${two(moment.getHours())}:${two(moment.getMinutes())}:${two(moment.getSeconds())}.${String(moment.getMilliseconds() * 1000).padStart(6, '0')}`;
}

/** str(datetime.timedelta) of a non-negative duration in milliseconds: `0:00:00.007000`, `1 day, 2:03:04.000000`. */
export function pythonTimedelta(ms: number): string {
  const micros = Math.max(0, Math.round(ms * 1000));
  const days = Math.floor(micros / 86_400_000_000);
  const rest = micros % 86_400_000_000;
  const clock = `${Math.floor(rest / 3_600_000_000)}:${String(Math.floor(rest / 60_000_000) % 60).padStart(2, '0')}:${String(Math.floor(rest / 1_000_000) % 60).padStart(2, '0')}.${String(rest % 1_000_000).padStart(6, '0')}`;
  return days === 0 ? clock : `${days} day${days === 1 ? '' : 's'}, ${clock}`;
}
