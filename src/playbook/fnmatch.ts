/**
 * Python's fnmatch.translate (3.11) as a JavaScript RegExp, anchored at both ends: `*`, `?`, `[seq]`, `[!seq]`, a
 * `]` first in a set taken literally, an unclosed `[` literal. Case-sensitive, as fnmatch is on POSIX; `*` and `?`
 * match newlines too. Used where Ansible matches names with fnmatch (find's patterns, inventory host patterns).
 */
export function fnmatchRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        let set = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        i = j;
        if (set === '!') out += '.';
        else {
          if (set.startsWith('!')) set = `^${set.slice(1)}`;
          else if (set.startsWith('^') || set.startsWith('[')) set = `\\${set}`;
          // JavaScript ends a class at any unescaped `]`; Python takes one first in the set literally.
          out += `[${set.replace(/\]/g, '\\]')}]`;
        }
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}
