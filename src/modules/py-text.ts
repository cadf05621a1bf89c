/**
 * Python's str.splitlines(): the line boundaries Python knows (\n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028/9),
 * no empty string after a final line end. Modules that replay an Ansible module's parsing split text with it.
 */
export function splitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

