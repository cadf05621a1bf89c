import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PyDatetime, PyTimedelta, strptime } from '../../src/playbook/py-datetime.js';
import { requireProgram } from '../support/tools.js';

/** Python's own datetime module on the same values: str(), repr(), isoformat(), strftime(), strptime(). */
function python(script: string, input: unknown): unknown {
  const res = spawnSync(requireProgram('python3'), ['-c', `import datetime, json, sys\ndata = json.load(sys.stdin)\n${script}`], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  if (res.status !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as unknown;
}

const DELTAS = [0, 1, 999_999, 1_000_000, 59_000_000, 3_600_000_000, 86_399_999_999, 86_400_000_000, 2 * 86_400_000_000 + 5_000_250, -1, -1_000_000, -86_400_000_000, -90_061_000_001];

const MOMENTS = [
  { year: 2020, month: 2, day: 29, hour: 13, minute: 45, second: 30, microsecond: 0 },
  { year: 2021, month: 1, day: 1, hour: 0, minute: 0, second: 0, microsecond: 0 },
  { year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 59, microsecond: 999_999 },
  { year: 2024, month: 7, day: 4, hour: 12, minute: 5, second: 0, microsecond: 250 },
];

const FORMAT = '%Y-%m-%d %H:%M:%S.%f %y %j %a %A %b %B %I %p %w %%';

const PARSES: [string, string][] = [
  ['2020-02-29 13:45:30', '%Y-%m-%d %H:%M:%S'],
  ['Mar 01, 2021', '%b %d, %Y'],
  ['July 4 21', '%B %d %y'],
  ['07/04/69 12:30 AM', '%m/%d/%y %I:%M %p'],
  ['2021-032', '%Y-%j'],
  ['2020-01-01T00:00:00.5', '%Y-%m-%dT%H:%M:%S.%f'],
];

describe("Python's datetime values, compared with python3's datetime module", () => {
  it('timedelta: str(), repr(), days/seconds/microseconds', () => {
    const theirs = python(
      'out = []\nfor us in data:\n  d = datetime.timedelta(microseconds=us)\n  out.append([str(d), repr(d), d.days, d.seconds, d.microseconds])\nprint(json.dumps(out))',
      DELTAS,
    );
    const ours = DELTAS.map((us) => {
      const d = new PyTimedelta(us);
      return [d.str(), d.repr(), d.attr('days'), d.attr('seconds'), d.attr('microseconds')];
    });
    expect(ours).toEqual(theirs);
  });

  it('datetime: str(), repr(), isoformat(), strftime(), weekday(), date()', () => {
    const theirs = python(
      `out = []\nfor p in data["moments"]:\n  d = datetime.datetime(**p)\n  out.append([str(d), repr(d), d.isoformat(), d.strftime(data["fmt"]), d.weekday(), str(d.date()), repr(d.date())])\nprint(json.dumps(out))`,
      { moments: MOMENTS, fmt: FORMAT },
    );
    const ours = MOMENTS.map((p) => {
      const d = PyDatetime.fromParts(p);
      const date = (d.attr('date') as () => PyDatetime)();
      return [d.str(), d.repr(), d.isoformat(), d.strftime(FORMAT), (d.attr('weekday') as () => number)(), date.str(), date.repr()];
    });
    expect(ours).toEqual(theirs);
  });

  it('strptime: the directives playbooks use', () => {
    const theirs = python('print(json.dumps([repr(datetime.datetime.strptime(t, f)) for t, f in data]))', PARSES);
    expect(PARSES.map(([t, f]) => strptime(t, f).repr())).toEqual(theirs);
  });
});
