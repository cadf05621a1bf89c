import { ModuleError } from '../errors.js';
import { SECTION, sections } from './accounts.js';
import { splitCommandLine } from './command.js';
import { plannedModule } from './spec/define.js';
import { defineSpec, type ArgsOf, type SpecProblem } from './spec/types.js';
import type { Change, ModuleContext, ModuleReturn, Step } from './types.js';

/**
 * docker_container: community.docker.docker_container's common subset, through the docker CLI on the host.
 *
 * Why the CLI and not the Engine API over the SSH connection's Unix-socket forwarding: a forwarded socket is opened
 * by the SSH login user, so `become` would not apply (the socket is root's or the docker group's), the local
 * connection has no forwarding at all, and sshd may refuse stream-local forwarding. The CLI runs through the same
 * exec path as every module (become, the line session, one round trip to read the state), `docker inspect` prints
 * exactly the Engine API's container JSON that Ansible returns as `container`, and `docker_host` points the same
 * CLI at another engine (podman's Docker-compatible service).
 *
 * Ansible's order (module_container/module.py `present`/`absent`): pull a missing image, recreate when the
 * configuration given differs (or `recreate`), then start, restart or stop as `state`/`restart` ask.
 */
const spec = defineSpec({
  description:
    "Create, start, stop, restart, recreate or remove a Docker container (community.docker.docker_container's common subset), through the docker CLI on the host; recreates only when the configuration given differs.",
  options: {
    name: { type: 'str', required: true, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', patternText: 'a container name or ID', description: 'The container name (or ID).' },
    image: { type: 'str', pattern: '^[^\\s-][^\\s]*$', patternText: 'an image reference like name:tag', description: 'Image to create the container from; pulled when the host does not have it. Needed to create a container.' },
    state: { type: 'str', choices: ['absent', 'present', 'stopped', 'started'], default: 'started', description: 'absent removes it; present creates it (not started); started creates and starts it; stopped stops it (creating it, not started, when missing).' },
    restart: { type: 'bool', default: false, description: 'With state started: restart the container even when nothing differs.' },
    recreate: { type: 'bool', default: false, description: 'Remove and create the container again even when nothing differs.' },
    command: { type: 'raw', description: 'The command the container runs: a list, or a string split as a shell would (no expansion).' },
    env: { type: 'dict', description: 'Environment variables; values must be strings (quote "true" and numbers), as in Ansible.' },
    published_ports: { type: 'list', elements: 'str', aliases: ['ports'], pattern: '^((\\d{1,3}(\\.\\d{1,3}){3}|\\[[0-9a-fA-F:]+\\]):)?(\\d{1,5}:|:)?\\d{1,5}(/(tcp|udp|sctp))?$|^\\d{1,5}(/(tcp|udp|sctp))?$', patternText: 'a port like 5901, 5901:5901, 0.0.0.0:5901:5901 or 5901/udp', description: 'Ports to publish, docker CLI syntax: CONTAINER_PORT, HOST_PORT:CONTAINER_PORT or IP:HOST_PORT:CONTAINER_PORT (ranges are not supported).' },
    volumes: { type: 'list', elements: 'str', pattern: '^\\S+$', patternText: 'a volume like /host:/container[:ro]', description: 'Volumes, docker CLI syntax: /host:/container[:mode], NAME:/container[:mode] or /container (anonymous).' },
    restart_policy: { type: 'str', choices: ['no', 'on-failure', 'always', 'unless-stopped'], description: 'What the daemon does when the container exits; changed in place (docker update), not by recreating.' },
    stop_timeout: { type: 'int', min: 0, description: 'Seconds to wait for the container to stop before it is killed (stop, restart, and set on a created container).' },
    force_kill: { type: 'bool', default: false, aliases: ['forcekill'], description: 'Kill the container instead of stopping it.' },
    keep_volumes: { type: 'bool', default: true, description: 'Keep the anonymous volumes of a removed container.' },
    pull: { type: 'bool', default: false, description: 'Pull the image even when the host has it.' },
    docker_host: { type: 'str', aliases: ['docker_url'], description: 'The engine to talk to (DOCKER_HOST for the docker CLI): unix:///run/podman/podman.sock for podman. Default: the CLI\'s own (unix:///var/run/docker.sock).' },
  },
  check(args) {
    const problems: SpecProblem[] = [];
    for (const [key, value] of Object.entries(args.env ?? {})) {
      if (typeof value !== 'string') {
        problems.push({
          param: 'env',
          at: [key],
          message: `non-string value found for env option ${key}: ambiguous env options must be wrapped in quotes`,
          hint: `write ${key}: "${String(value)}"`,
        });
      }
    }
    const cmd = args.command;
    if (cmd !== undefined && typeof cmd !== 'string' && !(Array.isArray(cmd) && cmd.every((w) => typeof w === 'string' || typeof w === 'number'))) {
      problems.push({ param: 'command', message: 'command must be a string or a list of strings', hint: 'command: ["Xtigervnc", ":1"]' });
    }
    return problems;
  },
});

export type DockerContainerArgs = ArgsOf<typeof spec.options>;

/** The parts of `docker inspect` (the Engine API's container JSON) the comparison reads; the rest is returned as is. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Image: string;
  State: { Status?: string; Running?: boolean };
  Config: { Image?: string; Cmd?: string[] | null; Env?: string[] | null; [key: string]: unknown };
  HostConfig: {
    Binds?: string[] | null;
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    RestartPolicy?: { Name?: string };
    [key: string]: unknown;
  };
  Mounts?: { Type?: string; Destination?: string }[];
  [key: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  Config?: { Env?: string[] | null };
}

export interface DockerFacts {
  /** undefined: no such container. */
  container?: ContainerInspect;
  /** undefined: no image asked for, or the host does not have it. */
  image?: ImageInspect;
}

/** `docker` with DOCKER_HOST set when `docker_host` asks for another engine. */
export function dockerArgv(args: Pick<DockerContainerArgs, 'docker_host'>): string[] {
  return args.docker_host ? ['env', `DOCKER_HOST=${args.docker_host}`, 'docker'] : ['docker'];
}

/**
 * One remote command: inspect the container, then the image. Each part prints its exit code, then its output; the
 * names are positional parameters of a constant script, never part of its text.
 */
export function gatherArgv(args: DockerContainerArgs): string[] {
  const script = [
    'name=$1; image=$2; shift 2',
    'out=$("$@" container inspect -- "$name" 2>&1); echo $?; printf "%s\\n" "$out"',
    `echo ${SECTION}`,
    'if [ -n "$image" ]; then out=$("$@" image inspect -- "$image" 2>&1); echo $?; printf "%s\\n" "$out"; fi',
  ].join('\n');
  return ['sh', '-c', script, 'sh', args.name, args.image ?? '', ...dockerArgv(args)];
}

/** One inspect part: exit code line, then JSON (or the CLI's error text). */
function inspectPart(part: string): { rc: number; text: string } {
  const nl = part.indexOf('\n');
  const head = nl < 0 ? part : part.slice(0, nl);
  return { rc: Number(head.trim()), text: nl < 0 ? '' : part.slice(nl + 1).trim() };
}

/** The CLI's words for "there is no such object" (docker and podman), as opposed to a daemon that does not answer. */
const NOT_FOUND = /no such (container|image|object)|image not known|no container with name or id/i;

/** Reads the gather output; throws when the CLI is missing or the engine does not answer. */
export function parseGather(stdout: string, host: string): DockerFacts {
  const [containerPart = '', imagePart = ''] = sections(stdout, 2);
  const facts: DockerFacts = {};
  const c = inspectPart(containerPart);
  if (c.rc === 0) facts.container = (JSON.parse(c.text) as ContainerInspect[])[0];
  else if (!NOT_FOUND.test(c.text)) throw engineError(c.rc, c.text, host);
  if (imagePart.trim()) {
    const i = inspectPart(imagePart);
    if (i.rc === 0) facts.image = (JSON.parse(i.text) as ImageInspect[])[0];
    else if (!NOT_FOUND.test(i.text)) throw engineError(i.rc, i.text, host);
  }
  return facts;
}

function engineError(rc: number, text: string, host: string): ModuleError {
  if (rc === 127) {
    return new ModuleError('E_DOCKER_CLI', `the docker CLI is not installed on ${host}`, { hint: 'install docker.io (or podman-docker for podman)' });
  }
  return new ModuleError('E_DOCKER_ENGINE', `the container engine on ${host} did not answer: ${text}`, {
    hint: 'is the daemon running (systemctl status docker)? With podman, set docker_host: unix:///run/podman/podman.sock',
  });
}

/** The command as an argv: a list as written, a string split as Ansible's shlex does. */
export function commandWords(command: unknown): string[] | undefined {
  if (command === undefined || command === null) return undefined;
  if (typeof command === 'string') return splitCommandLine(command);
  return (command as (string | number)[]).map(String);
}

/** One published port, as the Engine keeps it: `5901/tcp` → [{ HostIp, HostPort }]. */
interface PortBinding {
  key: string;
  hostIp: string;
  hostPort: string;
}

/** `IP:HOST:CONTAINER[/proto]`, `HOST:CONTAINER`, `CONTAINER` (docker CLI syntax). */
export function parsePublishedPort(text: string): PortBinding {
  const [spec = '', proto = 'tcp'] = text.split('/');
  const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(spec);
  const parts = ipv6 ? [ipv6[1]!, ...ipv6[2]!.split(':')] : spec.split(':');
  const containerPort = parts.pop()!;
  const hostPort = parts.pop() ?? '';
  const hostIp = parts.pop() ?? '';
  return { key: `${containerPort}/${proto}`, hostIp, hostPort };
}

/** A binding in a canonical text form: an empty or all-interfaces address means the same thing. */
function bindingText(key: string, hostIp: string | undefined, hostPort: string | undefined): string {
  const ip = hostIp === '0.0.0.0' || hostIp === '::' ? '' : (hostIp ?? '');
  return `${ip}:${hostPort ?? ''}:${key}`;
}

function containerBindings(c: ContainerInspect): string[] {
  return Object.entries(c.HostConfig.PortBindings ?? {})
    .flatMap(([key, list]) => (list ?? []).map((b) => bindingText(key, b.HostIp, b.HostPort)))
    .sort();
}

function desiredBindings(ports: readonly string[]): string[] {
  return ports.map(parsePublishedPort).map((b) => bindingText(b.key, b.hostIp, b.hostPort)).sort();
}

/** A bind or named volume as `SOURCE:DEST:MODE` (mode rw by default), or an anonymous volume's destination. */
function volumeText(v: string): string {
  const parts = v.split(':');
  if (parts.length === 1) return v;
  const [source, dest, mode = 'rw'] = parts;
  return `${source}:${dest}:${mode.split(',').sort().join(',')}`;
}

function containerVolumes(c: ContainerInspect): string[] {
  const binds = (c.HostConfig.Binds ?? []).map(volumeText);
  const anonymous = (c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Destination && !binds.some((b) => b.split(':')[1] === m.Destination));
  return [...binds, ...anonymous.map((m) => m.Destination!)].sort();
}

/** The environment a container created now would have: the image's, then the task's (which wins for a name). */
export function expectedEnv(imageEnv: readonly string[], env: Record<string, unknown>): string[] {
  const merged = new Map<string, string>();
  for (const line of imageEnv) {
    const eq = line.indexOf('=');
    merged.set(eq < 0 ? line : line.slice(0, eq), line);
  }
  for (const [k, v] of Object.entries(env)) merged.set(k, `${k}=${String(v)}`);
  return [...merged.values()].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Ansible's `allow_more_present`, its default comparison for env, published_ports and volumes. */
function allPresent(want: readonly string[], have: readonly string[]): boolean {
  return want.every((x) => have.includes(x));
}

/**
 * What differs between the container and the task, by parameter name (empty: the container is as asked). As in
 * Ansible: `command` must be equal; env, published_ports and volumes must be present, more is allowed (the engine
 * adds PATH to the env of an image without one).
 */
export function differences(args: DockerContainerArgs, facts: DockerFacts): Record<string, { before: unknown; after: unknown }> {
  const c = facts.container;
  const out: Record<string, { before: unknown; after: unknown }> = {};
  if (!c) return out;
  if (facts.image && facts.image.Id !== c.Image) out['image'] = { before: c.Image, after: facts.image.Id };
  // An image the host does not have is pulled first; the container can only be using another one.
  if (args.image && !facts.image) out['image'] = { before: c.Image, after: args.image };
  const cmd = commandWords(args.command);
  if (cmd && !sameList(cmd, c.Config.Cmd ?? [])) out['command'] = { before: c.Config.Cmd ?? [], after: cmd };
  if (args.env) {
    const want = expectedEnv(facts.image?.Config?.Env ?? [], args.env);
    const have = [...(c.Config.Env ?? [])].sort();
    if (!allPresent(want, have)) out['env'] = { before: have, after: want };
  }
  if (args.published_ports) {
    const want = desiredBindings(args.published_ports);
    const have = containerBindings(c);
    if (!allPresent(want, have)) out['published_ports'] = { before: have, after: want };
  }
  if (args.volumes) {
    const want = args.volumes.map(volumeText).sort();
    const have = containerVolumes(c);
    if (!allPresent(want, have)) out['volumes'] = { before: have, after: want };
  }
  return out;
}

/** `no` and the Engine's empty name are the same policy. */
function restartPolicyOf(c: ContainerInspect): string {
  const name = c.HostConfig.RestartPolicy?.Name ?? '';
  return name === '' ? 'no' : name;
}

/** `docker create …` for the task's configuration. */
export function createArgv(args: DockerContainerArgs): string[] {
  const argv = [...dockerArgv(args), 'create', '--name', args.name];
  for (const [k, v] of Object.entries(args.env ?? {})) argv.push('--env', `${k}=${String(v)}`);
  for (const p of args.published_ports ?? []) argv.push('--publish', p);
  for (const v of args.volumes ?? []) argv.push('--volume', v);
  if (args.restart_policy) argv.push('--restart', args.restart_policy);
  if (args.stop_timeout !== undefined) argv.push('--stop-timeout', String(args.stop_timeout));
  argv.push('--', args.image!, ...(commandWords(args.command) ?? []));
  return argv;
}

function exec(argv: string[]): Step {
  return { kind: 'exec', argv };
}

function stopSteps(args: DockerContainerArgs): Step[] {
  const docker = dockerArgv(args);
  if (args.force_kill) return [exec([...docker, 'kill', '--', args.name])];
  const timeout = args.stop_timeout !== undefined ? ['--time', String(args.stop_timeout)] : [];
  return [exec([...docker, 'stop', ...timeout, '--', args.name])];
}

function removeStep(args: DockerContainerArgs): Step {
  return exec([...dockerArgv(args), 'rm', ...(args.keep_volumes ? [] : ['--volumes']), '--', args.name]);
}

function change(summary: string, steps: Step[], before?: Record<string, unknown>, after?: Record<string, unknown>): Change {
  return { summary, steps, ...(before && after ? { diff: { before, after } } : {}) };
}

/** Ansible's present(state) and absent(), as changes. Pure. */
export function planContainer(args: DockerContainerArgs, facts: DockerFacts): Change[] {
  const c = facts.container;
  const docker = dockerArgv(args);
  const running = c?.State.Running === true;
  if (args.state === 'absent') {
    if (!c) return [];
    return [change(`remove container ${args.name}`, [...(running ? stopSteps(args) : []), removeStep(args)], { exists: true, running }, { exists: false, running: false })];
  }
  const changes: Change[] = [];
  const diffs = c ? differences(args, facts) : {};
  const recreating = c !== undefined && (Object.keys(diffs).length > 0 || args.recreate);
  if (args.image && (args.pull || (!facts.image && (!c || recreating)))) {
    const why = facts.image ? '' : ` (the host has no image ${args.image})`;
    changes.push(change(`pull image ${args.image}${why}`, [exec([...docker, 'pull', '--', args.image])]));
  }
  let isRunning = running;
  if (!c) {
    if (!args.image) {
      throw new ModuleError('E_DOCKER_NO_IMAGE', `cannot create container ${args.name} when image is not specified`, { hint: 'give image: NAME[:TAG]' });
    }
    changes.push(change(`create container ${args.name} from ${args.image}`, [exec(createArgv(args))], { exists: false }, { exists: true }));
    isRunning = false;
  } else if (recreating) {
    if (!args.image) {
      throw new ModuleError('E_DOCKER_NO_IMAGE', `cannot recreate container ${args.name} when image is not specified`, { hint: 'give image: NAME[:TAG]' });
    }
    const why = args.recreate && Object.keys(diffs).length === 0 ? 'recreate: true' : `${Object.keys(diffs).join(', ')} differ`;
    const before = Object.fromEntries(Object.entries(diffs).map(([k, d]) => [k, d.before]));
    const after = Object.fromEntries(Object.entries(diffs).map(([k, d]) => [k, d.after]));
    changes.push(change(`recreate container ${args.name} (${why})`, [...(running ? stopSteps(args) : []), removeStep(args), exec(createArgv(args))], before, after));
    isRunning = false;
  } else if (args.restart_policy && restartPolicyOf(c) !== args.restart_policy) {
    changes.push(
      change(`restart policy of ${args.name}: ${args.restart_policy}`, [exec([...docker, 'update', '--restart', args.restart_policy, '--', args.name])],
        { restart_policy: restartPolicyOf(c) }, { restart_policy: args.restart_policy }),
    );
  }
  if (args.state === 'started' && !isRunning) {
    changes.push(change(`start container ${args.name}`, [exec([...docker, 'start', '--', args.name])], { running: false }, { running: true }));
  } else if (args.state === 'started' && args.restart) {
    const timeout = args.stop_timeout !== undefined ? ['--time', String(args.stop_timeout)] : [];
    changes.push(change(`restart container ${args.name}`, [exec([...docker, 'restart', ...timeout, '--', args.name])], { restarted: false }, { restarted: true }));
  } else if (args.state === 'stopped' && isRunning) {
    changes.push(change(`stop container ${args.name}`, stopSteps(args), { running: true }, { running: false }));
  }
  return changes;
}

/** The container's inspect JSON after the steps ran (Ansible's `container`). */
async function inspectNow(args: DockerContainerArgs, ctx: ModuleContext): Promise<Record<string, unknown>> {
  const res = await ctx.exec([...dockerArgv(args), 'container', 'inspect', '--', args.name]);
  if (res.rc !== 0) {
    if (NOT_FOUND.test(res.stderr)) return {};
    throw engineError(res.rc, res.stderr.trim(), ctx.hostName);
  }
  return (JSON.parse(res.stdout) as Record<string, unknown>[])[0] ?? {};
}

export const dockerContainer = plannedModule(spec, {
  kind: 'planned',
  name: 'docker_container',
  where: 'host',
  async gather(args, ctx): Promise<DockerFacts> {
    const res = await ctx.exec(gatherArgv(args));
    if (res.rc !== 0) throw engineError(res.rc, (res.stderr || res.stdout).trim(), ctx.hostName);
    return parseGather(res.stdout, ctx.hostName);
  },
  plan: planContainer,
  // community.docker fails through fail_json, without `changed`, whatever it did before (create, then start fails).
  unchangedWhenFailed: true,
  // As Ansible: no `container` for state absent.
  async finish(args, _facts, _outcomes, ctx): Promise<ModuleReturn> {
    return { changed: true, data: args.state === 'absent' ? {} : { container: await inspectNow(args, ctx) } };
  },
  // Nothing to change, or --check: the container as it is (Ansible returns {} for one it would create).
  report: (args, facts) => (args.state === 'absent' ? {} : { container: facts.container ?? {} }),
});
