import { UsageError } from '../errors.js';

/** Parsed `--flag value` / `--flag=value` options of the drill and schedule subcommands. */
export interface SubArgs {
  values: Map<string, string[]>;
  positional: string[];
  /** Everything after a bare `--`, untouched. */
  rest: string[];
}

/**
 * Small parser for the subcommands: `flags` lists options that take a value (repeatable), `switches` those that
 * do not. An unknown option is a usage error naming the subcommand's usage line.
 */
export function parseSubArgs(argv: readonly string[], flags: readonly string[], switches: readonly string[], usage: string): SubArgs {
  const out: SubArgs = { values: new Map(), positional: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (switches.includes(name)) {
        out.values.set(name, [...(out.values.get(name) ?? []), 'true']);
        continue;
      }
      if (!flags.includes(name)) throw new UsageError('E_USAGE', `unknown option ${name}`, { hint: usage });
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError('E_USAGE', `${name} needs a value`, { hint: usage });
      out.values.set(name, [...(out.values.get(name) ?? []), value]);
      continue;
    }
    out.positional.push(a);
  }
  return out;
}

export function lastValue(a: SubArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = a.values.get(n);
    if (v?.length) return v[v.length - 1];
  }
  return undefined;
}

/** A non-negative number of seconds, or a usage error. */
export function secondsOption(v: string | undefined, name: string, usage: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError('E_USAGE', `${name} must be a number of seconds, not '${v}'`, { hint: usage });
  return n;
}
