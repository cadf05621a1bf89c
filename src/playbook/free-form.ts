/**
 * Ansible's string form of module arguments: `file: path=/x state=touch`, `command: chdir=/tmp ls -l`.
 * Splitting follows Ansible's split_args: whitespace separates, but not inside quotes or `{{ }}`/`{% %}`.
 */

/** Split on whitespace outside quotes and Jinja2 blocks; tokens keep their quotes. */
export function splitArgs(s: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let jinja = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const two = s.slice(i, i + 2);
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i]!;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (two === '{{' || two === '{%') {
      jinja++;
      cur += two;
      i++;
      continue;
    }
    if (jinja > 0 && (two === '}}' || two === '%}')) {
      jinja--;
      cur += two;
      i++;
      continue;
    }
    if (jinja === 0 && /\s/.test(c)) {
      if (cur) tokens.push(cur);
      cur = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    cur += c;
  }
  if (cur) tokens.push(cur);
  return tokens;
}

/** `key=value` → [key, value] with the value's outer quotes removed; undefined when not a key=value token. */
export function parseKeyValue(token: string): [string, string] | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(token);
  if (!m) return undefined;
  return [m[1]!, unquote(m[2]!)];
}

function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
    const inner = v.slice(1, -1);
    return v[0] === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
  }
  return v;
}

/** key=value strings carry no types; give them the type the parameter's schema asks for, as Ansible does. */
export function coerceToSchemaType(value: string, propSchema: unknown): unknown {
  const t = (propSchema as { type?: unknown } | undefined)?.type;
  const types = Array.isArray(t) ? t : [t];
  if (types.includes('string') || value.includes('{{')) return value;
  if (types.includes('boolean')) {
    const v = value.toLowerCase();
    if (['yes', 'true', 'on', '1'].includes(v)) return true;
    if (['no', 'false', 'off', '0'].includes(v)) return false;
  }
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}
