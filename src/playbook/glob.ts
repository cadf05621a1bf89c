import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fnmatchRegExp } from './fnmatch.js';

/* Python's glob for one folder, as Ansible's fileglob lookup and filter use it on the controller: fnmatch on each name;
   like glob.glob, a leading dot must be matched explicitly. */

/** Names of the regular files of `dir` matching `pattern` (one path segment), sorted. */
export function globNames(dir: string, pattern: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = fnmatchRegExp(pattern);
  return names
    .filter((n) => re.test(n) && (pattern.startsWith('.') || !n.startsWith('.')))
    .filter((n) => {
      try {
        return statSync(path.join(dir, n)).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

