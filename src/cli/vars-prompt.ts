import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Playbook, VarsPrompt } from '../playbook/model.js';
import { Unsafe } from '../playbook/unsafe.js';
import { promptLine, stdinEnded } from './prompt.js';

/**
 * A play's `vars_prompt`, answered before the run starts (Ansible asks when each play starts; asking for every play
 * first keeps the live view free of questions). A name given with -e is not asked, as in Ansible. Answers become
 * play variables; an `unsafe` one is never rendered as a template.
 */
export async function answerVarsPrompts(playbooks: readonly Playbook[], extraVars: Readonly<Record<string, unknown>>): Promise<void> {
  for (const playbook of playbooks) {
    for (const play of playbook.plays) {
      for (const p of play.varsPrompt) {
        if (Object.hasOwn(extraVars, p.name)) continue;
        const answer = await ask(p);
        const value = p.encrypt === undefined ? answer : await cryptHash(answer, p);
        play.vars[p.name] = p.unsafe ? new Unsafe(value) : value;
      }
    }
  }
}

/** Ansible's question text: "prompt [default]: ". */
function question(p: VarsPrompt): string {
  return p.default === undefined ? `${p.prompt}: ` : `${p.prompt} [${p.default}]: `;
}

async function ask(p: VarsPrompt): Promise<string> {
  for (;;) {
    const first = await promptLine(question(p), { hidden: p.private });
    if (first === '' && stdinEnded() && p.default === undefined) {
      throw new UsageError('E_VARS_PROMPT', `vars_prompt \`${p.name}\` got no answer: standard input ended`, {
        hint: `pass it on the command line: -e ${p.name}=VALUE (a name given with -e is not asked), or give it a default`,
      });
    }
    const value = first === '' && p.default !== undefined ? p.default : first;
    if (!p.confirm) return value;
    const again = await promptLine(`confirm ${question(p)}`, { hidden: p.private });
    if ((again === '' && p.default !== undefined ? p.default : again) === value) return value;
    process.stderr.write('***** VALUES ENTERED DO NOT MATCH ****\n');
    if (stdinEnded()) throw new UsageError('E_VARS_PROMPT', `vars_prompt \`${p.name}\`: the two answers differ`, { hint: 'type the same value twice' });
  }
}

const OPENSSL_SCHEME: Record<NonNullable<VarsPrompt['encrypt']>, string> = { sha512_crypt: '-6', sha256_crypt: '-5', md5_crypt: '-1' };
const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** crypt(3) of the answer with `openssl passwd` (Ansible uses passlib or crypt for the same formats). */
function cryptHash(value: string, p: VarsPrompt): Promise<string> {
  const salt = p.salt ?? [...randomBytes(p.saltSize)].map((b) => SALT_CHARS[b % SALT_CHARS.length]).join('');
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['passwd', OPENSSL_SCHEME[p.encrypt!], '-salt', salt, '-stdin'], (err, stdout) => {
      if (err) reject(new UsageError('E_VARS_PROMPT', `vars_prompt \`${p.name}\`: openssl passwd failed: ${err.message}`, { hint: 'install openssl, or drop `encrypt`' }));
      else resolve(stdout.trim());
    });
    child.stdin?.end(`${value}\n`);
  });
}
