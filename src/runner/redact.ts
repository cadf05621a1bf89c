import type { RunEvent } from './events.js';

const MARK = '********';

/**
 * Event fields that carry the playbook's data (a registered result, a loop item, a diff, a drill phase's data):
 * inside them a secret is hidden wherever it shows, in a mapping's keys and in numbers too (a numeric PIN). The
 * other fields are the event's own shape (type, host, task, counters), where only strings are redacted, so a
 * secret that happens to equal a field name or a duration cannot garble the event.
 */
const DATA_FIELDS = new Set(['result', 'item', 'diff', 'data']);

/** The run's secrets (values of 3 characters or more), and the one place that hides them from its output. */
export class SecretRedactor {
  /** Longest first, so a secret that contains another is hidden whole. */
  private readonly secrets: string[] = [];

  constructor(initial: Iterable<string> = []) {
    for (const s of initial) this.add(s);
  }

  add(value: string): void {
    if (value.length < 3 || this.secrets.includes(value)) return;
    this.secrets.push(value);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  text(text: string): string {
    return this.secrets.reduce((t, s) => (t.includes(s) ? t.split(s).join(MARK) : t), text);
  }

  /**
   * The event with every secret replaced. Redacts the event's values, not its JSON text: a secret with a quote,
   * backslash or newline is escaped in JSON (and would slip through). `time` is ours and never secret.
   */
  event(event: RunEvent): RunEvent {
    if (this.secrets.length === 0) return event;
    const plain = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    const out = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, DATA_FIELDS.has(k) ? this.data(v) : this.strings(v)]));
    return { ...out, time: event.time } as RunEvent;
  }

  private strings(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.strings(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.strings(x)]));
    return v;
  }

  private data(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'number') {
      const shown = this.text(String(v));
      return shown === String(v) ? v : shown;
    }
    if (Array.isArray(v)) return v.map((x) => this.data(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.uniqueKey(this.text(k), out)] = this.data(x);
      return out;
    }
    return v;
  }

  /** Two keys that differ only in their secrets would be one after redaction: the later one is numbered. */
  private uniqueKey(key: string, taken: Record<string, unknown>): string {
    if (!Object.hasOwn(taken, key)) return key;
    let n = 2;
    while (Object.hasOwn(taken, `${key} (${n})`)) n++;
    return `${key} (${n})`;
  }
}
