import { visit, type Alias, type Document, type Node } from 'yaml';

/** How many copies aliases may expand to when a document is converted (the `yaml` package's maxAliasCount). */
export const MAX_ALIAS_COUNT = 100;

export interface AliasProblem {
  /** Offset of the alias in the text. */
  offset: number;
  message: string;
  hint: string;
}

/**
 * An alias to an anchor not defined before it, or aliases of aliases that would expand past MAX_ALIAS_COUNT copies
 * (a "billion laughs" file): found before the document is converted, where the `yaml` package would throw a
 * ReferenceError with no position. Shared by every YAML reader (playbooks, inventories, vars files, -e @file).
 */
export function aliasProblem(doc: Document): AliasProblem | undefined {
  const aliases: Alias[] = [];
  visit(doc, {
    Alias(_key, alias) {
      aliases.push(alias);
    },
  });
  if (aliases.length === 0) return undefined;
  const offset = (a: Alias): number => a.range?.[0] ?? 0;
  const unresolved = aliases.find((a) => a.resolve(doc) === undefined);
  if (unresolved) {
    return { offset: offset(unresolved), message: `alias \`*${unresolved.source}\` names no anchor defined before it`, hint: `define \`&${unresolved.source}\` on a value above this line` };
  }
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return undefined;
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
  }
  // The first alias that repeats a node holding aliases itself: nesting is what multiplies the copies.
  const culprit = aliases.find((a) => holdsAlias(a.resolve(doc))) ?? aliases[0]!;
  return {
    offset: offset(culprit),
    message: `alias \`*${culprit.source}\` repeats a value that holds aliases itself: the file's aliases would expand to more than ${MAX_ALIAS_COUNT} copies`,
    hint: 'write the repeated values out, or alias only values that hold no aliases',
  };
}

function holdsAlias(node: Node | undefined): boolean {
  let found = false;
  if (node) {
    visit(node, {
      Alias() {
        found = true;
        return visit.BREAK;
      },
    });
  }
  return found;
}
