import path from 'node:path';
import { ModuleError } from '../errors.js';
import { findGroup, parseGroupLines, parsePasswdLine, parseShadowLine, SECTION, sections, type GroupEntry, type PasswdEntry } from './accounts.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf } from './spec/types.js';
import type { Change, ModuleContext, Step } from './types.js';

/**
 * ansible.builtin.user on Linux: useradd / usermod / userdel with Ansible's decisions (what differs, what `append`
 * means for groups, a missing home created from /etc/skel, an ssh key generated once). Gather is one shell
 * script (getent passwd/shadow/group, the home and key files); plan is pure.
 */
const spec = defineSpec({
  description: 'Make sure a local user exists with the given uid, groups, shell, home, comment and password hash, or does not exist (useradd / usermod / userdel).',
  options: {
    name: { type: 'str', required: true, aliases: ['user'], pattern: '^[A-Za-z0-9_.][A-Za-z0-9_.-]*\\$?$', patternText: 'a user name (letters, digits, _ . -, not starting with -)', description: 'Name of the user.' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'Whether the account should exist.' },
    uid: { type: 'int', min: 0, description: 'The user id.' },
    non_unique: { type: 'bool', default: false, description: 'Allow a uid another user already has (-o); needs uid.' },
    group: { type: 'str', description: 'Primary group (name or gid); it must exist.' },
    groups: { type: 'list', elements: 'str', description: 'Other groups; with append false the user is in exactly these (an empty list removes all but the primary).' },
    append: { type: 'bool', default: false, description: 'Add the groups to the ones the user has instead of replacing them.' },
    shell: { type: 'str', description: 'Login shell.' },
    home: { type: 'path', description: 'Home directory.' },
    create_home: { type: 'bool', default: true, aliases: ['createhome'], description: 'Create the home directory (from /etc/skel) when the user is created or the home is missing.' },
    move_home: { type: 'bool', default: false, description: 'With a new home: move the contents of the old one there (usermod -m).' },
    skeleton: { type: 'str', description: 'Skeleton folder for a new home (useradd -k).' },
    system: { type: 'bool', default: false, description: 'Create a system account (useradd -r); no effect on an existing user.' },
    comment: { type: 'str', description: 'The GECOS field (full name).' },
    password: { type: 'str', no_log: true, description: 'The password HASH as /etc/shadow holds it (e.g. from password_hash), never the clear text.' },
    update_password: { type: 'str', choices: ['always', 'on_create'], default: 'always', description: 'always: set the hash when it differs; on_create: only for a new user.' },
    remove: { type: 'bool', default: false, description: 'With state absent: remove the home directory and mail spool too (userdel -r).' },
    force: { type: 'bool', default: false, description: 'With state absent: remove even when logged in (userdel -f); with generate_ssh_key: replace an existing key.' },
    generate_ssh_key: { type: 'bool', default: false, description: 'Generate an ssh key pair for the user when there is none.' },
    ssh_key_type: { type: 'str', default: 'rsa', description: 'ssh-keygen -t.' },
    ssh_key_bits: { type: 'int', default: 0, min: 0, description: 'ssh-keygen -b (0: its default for the type).' },
    ssh_key_file: { type: 'path', description: 'Key file, relative to the home (default .ssh/id_TYPE).' },
    ssh_key_comment: { type: 'str', description: 'ssh-keygen -C (default "ansible-generated on HOSTNAME").' },
    ssh_key_passphrase: { type: 'str', no_log: true, description: 'Passphrase of the generated key (default none).' },
  },
  required_if: [['non_unique', true, ['uid']]],
});

type UserArgs = ArgsOf<typeof spec.options>;

export interface UserFacts {
  user?: PasswdEntry;
  /** The shadow password field (readable as root). */
  shadowPassword?: string;
  groups: GroupEntry[];
  /** The home the user has or will have exists on the host. */
  homeExists: boolean;
  /** The ssh key file (absolute) and what exists of it, when generate_ssh_key. */
  keyFile?: string;
  keyExists: boolean;
  pubExists: boolean;
  publicKey?: string;
  fingerprint?: string;
  hostname: string;
}

/**
 * Reads everything in one exec: $1 name, $2 the home to test (empty: the user's own), $3 the key file when asked
 * (relative to that home unless absolute).
 */
const GATHER = [
  'getent passwd "$1"',
  `echo ${SECTION}`,
  'getent shadow "$1"',
  `echo ${SECTION}`,
  'getent group',
  `echo ${SECTION}`,
  'h=${2:-$(getent passwd "$1" | cut -d: -f6)}; [ -n "$h" ] && [ -d "$h" ] && echo yes',
  `echo ${SECTION}`,
  'k=$3; case $k in "" ) ;; /*) ;; *) k="$h/$k";; esac; echo "$k"',
  `echo ${SECTION}`,
  '[ -n "$3" ] && [ -e "$k" ] && echo yes',
  `echo ${SECTION}`,
  '[ -n "$3" ] && [ -e "$k.pub" ] && cat -- "$k.pub"',
  `echo ${SECTION}`,
  '[ -n "$3" ] && [ -e "$k.pub" ] && ssh-keygen -l -f "$k.pub"',
  `echo ${SECTION}`,
  'hostname',
].join('\n');

function keyFileArg(args: UserArgs): string {
  return args.ssh_key_file ?? path.posix.join('.ssh', `id_${args.ssh_key_type}`);
}

async function gatherUser(args: UserArgs, ctx: ModuleContext): Promise<UserFacts> {
  const key = args.generate_ssh_key ? keyFileArg(args) : '';
  const res = await ctx.exec(['sh', '-c', GATHER, 'sh', args.name, args.home ?? '', key]);
  const [passwd, shadow, group, home, keyFile, keyExists, pub, fingerprint, hostname] = sections(res.stdout, 9);
  const user = passwd ? parsePasswdLine(passwd) : undefined;
  const facts: UserFacts = {
    groups: parseGroupLines(group!),
    homeExists: home === 'yes',
    keyExists: keyExists === 'yes',
    pubExists: pub !== '',
    hostname: hostname!.trim(),
  };
  if (user) facts.user = user;
  const sp = shadow ? parseShadowLine(shadow) : undefined;
  if (sp) facts.shadowPassword = sp.password;
  if (key !== '') facts.keyFile = keyFile!;
  if (pub) facts.publicKey = pub;
  if (fingerprint) facts.fingerprint = fingerprint;
  return facts;
}

/** The groups a task names, each checked to exist (Ansible: "Group X does not exist"). */
function wantedGroups(args: UserArgs, facts: UserFacts): string[] {
  const names = [...new Set((args.groups ?? []).flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== ''))];
  for (const g of names) if (!findGroup(facts.groups, g)) throw new ModuleError('E_USER_GROUP', `Group ${g} does not exist`, { hint: 'create it first with the group module' });
  return names.sort();
}

function primaryGroup(args: UserArgs, facts: UserFacts): GroupEntry | undefined {
  if (args.group === undefined) return undefined;
  const g = findGroup(facts.groups, args.group);
  if (!g) throw new ModuleError('E_USER_GROUP', `Group ${args.group} does not exist`, { hint: 'create it first with the group module' });
  return g;
}

function useradd(args: UserArgs, facts: UserFacts): string[] {
  const argv = ['useradd'];
  if (args.uid !== undefined) argv.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
  if (args.group !== undefined) argv.push('-g', primaryGroup(args, facts)!.name);
  // Without group, a group named like the user is not taken over: no user group is made either (as Ansible).
  else if (findGroup(facts.groups, args.name)) argv.push('-N');
  const groups = wantedGroups(args, facts);
  if (groups.length > 0) argv.push('-G', groups.join(','));
  if (args.comment !== undefined) argv.push('-c', args.comment);
  if (args.home !== undefined) argv.push('-d', args.home);
  if (args.shell !== undefined) argv.push('-s', args.shell);
  if (args.password !== undefined) argv.push('-p', args.password);
  if (args.create_home) argv.push('-m', ...(args.skeleton !== undefined ? ['-k', args.skeleton] : []));
  else argv.push('-M');
  if (args.system) argv.push('-r');
  argv.push(args.name);
  return argv;
}

/** usermod's options for what differs (Ansible's modify_user_usermod); empty when nothing does. */
function usermodOptions(args: UserArgs, facts: UserFacts, user: PasswdEntry): string[] {
  const argv: string[] = [];
  if (args.uid !== undefined && user.uid !== args.uid) argv.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
  const primary = primaryGroup(args, facts);
  if (primary && user.gid !== primary.gid) argv.push('-g', String(primary.gid));
  if (args.groups !== undefined) {
    const current = facts.groups.filter((g) => g.members.includes(args.name)).map((g) => g.name);
    const wanted = wantedGroups(args, facts);
    if (wanted.length === 0) {
      if (current.length > 0 && !args.append) argv.push('-G', '');
    } else {
      const differ = [...current.filter((g) => !wanted.includes(g)), ...wanted.filter((g) => !current.includes(g))];
      if (args.append ? wanted.some((g) => differ.includes(g)) : differ.length > 0) argv.push(...(args.append ? ['-a'] : []), '-G', wanted.join(','));
    }
  }
  if (args.comment !== undefined && user.comment !== args.comment) argv.push('-c', args.comment);
  if (args.home !== undefined && user.home !== args.home) argv.push('-d', args.home, ...(args.move_home ? ['-m'] : []));
  if (args.shell !== undefined && user.shell !== args.shell) argv.push('-s', args.shell);
  const current = (facts.shadowPassword ?? user.password).replace(/^!+/, '');
  if (args.update_password === 'always' && args.password !== undefined && current !== args.password.replace(/^!+/, '')) argv.push('-p', args.password);
  return argv;
}

/** A missing home, made as Ansible's create_homedir does: the folder, /etc/skel's files, owned by the user. */
function createHomeStep(args: UserArgs): Step {
  const script = 'h=${2:-$(getent passwd "$1" | cut -d: -f6)}; mkdir -p -- "$h" && { [ ! -d "$3" ] || cp -a -- "$3/." "$h"; } && chown -R -- "$(id -u -- "$1"):$(id -g -- "$1")" "$h"';
  return { kind: 'exec', argv: ['sh', '-c', script, 'sh', args.name, args.home ?? '', args.skeleton ?? '/etc/skel'] };
}

function sshKeyStep(args: UserArgs, facts: UserFacts): Step {
  const comment = args.ssh_key_comment ?? `ansible-generated on ${facts.hostname}`;
  const bits = args.ssh_key_bits > 0 ? ['-b', String(args.ssh_key_bits)] : [];
  // The key path is resolved on the host after useradd/usermod ran (a new user's home is known only then).
  const script =
    'u=$1; h=$(getent passwd "$u" | cut -d: -f6); k=$2; case $k in /*) ;; *) k="$h/$k";; esac; d=$(dirname -- "$k"); ' +
    'owner="$(id -u -- "$u"):$(id -g -- "$u")"; ' +
    '[ -d "$d" ] || { mkdir -m 0700 -- "$d" && chown -- "$owner" "$d"; } || exit 1; ' +
    'rm -f -- "$k" "$k.pub"; shift 2; ssh-keygen -q "$@" -f "$k" && chown -- "$owner" "$k" "$k.pub"';
  return {
    kind: 'exec',
    argv: ['sh', '-c', script, 'sh', args.name, keyFileArg(args), '-t', args.ssh_key_type, ...bits, '-C', comment, '-N', args.ssh_key_passphrase ?? ''],
    secret: args.ssh_key_passphrase !== undefined,
  };
}

export function userChanges(args: UserArgs, facts: UserFacts): Change[] {
  const user = facts.user;
  if (args.state === 'absent') {
    if (!user) return [];
    return [{ summary: `remove user ${args.name}`, steps: [{ kind: 'exec', argv: ['userdel', ...(args.force ? ['-f'] : []), ...(args.remove ? ['-r'] : []), args.name] }] }];
  }
  const changes: Change[] = [];
  if (!user) {
    if (args.home !== undefined && args.create_home) {
      changes.push({ summary: `create the parent of ${args.home}`, steps: [{ kind: 'exec', argv: ['mkdir', '-p', '--', path.posix.dirname(args.home)] }] });
    }
    changes.push({ summary: `add user ${args.name}`, steps: [{ kind: 'exec', argv: useradd(args, facts), ...(args.password !== undefined ? { secret: true } : {}) }] });
  } else {
    const options = usermodOptions(args, facts, user);
    if (options.length > 0) {
      changes.push({ summary: `modify user ${args.name}`, steps: [{ kind: 'exec', argv: ['usermod', ...options, args.name], ...(options.includes('-p') ? { secret: true } : {}) }] });
    }
    const homeMoves = args.home !== undefined && args.home !== user.home && args.move_home;
    if (!facts.homeExists && args.create_home && !homeMoves) changes.push({ summary: `create home of ${args.name}`, steps: [createHomeStep(args)] });
  }
  const keyThere = facts.keyExists || facts.pubExists;
  if (args.generate_ssh_key && (!keyThere || args.force)) changes.push({ summary: `generate an ssh key for ${args.name}`, steps: [sshKeyStep(args, facts)] });
  return changes;
}

/** The registered result as Ansible's user module builds it. */
function userResult(args: UserArgs, facts: UserFacts, created: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { name: args.name, state: args.state };
  if (args.state === 'absent') return out;
  if (created) Object.assign(out, { system: args.system, create_home: args.create_home });
  else if (facts.user) Object.assign(out, { append: args.append, move_home: args.move_home });
  if (args.password !== undefined) out['password'] = 'NOT_LOGGING_PASSWORD';
  const user = facts.user;
  if (user) {
    Object.assign(out, { uid: user.uid, group: user.gid, comment: user.comment, home: user.home, shell: user.shell });
    if (args.groups !== undefined) out['groups'] = args.groups.join(',');
    if (args.generate_ssh_key && facts.keyFile !== undefined) {
      Object.assign(out, { ssh_fingerprint: facts.fingerprint ?? '', ssh_key_file: facts.keyFile, ssh_public_key: facts.publicKey ?? '' });
    }
  }
  return out;
}

export const userModule = plannedModule(spec, {
  kind: 'planned',
  name: 'user',
  where: 'host',
  gather: gatherUser,
  plan: userChanges,
  noop: (args, facts) =>
    facts.user ? `user ${args.name} exists (uid ${facts.user.uid}, home ${facts.user.home}, shell ${facts.user.shell}) as asked` : `user ${args.name} is absent`,
  report: (args, facts) => userResult(args, facts, false),
  async finish(args, facts, _outcomes, ctx) {
    const after = await gatherUser(args, ctx);
    const result = userResult(args, after, facts.user === undefined);
    if (args.state === 'absent') Object.assign(result, { force: args.force, remove: args.remove });
    return { changed: true, data: result };
  },
});
