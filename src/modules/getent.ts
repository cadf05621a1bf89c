import { actionModule } from './spec/define.js';
import { defineSpec } from './spec/types.js';

/** ansible.builtin.getent: a getent(1) database (or one key of it) into the facts `getent_DATABASE`. */
const spec = defineSpec({
  description: 'Read a getent database (passwd, group, hosts, services …) or one key of it into the fact getent_DATABASE.',
  options: {
    database: { type: 'str', required: true, pattern: '^[A-Za-z0-9_]+$', patternText: 'a database name such as passwd or hosts', description: 'The database (passwd, group, shadow, hosts, services, …).' },
    key: { type: 'str', description: 'Only this key; the task fails when it is not there (unless fail_key is false).' },
    split: { type: 'str', description: "What separates the fields (default ':' for passwd, shadow, group and gshadow, else whitespace)." },
    fail_key: { type: 'bool', default: true, description: 'Fail when the key is missing; false gives it the value null.' },
    service: { type: 'str', description: 'The NSS service to ask (getent -s).' },
  },
});

const colonDatabases = ['passwd', 'shadow', 'group', 'gshadow'];

/** Python's str.split(sep) (sep undefined: runs of whitespace, leading and trailing ignored). */
function pySplit(line: string, sep: string | undefined): string[] {
  return sep === undefined ? line.trim().split(/\s+/).filter((w) => w !== '') : line.split(sep);
}

/** getent's output as Ansible's module reads it: first field → the rest; a key seen again → a list of records. */
export function getentRecords(stdout: string, split: string | undefined): Record<string, unknown> {
  const records: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  for (const line of stdout.split(/\r?\n/)) {
    if (line === '') continue;
    const [first = '', ...rest] = pySplit(line, split);
    const count = seen.get(first) ?? 0;
    if (count === 0) records[first] = rest;
    else if (count === 1) records[first] = [records[first], rest];
    else (records[first] as unknown[]).push(rest);
    seen.set(first, count + 1);
  }
  return records;
}

export const getentModule = actionModule(spec, {
  kind: 'action',
  name: 'getent',
  where: 'host',
  inCheckMode: 'run',
  async run(args, ctx) {
    const argv = ['getent', args.database, ...(args.key !== undefined ? [args.key] : []), ...(args.service !== undefined ? ['-s', args.service] : [])];
    const res = await ctx.exec(argv);
    const tree = `getent_${args.database}`;
    if (res.rc === 0) {
      const facts = { [tree]: getentRecords(res.stdout, args.split ?? (colonDatabases.includes(args.database) ? ':' : undefined)) };
      return { changed: false, facts, data: { ansible_facts: facts } };
    }
    if (res.rc === 2 && !args.fail_key && args.key !== undefined) {
      const msg = 'One or more supplied key could not be found in the database.';
      const facts = { [tree]: { [args.key]: null } };
      return { changed: false, facts, msg, data: { ansible_facts: facts } };
    }
    const messages: Record<number, string> = {
      1: 'Missing arguments, or database unknown.',
      2: 'One or more supplied key could not be found in the database.',
      3: 'Enumeration not supported on this database.',
    };
    return { failed: true, msg: messages[res.rc] ?? 'Unexpected failure!' };
  },
});
