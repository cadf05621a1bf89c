import { describe, expect, it } from 'vitest';
import { TemplateError, UsageError } from '../../src/errors.js';
import { render } from '../../src/playbook/template.js';
import { parseExtraVars } from '../../src/playbook/vars.js';

/**
 * Parse errors of text that may be a secret name where the text is wrong, never quote it: redaction only knows
 * whole secrets, and a 10-character piece of one (what JSON.parse's message quotes) would reach the output.
 */
const SECRET = 'pw-canary-Q7z3-long';

/** Every 6-character piece of the secret found in `text`. */
function pieces(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 6 <= SECRET.length; i++) if (text.includes(SECRET.slice(i, i + 6))) found.push(SECRET.slice(i, i + 6));
  return found;
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TemplateError) return e.format();
    throw e;
  }
  throw new Error('expected an error, got none');
}

describe('parse errors do not quote the text they could not parse', () => {
  it.each([
    ['not JSON at all', SECRET],
    ['a bad value inside an object', `{"user": "admin", "password": ${SECRET}}`],
    ['a trailing comma after the secret', `["${SECRET}",]`],
    ['a bare word', `${SECRET}`.slice(0, 12)],
  ])('from_json: %s', (_case, text) => {
    const msg = messageOf(() => render('{{ text | from_json }}', { text }));
    expect(msg).toContain('from_json: ');
    expect(pieces(msg)).toEqual([]);
  });

  it.each([
    ['invalid JSON/YAML in -e #2 at line 1, column 51', `{"ansible_password": "${SECRET}", bad: [}`],
    ['-e #2 must be a mapping, not a list', `["${SECRET}"]`],
    ['unterminated " quote in -e #2 (opened at column 18)', `ansible_password="${SECRET}`],
    ['-e expects name=value pairs, got "ansible-password=…"', `ansible-password=${SECRET}`],
  ])('-e: %s', async (message, arg) => {
    const err = await parseExtraVars(['x=1', arg], '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain(message);
    expect(pieces((err as UsageError).format())).toEqual([]);
  });
});
