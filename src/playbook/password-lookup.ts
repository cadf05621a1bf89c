import { randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { recordSecret } from '../vault/session.js';
import { pyStr, unwrapUnsafe, type Mapping } from './filters.js';
import { parseKeyValue, splitArgs } from './free-form.js';
import { LookupError, type LookupEnv, type LookupPlugin } from './lookups.js';

/*
 * ansible.builtin.password (ansible-core 2.14): `lookup('password', 'creds/vnc length=12 chars=digits')`.
 * The file holds the password: read when it exists (a ` salt=…` / ` ident=…` tail is not part of it), otherwise a
 * random one is made and written, so the next call, run or host gets the same. `/dev/null` gives a new one each
 * time and writes nothing. What it returns is treated as a secret (redacted from vncplay's output).
 * Not supported: `encrypt` (a crypt hash of the password) and `seed` (Python's seeded generator): both are refused
 * by name rather than answered with something else.
 */

const PYTHON_STRING_CONSTANTS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  whitespace: ' \t\n\r\x0b\x0c',
};
PYTHON_STRING_CONSTANTS['printable'] = PYTHON_STRING_CONSTANTS['digits']! + PYTHON_STRING_CONSTANTS['ascii_letters']! + PYTHON_STRING_CONSTANTS['punctuation']! + PYTHON_STRING_CONSTANTS['whitespace']!;

const DEFAULT_CHARS = ['ascii_letters', 'digits', '.,:-_'];
const DEFAULT_LENGTH = 20;
const PARAMETERS = new Set(['length', 'encrypt', 'chars', 'ident', 'seed']);

interface PasswordRequest {
  file: string;
  length: number;
  chars: string;
}

/** `chars=ascii_letters,digits,,` : names of Python's string constants or literal characters; `,,` is a comma. */
function charsetOf(value: unknown): string {
  const items = Array.isArray(value)
    ? value.map((v) => pyStr(unwrapUnsafe(v)))
    : pyStr(unwrapUnsafe(value)).replace(/,,/g, '\u0000').split(',').map((s) => s.replace(/\u0000/g, ','));
  const chars = items.map((item) => PYTHON_STRING_CONSTANTS[item] ?? item).join('');
  if (chars === '') throw new LookupError("lookup('password'): chars is empty", 'name character classes (ascii_letters, digits, punctuation …) or list the characters');
  return chars;
}

function requestOf(env: LookupEnv, term: string, kw: Mapping): PasswordRequest {
  const [relpath = '', ...rest] = splitArgs(term.trim());
  const params: Record<string, unknown> = { ...kw };
  for (const token of rest) {
    const kv = parseKeyValue(token);
    if (!kv) throw new LookupError(`lookup('password'): could not parse '${token}' in '${term}'`, 'give the path, then key=value options: length=20 chars=ascii_letters,digits');
    params[kv[0]] = kv[1];
  }
  const unknown = Object.keys(params).filter((k) => !PARAMETERS.has(k));
  if (unknown.length > 0) {
    throw new LookupError(`Unrecognized parameter(s) given to password lookup: ${unknown.join(', ')}`, 'the options are length, chars, encrypt, ident and seed');
  }
  for (const unsupported of ['encrypt', 'seed'] as const) {
    if (params[unsupported] !== undefined && params[unsupported] !== null) {
      throw new LookupError(`lookup('password'): ${unsupported}= is not supported by vncplay`, unsupported === 'encrypt'
        ? "use the plain password with the password_hash filter: lookup('password', 'file') | password_hash('sha512')"
        : 'leave seed out: vncplay cannot reproduce the password Python\'s seeded generator would give');
    }
  }
  const length = Number(unwrapUnsafe(params['length'] ?? DEFAULT_LENGTH));
  if (!Number.isInteger(length) || length < 1) throw new LookupError(`lookup('password'): length must be a positive integer, got '${pyStr(params['length'])}'`, 'length=20');
  // Ansible's path_dwim: relative to the loader's base folder, the playbook's.
  const base = unwrapUnsafe(env.resolve('playbook_dir'));
  const file = path.isAbsolute(relpath) ? relpath : path.join(typeof base === 'string' ? base : process.cwd(), relpath);
  return { file, length, chars: charsetOf(params['chars'] ?? DEFAULT_CHARS) };
}

function randomPassword(length: number, chars: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += chars[randomInt(chars.length)]!;
  return out;
}

/** The password a file holds: its text without trailing whitespace and without the ` salt=`/` ident=` tail. */
function passwordInFile(text: string): string {
  let content = text.replace(/\s+$/, '');
  for (const slug of [' ident=', ' salt=']) {
    const at = content.lastIndexOf(slug);
    if (at >= 0) content = content.slice(0, at);
  }
  return content;
}

function readOrCreate({ file, length, chars }: PasswordRequest): string {
  if (file === '/dev/null') return randomPassword(length, chars);
  try {
    return passwordInFile(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new LookupError(`lookup('password'): cannot read ${file}: ${(e as Error).message}`, 'check the path and its permissions');
  }
  const password = randomPassword(length, chars);
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // 'wx': when two hosts ask at once, the first one's password is the one everybody reads.
    writeFileSync(file, `${password}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return password;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return passwordInFile(readFileSync(file, 'utf8'));
    throw new LookupError(`lookup('password'): cannot write ${file}: ${(e as Error).message}`, 'check that the folder can be created and written');
  }
}

export const passwordLookup: LookupPlugin = {
  doc: 'A password kept in a controller file: read if the file exists, else random (`length=20`, `chars=ascii_letters,digits,.,:-_`) and written (0600); `encrypt` and `seed` are refused.',
  run: (env, terms, kw) =>
    terms.map((t) => {
      const password = readOrCreate(requestOf(env, pyStr(unwrapUnsafe(t)), kw));
      recordSecret(password);
      return password;
    }),
};
