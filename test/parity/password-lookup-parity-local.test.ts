import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiblePlaybook, debugMessages, vncplay } from '../support/cli-helpers.js';
import { tempTree } from '../support/temp-tree.js';

/**
 * lookup('password') side by side with ansible-playbook (local connection), each tool in a folder of its own: what
 * the passwords look like (length, characters), that the file keeps the password for the next call, a file written
 * with a salt, the kwargs form, /dev/null, and the file and folder modes. The debug lines print facts about the
 * passwords, not the passwords: vncplay redacts them from its output.
 */
const files: Record<string, string> = {
  inv: 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'creds/b': 's3cret salt=abcdefgh\n',
  'play.yml': `
- hosts: all
  gather_facts: false
  vars:
    a: "{{ lookup('password', 'creds/a length=12 chars=digits') }}"
  tasks:
    - debug:
        msg: "a {{ a | length }} {{ a is match('^[0-9]{12}$') }} {{ a == lookup('password', 'creds/a length=3') }} {{ a == lookup('file', 'creds/a') }}"
    - debug:
        msg: "b {{ lookup('password', 'creds/b') == 's3cret' }}"
    - debug:
        msg: "c {{ lookup('password', 'creds/sub/c', length=5, chars=['ascii_lowercase']) is match('^[a-z]{5}$') }}"
    - debug:
        msg: "d {{ lookup('password', 'creds/d') is match('^[A-Za-z0-9.,:_-]{20}$') }}"
    - debug:
        msg: "null {{ lookup('password', '/dev/null length=8 chars=ascii_uppercase') is match('^[A-Z]{8}$') }} {{ lookup('password', '/dev/null length=30 chars=,,') == ',' * 30 }}"
`,
  'bad.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ lookup('password', 'creds/e colour=blue') }}"
`,
};

describe("lookup('password'), as ansible-playbook runs it", () => {
  const dirs = { ours: tempTree(files, 'vncplay-pw-ours-'), theirs: tempTree(files, 'vncplay-pw-theirs-') };

  it('makes, keeps and reads passwords alike; files 0600 in a 0700 folder', async () => {
    const ours = await vncplay(['-i', 'inv', 'play.yml'], { cwd: dirs.ours });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'play.yml'], { cwd: dirs.theirs });
    expect(theirs.code, theirs.stdout).toBe(0);
    expect(ours.code, ours.stdout + ours.stderr).toBe(0);
    expect(debugMessages(ours)).toEqual(debugMessages(theirs));
    expect(debugMessages(ours)).toEqual([
      '"msg": "a 12 True True True"', '"msg": "b True"', '"msg": "c True"', '"msg": "d True"', '"msg": "null True True"',
    ]);
    for (const dir of Object.values(dirs)) {
      expect(readFileSync(path.join(dir, 'creds/a'), 'utf8')).toMatch(/^[0-9]{12}\n$/);
      expect(statSync(path.join(dir, 'creds/a')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dir, 'creds/sub')).mode & 0o777).toBe(0o700);
      expect(readFileSync(path.join(dir, 'creds/b'), 'utf8')).toBe('s3cret salt=abcdefgh\n');
    }
    // A second run reads what the first wrote: the same password, the file untouched.
    const before = readFileSync(path.join(dirs.ours, 'creds/a'), 'utf8');
    writeFileSync(path.join(dirs.ours, 'check.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: "{{ lookup('password', 'creds/a') == '${before.trim()}' }}"\n`);
    const again = await vncplay(['-i', 'inv', 'check.yml'], { cwd: dirs.ours });
    expect(debugMessages(again)).toEqual(['"msg": true']);
    expect(readFileSync(path.join(dirs.ours, 'creds/a'), 'utf8')).toBe(before);
  });

  it('an unknown option fails the task under both, with the same words', async () => {
    const ours = await vncplay(['-i', 'inv', 'bad.yml'], { cwd: dirs.ours });
    const theirs = await ansiblePlaybook(['-i', 'inv', 'bad.yml'], { cwd: dirs.theirs });
    expect(theirs.code).not.toBe(0);
    expect(theirs.stdout + theirs.stderr).toContain('Unrecognized parameter(s) given to password lookup: colour');
    expect(ours.code).not.toBe(0);
    expect(ours.stdout + ours.stderr).toContain('Unrecognized parameter(s) given to password lookup: colour');
    expect(ours.recap).toEqual(theirs.recap);
  });
});
