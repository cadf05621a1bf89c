/**
 * Python's str.splitlines(): the line boundaries Python knows (\n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028/9),
 * no empty string after a final line end. Modules that replay an Ansible module's parsing split text with it.
 */
export function splitlines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}


/** Python's type() of a YAML value, as Ansible's messages show it (`<class 'int'>`). */
export function pythonType(v: unknown): string {
  const name = typeof v === 'string' ? 'str' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : Array.isArray(v) ? 'list' : v === null || v === undefined ? 'NoneType' : 'dict';
  return `<class '${name}'>`;
}
