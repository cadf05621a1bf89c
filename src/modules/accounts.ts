/**
 * The host's account databases as `getent` prints them (passwd, group, shadow): the one reader user and group
 * share, so both see what NSS sees, as Ansible's pwd/grp lookups do.
 */

export interface PasswdEntry {
  name: string;
  password: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ShadowEntry {
  password: string;
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, password: f[1]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f.slice(6).join(':') };
}

export function parseGroupLines(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]! === '' ? [] : f[3]!.split(',') }));
}

export function parseShadowLine(line: string): ShadowEntry | undefined {
  const f = line.split(':');
  return f.length >= 2 ? { password: f[1]! } : undefined;
}

/** A group by name, or by number when `ref` is all digits (Ansible's group_exists tries the gid first). */
export function findGroup(groups: readonly GroupEntry[], ref: string): GroupEntry | undefined {
  if (/^\d+$/.test(ref)) {
    const byGid = groups.find((g) => g.gid === Number(ref));
    if (byGid) return byGid;
  }
  return groups.find((g) => g.name === ref);
}

/** The line a gather script prints between its sections. */
export const SECTION = '@@vncplay@@';

/** Sections of a gather script's output, split on SECTION lines (missing ones empty). */
export function sections(stdout: string, count: number): string[] {
  const parts = stdout.split(`${SECTION}\n`);
  while (parts.length < count) parts.push('');
  return parts.map((p) => p.replace(/\n$/, ''));
}
