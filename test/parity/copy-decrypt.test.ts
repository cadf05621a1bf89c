import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { encryptVault, resetVaultSession, setVaultSecrets } from '../../src/vault/index.js';
import { repoRoot } from '../support/cli-helpers.js';
import { localInventory, playYaml } from '../support/runner-helpers.js';
import { requireProgram } from '../support/tools.js';

/**
 * copy `decrypt` (default true, as Ansible): a vault-encrypted src file on the controller is decrypted with the
 * run's vault passwords and its plaintext written on the host (a local host: real files, no mock).
 */
const PLAIN = 'SecurityTypes=VncAuth\nvnc-password=hunter2-vnc\n';
const PASSWORD = 'copy-pass';
const secret = { id: 'default', password: Buffer.from(PASSWORD) };

afterEach(() => resetVaultSession());

async function workdir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'vncplay-decrypt-'));
}

function copyPlay(dest: string, extra = ''): string {
  return `
- hosts: all
  gather_facts: false
  tasks:
    - name: copy
      copy:
        src: secret.conf
        dest: ${dest}
${extra}`;
}

describe('copy decrypts a vault-encrypted src', () => {
  it('writes the plaintext by default, the vault text with decrypt: false', async () => {
    const out = await workdir();
    const vaultText = encryptVault(PLAIN, secret);
    setVaultSecrets([secret]);
    const r = await playYaml(
      `${copyPlay(`${out}/plain.conf`)}
    - name: copy encrypted
      copy: { src: secret.conf, dest: ${out}/still-encrypted.conf, decrypt: false }
`,
      { files: { 'secret.conf': vaultText }, diff: true },
    );
    expect(r.exitCode).toBe(0);
    expect(await readFile(`${out}/plain.conf`, 'utf8')).toBe(PLAIN);
    expect(await readFile(`${out}/still-encrypted.conf`, 'utf8')).toBe(vaultText);
    expect(r.results('copy')[0]!.status).toBe('changed');
  });

  it('a file encrypted by Debian\'s ansible-vault (vault id 1.2 header) is decrypted too', async () => {
    const dir = await workdir();
    await writeFile(`${dir}/pw`, 'other-pass\n');
    await writeFile(`${dir}/secret.conf`, PLAIN);
    execFileSync(requireProgram('ansible-vault'), ['encrypt', '--vault-id', `ops@${dir}/pw`, `${dir}/secret.conf`], { stdio: 'pipe' });
    const vaultText = await readFile(`${dir}/secret.conf`, 'utf8');
    expect(vaultText.startsWith('$ANSIBLE_VAULT;1.2;AES256;ops')).toBe(true);
    setVaultSecrets([{ id: 'ops', password: Buffer.from('other-pass') }]);
    const r = await playYaml(copyPlay(`${dir}/out.conf`), { files: { 'secret.conf': vaultText } });
    expect(r.exitCode).toBe(0);
    expect(await readFile(`${dir}/out.conf`, 'utf8')).toBe(PLAIN);
  });

  it('no vault password (or a wrong one) for a literal src: a positioned load error, nothing runs', async () => {
    const out = await workdir();
    const vaultText = encryptVault(PLAIN, secret);
    const errorsOf = async (): Promise<string[]> => {
      try {
        await playYaml(copyPlay(`${out}/never.conf`), { files: { 'secret.conf': vaultText } });
      } catch (e) {
        if (e instanceof ErrorList) return e.errors.map((x) => x.format());
        throw e;
      }
      return [];
    };
    const none = await errorsOf();
    expect(none).toHaveLength(1);
    expect(none[0]).toMatch(/play\.yml:7:14: error\[E_VAULT_NO_PASSWORD\]: copy src \S+secret\.conf is vault-encrypted and no vault password was given: run with --ask-vault-pass \/ --vault-password-file/);
    setVaultSecrets([{ id: 'default', password: Buffer.from('wrong') }]);
    const wrong = await errorsOf();
    expect(wrong).toHaveLength(1);
    expect(wrong[0]).toMatch(/E_VAULT_PASSWORD\]: copy src \S+secret\.conf: decryption failed/);
    expect(existsSync(`${out}/never.conf`)).toBe(false);
  });

  it('a templated src known only at run time: the task fails and names --ask-vault-pass / --vault-password-file', async () => {
    const out = await workdir();
    const r = await playYaml(
      `
- hosts: all
  gather_facts: false
  vars: { name: secret.conf }
  tasks:
    - name: copy
      copy: { src: "{{ name }}", dest: ${out}/never.conf }
`,
      { files: { 'secret.conf': encryptVault(PLAIN, secret) } },
    );
    expect(r.exitCode).toBe(2);
    const res = r.results('copy')[0]!;
    expect(res.status).toBe('failed');
    expect(String(res.result!['msg'])).toMatch(/is vault-encrypted and no vault password was given: run with --ask-vault-pass \/ --vault-password-file/);
    expect(existsSync(`${out}/never.conf`)).toBe(false);
  });

  it('the CLI exits 4 for an encrypted src without a vault password; with --vault-password-file it copies, and --diff hides the plaintext', async () => {
    const dir = await workdir();
    await writeFile(`${dir}/secret.conf`, encryptVault(PLAIN, secret));
    await writeFile(`${dir}/pw`, `${PASSWORD}\n`);
    await writeFile(`${dir}/play.yml`, copyPlay(`${dir}/out.conf`));
    await writeFile(`${dir}/hosts.ini`, localInventory(['l1']));
    const cli = (args: string[]): ReturnType<typeof spawnSync> =>
      spawnSync('node', ['--import', 'tsx', '-e', `import('./src/cli/main.ts').then((m) => m.main(${JSON.stringify(args)})).then((c) => process.exit(c))`], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const without = cli([`${dir}/play.yml`, '-i', `${dir}/hosts.ini`]);
    expect(without.status).toBe(4);
    expect(String(without.stderr) + String(without.stdout)).toMatch(/--ask-vault-pass \/ --vault-password-file/);
    expect(existsSync(`${dir}/out.conf`)).toBe(false);
    const withPw = cli([`${dir}/play.yml`, '-i', `${dir}/hosts.ini`, '--vault-password-file', `${dir}/pw`, '--diff']);
    expect(withPw.status).toBe(0);
    expect(await readFile(`${dir}/out.conf`, 'utf8')).toBe(PLAIN);
    // The decrypted content is a vault secret: the diff shows it redacted.
    expect(String(withPw.stdout)).toContain('+++ after');
    expect(String(withPw.stdout)).not.toContain('hunter2-vnc');
  });
});
