import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorList, ExitCode, UsageError, VaultError, VncplayError } from '../errors.js';
import {
  decryptVault,
  DEFAULT_VAULT_ID,
  encryptVault,
  isVaultText,
  resolveVaultSecrets,
  type VaultSecret,
} from '../vault/index.js';
import { promptHidden } from './prompt.js';

export const vaultUsage = `Usage: vncplay vault ACTION [options] [FILE …]

Reads and writes Ansible Vault files (format 1.1, and 1.2 with a vault id), compatible with ansible-vault.

Actions:
  encrypt FILE…          encrypt files in place (no FILE: stdin to stdout)
  decrypt FILE…          decrypt files in place (no FILE: stdin to stdout)
  view FILE…             print the decrypted content
  create FILE            write a new encrypted file with $EDITOR
  edit FILE              edit an encrypted file with $EDITOR (plaintext only in a private temp folder, removed after)
  rekey FILE…            re-encrypt with a new password (--new-vault-password-file / --new-vault-id)
  encrypt_string [S…]    print S (or stdin) as an inline '!vault |' YAML value

Options:
      --vault-password-file FILE  password file, or an executable that prints it (repeatable)
      --ask-vault-pass            prompt for the password
      --vault-id LABEL@SOURCE     labelled password: SOURCE is a file, a script or 'prompt' (repeatable)
      --encrypt-vault-id LABEL    which labelled password encrypts (needed when several are given)
      --new-vault-password-file FILE, --new-vault-id LABEL@SOURCE   the new password for rekey
      --output FILE               write here instead of in place ('-' is stdout)
  -n, --name NAME                 encrypt_string: the variable name (repeatable, one per string)
      --stdin-name NAME           encrypt_string: read the value from stdin and name it NAME
  -h, --help                      this help

Exit codes: 0 ok, 4 bad vault data or wrong password, 5 bad command line.
`;

const ACTIONS = ['encrypt', 'decrypt', 'view', 'create', 'edit', 'rekey', 'encrypt_string'] as const;
type Action = (typeof ACTIONS)[number];

interface VaultCliOptions {
  action: Action;
  files: string[];
  passwordFiles: string[];
  vaultIds: string[];
  askVaultPass: boolean;
  encryptVaultId?: string;
  newPasswordFile?: string;
  newVaultId?: string;
  output?: string;
  names: string[];
  stdinName?: string;
}

/** `vncplay vault …`: returns the exit code; user mistakes are printed, never thrown. */
export async function vaultMain(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
      process.stdout.write(vaultUsage);
      return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
    }
    const opts = parseVaultCli(argv);
    await runAction(opts);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof VncplayError) {
      process.stderr.write(err.format() + '\n');
      if (err instanceof UsageError) return ExitCode.usage;
      if (err instanceof ErrorList) return err.errors.some((e) => e instanceof UsageError) ? ExitCode.usage : ExitCode.invalidInput;
      return ExitCode.invalidInput;
    }
    throw err;
  }
}

export function parseVaultCli(argv: string[]): VaultCliOptions {
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError('E_USAGE', `unknown vault action '${action ?? ''}'`, { hint: `one of: ${ACTIONS.join(', ')}` });
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        'vault-password-file': { type: 'string', multiple: true },
        'ask-vault-pass': { type: 'boolean' },
        'vault-id': { type: 'string', multiple: true },
        'encrypt-vault-id': { type: 'string' },
        'new-vault-password-file': { type: 'string' },
        'new-vault-id': { type: 'string' },
        output: { type: 'string' },
        name: { type: 'string', short: 'n', multiple: true },
        'stdin-name': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError('E_USAGE', err instanceof Error ? err.message : String(err), { hint: 'run `vncplay vault --help` for the options' });
  }
  const v = parsed.values;
  const opts: VaultCliOptions = {
    action: action as Action,
    files: parsed.positionals,
    passwordFiles: v['vault-password-file'] ?? [],
    vaultIds: v['vault-id'] ?? [],
    askVaultPass: v['ask-vault-pass'] ?? false,
    names: v.name ?? [],
  };
  if (v['encrypt-vault-id'] !== undefined) opts.encryptVaultId = v['encrypt-vault-id'];
  if (v['new-vault-password-file'] !== undefined) opts.newPasswordFile = v['new-vault-password-file'];
  if (v['new-vault-id'] !== undefined) opts.newVaultId = v['new-vault-id'];
  if (v.output !== undefined) opts.output = v.output;
  if (v['stdin-name'] !== undefined) opts.stdinName = v['stdin-name'];
  const needsFile = ['create', 'edit', 'rekey'].includes(opts.action);
  if (needsFile && opts.files.length === 0) throw new UsageError('E_USAGE', `vault ${opts.action} needs a FILE`);
  if ((opts.action === 'create' || opts.action === 'edit') && opts.files.length > 1) throw new UsageError('E_USAGE', `vault ${opts.action} takes one FILE`);
  if (opts.output !== undefined && opts.files.length > 1) throw new UsageError('E_USAGE', '--output works with one FILE only');
  return opts;
}

async function runAction(o: VaultCliOptions): Promise<void> {
  const encrypting = o.action === 'encrypt' || o.action === 'encrypt_string' || o.action === 'create';
  const secrets = await passwords(o, encrypting);
  switch (o.action) {
    case 'encrypt':
      return encryptFiles(o, pickEncryptSecret(secrets, o.encryptVaultId));
    case 'decrypt':
      return decryptFiles(o, secrets);
    case 'view':
      return viewFiles(o, secrets);
    case 'create':
      return createFile(o.files[0]!, pickEncryptSecret(secrets, o.encryptVaultId));
    case 'edit':
      return editFile(o.files[0]!, secrets);
    case 'rekey':
      return rekeyFiles(o, secrets);
    case 'encrypt_string':
      return encryptStrings(o, pickEncryptSecret(secrets, o.encryptVaultId));
  }
}

/** The command's passwords; with no source given, ask (twice on a terminal when a new file is being encrypted). */
async function passwords(o: VaultCliOptions, encrypting: boolean): Promise<VaultSecret[]> {
  const given = o.vaultIds.length + o.passwordFiles.length + (o.askVaultPass ? 1 : 0) > 0;
  if (given) return resolveVaultSecrets({ vaultIds: o.vaultIds, passwordFiles: o.passwordFiles, askVaultPass: o.askVaultPass, prompt: promptHidden });
  return [{ id: DEFAULT_VAULT_ID, password: await askPassword(encrypting ? 'New Vault password: ' : 'Vault password: ', encrypting) }];
}

async function askPassword(question: string, confirm: boolean): Promise<Buffer> {
  const first = await promptHidden(question);
  if (confirm && process.stdin.isTTY) {
    const again = await promptHidden('Confirm New Vault password: ');
    if (again !== first) throw new VaultError('E_VAULT_PASSWORD', 'the passwords do not match', { hint: 'type the same password twice' });
  }
  if (first === '') throw new VaultError('E_VAULT_PASSWORD', 'the vault password is empty');
  return Buffer.from(first, 'utf8');
}

/** Ansible's rule: one secret encrypts; with several, --encrypt-vault-id says which. */
export function pickEncryptSecret(secrets: readonly VaultSecret[], label: string | undefined): VaultSecret {
  if (label !== undefined) {
    const s = secrets.find((x) => x.id === label);
    if (!s) throw new UsageError('E_USAGE', `--encrypt-vault-id '${label}' names no given password`, { hint: `given labels: ${secrets.map((x) => x.id).join(', ') || 'none'}` });
    return s;
  }
  if (secrets.length > 1 && new Set(secrets.map((s) => s.id)).size > 1) {
    throw new UsageError('E_USAGE', `several vault ids were given (${secrets.map((s) => s.id).join(', ')}): say which encrypts`, { hint: 'add --encrypt-vault-id LABEL' });
  }
  return secrets[0]!;
}

async function readInput(file: string | undefined): Promise<Buffer> {
  if (file === undefined || file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await fsp.readFile(file);
  } catch (err) {
    throw new UsageError('E_VAULT_FILE', `cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** Replace `file` without a window where it is half written: a sibling temp file renamed over it, mode kept. */
async function writeAtomically(file: string, data: string | Buffer, mode?: number): Promise<void> {
  if (file === '-') {
    process.stdout.write(data);
    return;
  }
  const m = mode ?? (await fsp.stat(file).then((s) => s.mode & 0o7777, () => 0o600));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.vncplay-${process.pid}.tmp`);
  try {
    await fsp.writeFile(tmp, data, { mode: m, flag: 'wx' });
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

function vaultFileError(file: string | undefined, err: unknown): never {
  if (err instanceof VaultError) {
    const where = file && file !== '-' ? { pos: { file, line: 1, col: 1 } } : {};
    throw new VaultError(err.code, err.message, { ...where, ...(err.hint ? { hint: err.hint } : {}), cause: err });
  }
  throw err;
}

function decryptData(file: string | undefined, data: Buffer, secrets: readonly VaultSecret[]): ReturnType<typeof decryptVault> {
  const text = data.toString('utf8');
  if (!isVaultText(text)) throw new VaultError('E_VAULT_NOT_ENCRYPTED', `${file ?? 'stdin'} is not vault-encrypted`, { ...(file ? { pos: { file, line: 1, col: 1 } } : {}), hint: 'it does not start with $ANSIBLE_VAULT;' });
  try {
    return decryptVault(text, secrets);
  } catch (err) {
    return vaultFileError(file, err);
  }
}

async function encryptFiles(o: VaultCliOptions, secret: VaultSecret): Promise<void> {
  const files = o.files.length ? o.files : [undefined];
  for (const f of files) {
    const data = await readInput(f);
    if (isVaultText(data.toString('utf8'))) throw new VaultError('E_VAULT_ALREADY_ENCRYPTED', `${f ?? 'stdin'} is already vault-encrypted`, { hint: 'use vault rekey to change its password' });
    await writeAtomically(o.output ?? f ?? '-', encryptVault(data, secret));
    if (f) process.stderr.write(`Encryption successful: ${f}\n`);
  }
}

async function decryptFiles(o: VaultCliOptions, secrets: readonly VaultSecret[]): Promise<void> {
  const files = o.files.length ? o.files : [undefined];
  for (const f of files) {
    const plain = decryptData(f, await readInput(f), secrets).plaintext;
    await writeAtomically(o.output ?? f ?? '-', plain);
    if (f) process.stderr.write(`Decryption successful: ${f}\n`);
  }
}

async function viewFiles(o: VaultCliOptions, secrets: readonly VaultSecret[]): Promise<void> {
  const files = o.files.length ? o.files : [undefined];
  for (const f of files) process.stdout.write(decryptData(f, await readInput(f), secrets).plaintext);
}

async function rekeyFiles(o: VaultCliOptions, secrets: readonly VaultSecret[]): Promise<void> {
  let fresh: VaultSecret;
  if (o.newVaultId !== undefined || o.newPasswordFile !== undefined) {
    const list = await resolveVaultSecrets({
      ...(o.newVaultId !== undefined ? { vaultIds: [o.newVaultId] } : {}),
      ...(o.newPasswordFile !== undefined ? { passwordFiles: [o.newPasswordFile] } : {}),
      prompt: promptHidden,
    });
    fresh = list[0]!;
  } else {
    fresh = { id: DEFAULT_VAULT_ID, password: await askPassword('New Vault password: ', true) };
  }
  // Decrypt every file first: one wrong password must not leave the set half rekeyed.
  const opened = [];
  for (const f of o.files) {
    const d = decryptData(f, await readInput(f), secrets);
    // A new password without a label keeps the file's own vault id (as ansible-vault rekey does).
    opened.push({ f, d, secret: o.newVaultId === undefined && d.vaultId ? { ...fresh, id: d.vaultId } : fresh });
  }
  for (const { f, d, secret } of opened) {
    await writeAtomically(f, encryptVault(d.plaintext, secret));
    process.stderr.write(`Rekey successful: ${f}\n`);
  }
}

async function encryptStrings(o: VaultCliOptions, secret: VaultSecret): Promise<void> {
  const values: { name?: string; value: Buffer }[] = [];
  if (o.stdinName !== undefined) values.push({ name: o.stdinName, value: await readInput(undefined) });
  o.files.forEach((s, i) => {
    const name = o.names[i];
    values.push({ ...(name !== undefined ? { name } : {}), value: Buffer.from(s, 'utf8') });
  });
  if (values.length === 0) {
    if (process.stdin.isTTY) process.stderr.write('Reading plaintext input from stdin. (ctrl-d to end input)\n');
    const name = o.names[0];
    values.push({ ...(name !== undefined ? { name } : {}), value: await readInput(undefined) });
  }
  const out = values.map(({ name, value }) => formatInlineVault(encryptVault(value, secret), name)).join('\n');
  await (o.output && o.output !== '-' ? fsp.writeFile(o.output, out, { mode: 0o600 }) : Promise.resolve(process.stdout.write(out)));
  process.stderr.write('Encryption successful\n');
}

/** `name: !vault |` followed by the vault text indented 10 spaces, as ansible-vault encrypt_string prints it. */
export function formatInlineVault(vaultText: string, name?: string): string {
  const body = vaultText.trimEnd().split('\n').map((l) => `          ${l}`).join('\n');
  return `${name !== undefined ? `${name}: ` : ''}!vault |\n${body}\n`;
}

// ---------- create / edit ----------

async function createFile(file: string, secret: VaultSecret): Promise<void> {
  if (await fsp.stat(file).then(() => true, () => false)) throw new UsageError('E_USAGE', `${file} exists already`, { hint: 'use vault edit for an existing file' });
  const text = await editInPrivate(Buffer.alloc(0), path.extname(file));
  if (text === undefined) return;
  await writeAtomically(file, encryptVault(text, secret), 0o600);
}

async function editFile(file: string, secrets: readonly VaultSecret[]): Promise<void> {
  const d = decryptData(file, await readInput(file), secrets);
  const text = await editInPrivate(d.plaintext, path.extname(file));
  if (text === undefined || text.equals(d.plaintext)) return;
  // Re-encrypt with the password that opened it, keeping its vault id.
  const secret = secrets.find((s) => s.id === d.secretId) ?? secrets[0]!;
  await writeAtomically(file, encryptVault(text, d.vaultId ? { ...secret, id: d.vaultId } : secret));
}

/**
 * Run $EDITOR on the plaintext in a folder only we can read, then wipe and remove it whatever happens.
 * Undefined when the editor failed (the vault file is then left as it was).
 */
async function editInPrivate(plaintext: Buffer, ext: string): Promise<Buffer | undefined> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vncplay-vault-'));
  const tmp = path.join(dir, `edit${ext || '.yml'}`);
  try {
    await fsp.chmod(dir, 0o700);
    await fsp.writeFile(tmp, plaintext, { mode: 0o600 });
    const editor = (process.env['EDITOR'] ?? process.env['VISUAL'] ?? 'vi').trim().split(/\s+/);
    const r = spawnSync(editor[0]!, [...editor.slice(1), tmp], { stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new VaultError('E_VAULT_EDITOR', `the editor '${editor.join(' ')}' failed (${r.error ? r.error.message : `exit ${String(r.status)}`}); the vault file is unchanged`, { hint: 'set $EDITOR to an editor that exits 0' });
    }
    return await fsp.readFile(tmp);
  } finally {
    // Overwrite before unlinking: an editor may have left the file where a later reader could find its blocks.
    await fsp.stat(tmp).then((s) => fsp.writeFile(tmp, Buffer.alloc(s.size)), () => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
