/** A position in a source file, 1-based line and column. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface VncplayErrorOptions {
  pos?: SourcePos;
  hint?: string;
  /** Two-line excerpt with a caret, already formatted (see formatExcerpt). */
  excerpt?: string;
  cause?: unknown;
}

/**
 * Base of every error vncplay reports to a user. `code` is stable (tests and scripts match on it);
 * the message never contains a stack trace for the user's own mistakes.
 */
export class VncplayError extends Error {
  readonly code: string;
  readonly pos?: SourcePos;
  readonly hint?: string;
  readonly excerpt?: string;

  constructor(code: string, message: string, opts: VncplayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    if (opts.pos) this.pos = opts.pos;
    if (opts.hint) this.hint = opts.hint;
    if (opts.excerpt) this.excerpt = opts.excerpt;
  }

  /** `file:line:col: message` + excerpt + hint, the form the CLI prints. */
  format(): string {
    const where = this.pos ? `${this.pos.file}:${this.pos.line}:${this.pos.col}: ` : '';
    const parts = [`${where}error[${this.code}]: ${this.message}`];
    if (this.excerpt) parts.push(this.excerpt);
    if (this.hint) parts.push(`hint: ${this.hint}`);
    return parts.join('\n');
  }
}

/** Bad playbook: YAML syntax, schema, unknown module, bad reference to another file. Exit 4. */
export class PlaybookError extends VncplayError {}
/** Bad inventory, group_vars/host_vars, or --limit pattern. Exit 4. */
export class InventoryError extends VncplayError {}
/** Template syntax error or undefined variable. Exit 4 before the run, a task failure during it. */
export class TemplateError extends VncplayError {}
/** Bad command line. Exit 5. */
export class UsageError extends VncplayError {}
/** Could not reach or authenticate to a host: the host is unreachable (exit 3). */
export class ConnectionError extends VncplayError {}
/** A module could not do what was asked on a host. */
export class ModuleError extends VncplayError {}
/** Vault format or password problems. */
export class VaultError extends VncplayError {}

/** Several errors found in one pass: all of a file's errors are reported at once. */
export class ErrorList extends VncplayError {
  readonly errors: VncplayError[];
  constructor(errors: VncplayError[]) {
    super(errors[0]?.code ?? 'E_MULTIPLE', `${errors.length} error(s)`);
    this.errors = errors;
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n\n');
  }
}

/**
 * Two lines of source (the line before and the line itself) and a caret under `col`.
 * Used by every positioned error so they all look the same.
 */
export function formatExcerpt(source: string, line: number, col: number): string {
  const lines = source.split(/\r?\n/);
  const width = String(line).length;
  const out: string[] = [];
  if (line >= 2 && lines[line - 2] !== undefined) {
    out.push(`${String(line - 1).padStart(width)} | ${lines[line - 2]}`);
  }
  out.push(`${String(line).padStart(width)} | ${lines[line - 1] ?? ''}`);
  out.push(`${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`);
  return out.join('\n');
}

/** Nearest candidate by edit distance, for "did you mean …" hints; undefined when nothing is close. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestDist <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      // Damerau transposition is approximated by the substitution cost; good enough for typos.
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  taskFailed: 2,
  unreachable: 3,
  invalidInput: 4,
  usage: 5,
  interrupted: 130,
} as const;
