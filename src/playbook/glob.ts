import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/* Python's glob for one folder, as Ansible's fileglob lookup and filter use it on the controller. */

/** Python's fnmatch on one path segment: `*`, `?`, `[…]`; like glob.glob, a leading dot must be matched explicitly. */
function segmentMatcher(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Names of the regular files of `dir` matching `pattern` (one path segment), sorted. */
export function globNames(dir: string, pattern: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = segmentMatcher(pattern);
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

