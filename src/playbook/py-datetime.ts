/*
 * Python's datetime.datetime (naive), datetime.date and datetime.timedelta as Ansible's templates hand them out:
 * now() and the to_datetime filter return a datetime, subtracting two gives a timedelta. Only what playbooks use is
 * here: the attributes, strftime/isoformat/timestamp/date/weekday, str() and repr(), comparison and arithmetic.
 * A moment is kept as microseconds of its wall clock read as if it were UTC (a naive datetime has no zone).
 */

const MICROS_PER_SECOND = 1_000_000;
const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** The parts of a moment that strftime reads. */
interface ClockParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** 0 = Sunday, as C's tm_wday. */
  weekdayFromSunday: number;
  dayOfYear: number;
  /** Seconds since the epoch (%s). */
  epochSeconds: number;
  /** `+0000`-style offset (%z), empty for a naive datetime. */
  offset: string;
  /** Zone name (%Z), empty for a naive datetime. */
  zone: string;
}

/** C strftime for the common directives (%Y %m %d %H %M %S %y %j %a %A %b %B %p %I %f %s %w %z %Z %%). */
function formatClock(fmt: string, t: ClockParts): string {
  return fmt.replace(/%([a-zA-Z%])/g, (directive, c: string) => {
    switch (c) {
      case 'Y': return String(t.year);
      case 'y': return two(t.year % 100);
      case 'm': return two(t.month);
      case 'd': return two(t.day);
      case 'H': return two(t.hour);
      case 'I': return two(t.hour % 12 === 0 ? 12 : t.hour % 12);
      case 'p': return t.hour < 12 ? 'AM' : 'PM';
      case 'M': return two(t.minute);
      case 'S': return two(t.second);
      case 'f': return String(t.microsecond).padStart(6, '0');
      case 'j': return String(t.dayOfYear).padStart(3, '0');
      case 'w': return String(t.weekdayFromSunday);
      case 'a': return DAY_NAMES[t.weekdayFromSunday]!.slice(0, 3);
      case 'A': return DAY_NAMES[t.weekdayFromSunday]!;
      case 'b': return MONTH_NAMES[t.month - 1]!.slice(0, 3);
      case 'B': return MONTH_NAMES[t.month - 1]!;
      case 's': return String(t.epochSeconds);
      case 'z': return t.offset;
      case 'Z': return t.zone;
      case '%': return '%';
      default: return directive;
    }
  });
}

/** time.strftime of a JavaScript Date, in local time or UTC (Ansible's strftime filter). */
export function strftime(fmt: string, date: Date, utc: boolean): string {
  const offsetMinutes = utc ? 0 : -date.getTimezoneOffset();
  const wall = PyDatetime.fromEpochMicros(date.getTime() * 1000 + offsetMinutes * 60 * MICROS_PER_SECOND, 'datetime');
  const sign = offsetMinutes >= 0 ? '+' : '-';
  return formatClock(fmt, {
    ...wall.clockParts(),
    epochSeconds: Math.floor(date.getTime() / 1000),
    offset: `${sign}${two(Math.floor(Math.abs(offsetMinutes) / 60))}${two(Math.abs(offsetMinutes) % 60)}`,
    zone: utc ? 'UTC' : '',
  });
}

/** performance.now() plus this gives the wall clock in milliseconds, with the monotonic clock's fraction. */
let wallClockOffset = Date.now() - performance.now();

/**
 * The wall clock in milliseconds with microseconds (Date.now() has none). It follows the monotonic clock, so two
 * readings a moment apart never go backwards, and takes the wall clock again when the two part by more than the
 * millisecond Date.now() rounds to (the system clock was set or slewed).
 */
function epochMillis(): number {
  const wall = Date.now();
  let ms = performance.now() + wallClockOffset;
  if (Math.abs(ms - wall) > 2) {
    wallClockOffset = wall - performance.now();
    ms = wall;
  }
  return ms;
}

/** A value of a class of Python's datetime module that templates can hold: printed with str(), inspected through attributes. */
export abstract class PyObject {
  abstract readonly typeName: string;
  /** The name with its module, as TypeError and AttributeError messages give it. */
  get qualifiedName(): string {
    return `datetime.${this.typeName}`;
  }
  abstract str(): string;
  abstract repr(): string;
  /** An attribute or a bound method; undefined when the class has none of that name. */
  abstract attr(name: string): unknown;
  abstract truthy(): boolean;
  /** What Ansible's JSON encoder writes for the value. */
  abstract toJSON(): string;
}

/** datetime.datetime (naive) or, with kind 'date', datetime.date. */
export class PyDatetime extends PyObject {
  private constructor(
    /** Microseconds of the wall clock since 1970-01-01 00:00, read as UTC. */
    readonly wallMicros: number,
    readonly kind: 'datetime' | 'date',
  ) {
    super();
  }

  static fromEpochMicros(wallMicros: number, kind: 'datetime' | 'date'): PyDatetime {
    return new PyDatetime(kind === 'date' ? Math.floor(wallMicros / MICROS_PER_DAY) * MICROS_PER_DAY : wallMicros, kind);
  }

  /** datetime.now() (local wall clock) or datetime.utcnow(), to the microsecond. */
  static now(utc: boolean): PyDatetime {
    const epochMicros = Math.round(epochMillis() * 1000);
    const offsetMinutes = utc ? 0 : -new Date(epochMicros / 1000).getTimezoneOffset();
    return new PyDatetime(epochMicros + offsetMinutes * 60 * MICROS_PER_SECOND, 'datetime');
  }

  static fromParts(p: { year: number; month: number; day: number; hour: number; minute: number; second: number; microsecond: number }): PyDatetime {
    return new PyDatetime(Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) * 1000 + p.microsecond, 'datetime');
  }

  get typeName(): string {
    return this.kind;
  }

  private utcDate(): Date {
    return new Date(Math.floor(this.wallMicros / 1000));
  }

  clockParts(): ClockParts {
    const d = this.utcDate();
    const year = d.getUTCFullYear();
    return {
      year,
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      microsecond: ((this.wallMicros % MICROS_PER_SECOND) + MICROS_PER_SECOND) % MICROS_PER_SECOND,
      weekdayFromSunday: d.getUTCDay(),
      dayOfYear: Math.floor((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
      epochSeconds: Math.floor(this.timestamp()),
      offset: '',
      zone: '',
    };
  }

  /** datetime.timestamp(): a naive datetime is local time. */
  timestamp(): number {
    const d = this.utcDate();
    const local = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
    const micros = ((this.wallMicros % MICROS_PER_SECOND) + MICROS_PER_SECOND) % MICROS_PER_SECOND;
    return local.getTime() / 1000 + micros / MICROS_PER_SECOND;
  }

  isoformat(sep = 'T'): string {
    const p = this.clockParts();
    const date = `${String(p.year).padStart(4, '0')}-${two(p.month)}-${two(p.day)}`;
    if (this.kind === 'date') return date;
    const micro = p.microsecond === 0 ? '' : `.${String(p.microsecond).padStart(6, '0')}`;
    return `${date}${sep}${two(p.hour)}:${two(p.minute)}:${two(p.second)}${micro}`;
  }

  strftime(fmt: string): string {
    return formatClock(fmt, this.clockParts());
  }

  str(): string {
    return this.isoformat(' ');
  }

  repr(): string {
    const p = this.clockParts();
    if (this.kind === 'date') return `datetime.date(${p.year}, ${p.month}, ${p.day})`;
    const parts = [p.year, p.month, p.day, p.hour, p.minute];
    if (p.second !== 0 || p.microsecond !== 0) parts.push(p.second);
    if (p.microsecond !== 0) parts.push(p.microsecond);
    return `datetime.datetime(${parts.join(', ')})`;
  }

  toJSON(): string {
    return this.isoformat();
  }

  truthy(): boolean {
    return true;
  }

  attr(name: string): unknown {
    const p = this.clockParts();
    const dateAttrs: Record<string, unknown> = {
      year: p.year,
      month: p.month,
      day: p.day,
      strftime: (fmt: unknown) => this.strftime(String(fmt)),
      isoformat: (sep?: unknown) => this.isoformat(sep === undefined ? 'T' : String(sep)),
      weekday: () => (p.weekdayFromSunday + 6) % 7,
      isoweekday: () => (p.weekdayFromSunday === 0 ? 7 : p.weekdayFromSunday),
      toordinal: () => Math.floor(this.wallMicros / MICROS_PER_DAY) + 719_163,
    };
    const timeAttrs: Record<string, unknown> = {
      hour: p.hour,
      minute: p.minute,
      second: p.second,
      microsecond: p.microsecond,
      timestamp: () => this.timestamp(),
      date: () => PyDatetime.fromEpochMicros(this.wallMicros, 'date'),
    };
    const table = this.kind === 'date' ? dateAttrs : { ...dateAttrs, ...timeAttrs };
    return Object.hasOwn(table, name) ? table[name] : undefined;
  }
}

/** datetime.timedelta, normalised as Python does: days (may be negative), 0 <= seconds < 86400, microseconds. */
export class PyTimedelta extends PyObject {
  readonly typeName = 'timedelta';

  constructor(readonly micros: number) {
    super();
  }

  private parts(): { days: number; seconds: number; microseconds: number } {
    const days = Math.floor(this.micros / MICROS_PER_DAY);
    const rest = this.micros - days * MICROS_PER_DAY;
    return { days, seconds: Math.floor(rest / MICROS_PER_SECOND), microseconds: rest % MICROS_PER_SECOND };
  }

  str(): string {
    const { days, seconds, microseconds } = this.parts();
    const clock = `${Math.floor(seconds / 3600)}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
    const withMicros = microseconds === 0 ? clock : `${clock}.${String(microseconds).padStart(6, '0')}`;
    return days === 0 ? withMicros : `${days} day${Math.abs(days) === 1 ? '' : 's'}, ${withMicros}`;
  }

  repr(): string {
    const { days, seconds, microseconds } = this.parts();
    const fields = [
      days !== 0 ? `days=${days}` : '',
      seconds !== 0 ? `seconds=${seconds}` : '',
      microseconds !== 0 ? `microseconds=${microseconds}` : '',
    ].filter((f) => f !== '');
    return `datetime.timedelta(${fields.length === 0 ? '0' : fields.join(', ')})`;
  }

  toJSON(): string {
    return this.str();
  }

  truthy(): boolean {
    return this.micros !== 0;
  }

  attr(name: string): unknown {
    const p = this.parts();
    const table: Record<string, unknown> = {
      days: p.days,
      seconds: p.seconds,
      microseconds: p.microseconds,
      total_seconds: () => this.micros / MICROS_PER_SECOND,
    };
    return Object.hasOwn(table, name) ? table[name] : undefined;
  }
}

/** `a - b` and `a + b` between datetimes and timedeltas; undefined when Python has no such operation. */
export function datetimeArith(op: string, a: unknown, b: unknown): PyObject | undefined {
  if (op === '-' && a instanceof PyDatetime && b instanceof PyDatetime && a.kind === b.kind) {
    return new PyTimedelta(a.wallMicros - b.wallMicros);
  }
  if ((op === '+' || op === '-') && a instanceof PyDatetime && b instanceof PyTimedelta) {
    const micros = op === '+' ? a.wallMicros + b.micros : a.wallMicros - b.micros;
    return PyDatetime.fromEpochMicros(micros, a.kind);
  }
  if (op === '+' && a instanceof PyTimedelta && b instanceof PyDatetime) return datetimeArith(op, b, a);
  if ((op === '+' || op === '-') && a instanceof PyTimedelta && b instanceof PyTimedelta) {
    return new PyTimedelta(op === '+' ? a.micros + b.micros : a.micros - b.micros);
  }
  return undefined;
}

/** The order of two datetimes of one kind or two timedeltas; undefined when Python cannot compare them. */
export function datetimeOrder(a: unknown, b: unknown): number | undefined {
  if (a instanceof PyDatetime && b instanceof PyDatetime && a.kind === b.kind) return a.wallMicros - b.wallMicros;
  if (a instanceof PyTimedelta && b instanceof PyTimedelta) return a.micros - b.micros;
  return undefined;
}

/** The error Python gives when a string does not match a strptime format. */
export class StrptimeMismatch extends Error {}

const STRPTIME_FIELDS: Record<string, string> = {
  Y: '(?<Y>\\d{4})',
  y: '(?<y>\\d{2})',
  m: '(?<m>\\d{1,2})',
  d: '(?<d>\\d{1,2})',
  H: '(?<H>\\d{1,2})',
  I: '(?<I>\\d{1,2})',
  M: '(?<M>\\d{1,2})',
  S: '(?<S>\\d{1,2})',
  f: '(?<f>\\d{1,6})',
  j: '(?<j>\\d{1,3})',
  p: '(?<p>AM|PM|am|pm)',
  b: '(?<b>[A-Za-z]{3})',
  B: '(?<B>[A-Za-z]+)',
  a: '(?:[A-Za-z]{3})',
  A: '(?:[A-Za-z]+)',
  '%': '%',
};

/** datetime.strptime for the directives playbooks use (%Y %y %m %d %H %I %p %M %S %f %j %b %B %a %A %%). */
export function strptime(text: string, fmt: string): PyDatetime {
  let pattern = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '%' && i + 1 < fmt.length) {
      const field = STRPTIME_FIELDS[fmt[++i]!];
      if (field === undefined) throw new StrptimeMismatch(`'${fmt[i]}' is a bad directive in format '%${fmt[i]}'`);
      pattern += field;
    } else if (/\s/.test(c)) pattern += '\\s+';
    else pattern += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${pattern}$`).exec(text);
  if (!m) throw new StrptimeMismatch(`time data '${text}' does not match format '${fmt}'`);
  const g = m.groups ?? {};
  const num = (k: string, dflt: number): number => (g[k] === undefined ? dflt : Number(g[k]));
  const monthByName = (name: string | undefined): number | undefined =>
    name === undefined ? undefined : MONTH_NAMES.findIndex((n) => n.toLowerCase().startsWith(name.toLowerCase()) && (name.length === 3 || n.toLowerCase() === name.toLowerCase())) + 1;
  const year = g['Y'] !== undefined ? num('Y', 1900) : g['y'] !== undefined ? (num('y', 0) < 69 ? 2000 : 1900) + num('y', 0) : 1900;
  const month = g['m'] !== undefined ? num('m', 1) : (monthByName(g['b'] ?? g['B']) ?? 1);
  const hour12 = g['I'] !== undefined ? num('I', 12) % 12 + (g['p']?.toUpperCase() === 'PM' ? 12 : 0) : undefined;
  const parts = {
    year,
    month,
    day: num('d', 1),
    hour: hour12 ?? num('H', 0),
    minute: num('M', 0),
    second: num('S', 0),
    microsecond: g['f'] === undefined ? 0 : Number(g['f'].padEnd(6, '0')),
  };
  const out = PyDatetime.fromParts(parts);
  const back = out.clockParts();
  if (month < 1 || back.month !== month || back.day !== parts.day || parts.hour > 23 || parts.minute > 59 || parts.second > 61) {
    throw new StrptimeMismatch(`time data '${text}' does not match format '${fmt}'`);
  }
  if (g['j'] !== undefined && g['m'] === undefined && g['d'] === undefined) {
    return PyDatetime.fromEpochMicros(out.wallMicros + (num('j', 1) - 1) * MICROS_PER_DAY, 'datetime');
  }
  return out;
}
