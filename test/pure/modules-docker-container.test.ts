import { describe, expect, it } from 'vitest';
import {
  createArgv,
  dockerContainer,
  expectedEnv,
  parseGather,
  parsePublishedPort,
  planContainer,
  type ContainerInspect,
  type DockerFacts,
} from '../../src/modules/docker-container.js';
import { createModuleLookup } from '../../src/modules/lookup.js';
import type { Change } from '../../src/modules/types.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

const IMAGE_ID = 'sha256:1111';
const OTHER_ID = 'sha256:2222';

/** A container as `docker inspect` shows one created by `docker create --name vnc-1 -p 5901:5901 -e A=1 vnc:1 Xvnc :1`. */
function container(over: { running?: boolean; image?: string; cmd?: string[]; env?: string[]; restart?: string } = {}): ContainerInspect {
  return {
    Id: 'abc',
    Name: '/vnc-1',
    Image: over.image ?? IMAGE_ID,
    State: { Status: over.running === false ? 'exited' : 'running', Running: over.running ?? true },
    Config: { Image: 'vnc:1', Cmd: over.cmd ?? ['Xvnc', ':1'], Env: over.env ?? ['PATH=/usr/bin', 'A=1'] },
    HostConfig: {
      Binds: ['/srv/home:/home:ro'],
      PortBindings: { '5901/tcp': [{ HostIp: '', HostPort: '5901' }] },
      RestartPolicy: { Name: over.restart ?? 'no' },
    },
    Mounts: [{ Type: 'bind', Destination: '/home' }],
  };
}
const image = { Id: IMAGE_ID, Config: { Env: ['PATH=/usr/bin'] } };
const TASK = { name: 'vnc-1', image: 'vnc:1', command: 'Xvnc :1', env: { A: '1' }, ports: ['5901:5901'], volumes: ['/srv/home:/home:ro'] };

const plan = (raw: Record<string, unknown>, facts: DockerFacts): Change[] => planContainer(parsedArgs(dockerContainer, raw), facts);
const argvs = (c: Change[]): string[] => c.flatMap((x) => x.steps.map((s) => (s.kind === 'exec' ? s.argv.slice(1, 2).join(' ') : '')));

describe('docker_container plan (Ansible present/absent order)', () => {
  const table: Array<[string, Record<string, unknown>, DockerFacts, string[]]> = [
    ['running and as asked: ok', TASK, { container: container(), image }, []],
    ['missing: create and start', TASK, { image }, ['create', 'start']],
    ['missing, state present: create only', { ...TASK, state: 'present' }, { image }, ['create']],
    ['missing, state stopped: created, not started (as Ansible)', { ...TASK, state: 'stopped' }, { image }, ['create']],
    ['missing image: pulled first', TASK, {}, ['pull', 'create', 'start']],
    ['pull: true pulls even when present', { ...TASK, pull: true }, { container: container(), image }, ['pull']],
    ['stopped container, started: start', TASK, { container: container({ running: false }), image }, ['start']],
    ['restart: true restarts a running one', { ...TASK, restart: true }, { container: container(), image }, ['restart']],
    ['restart: true on a stopped one only starts it', { ...TASK, restart: true }, { container: container({ running: false }), image }, ['start']],
    ['state stopped on running: stop', { ...TASK, state: 'stopped' }, { container: container(), image }, ['stop']],
    ['force_kill kills', { ...TASK, state: 'stopped', force_kill: true }, { container: container(), image }, ['kill']],
    ['other command: recreate and start', { ...TASK, command: ['Xvnc', ':2'] }, { container: container(), image }, ['stop', 'rm', 'create', 'start']],
    ['other env: recreate', { ...TASK, env: { A: '2' } }, { container: container(), image }, ['stop', 'rm', 'create', 'start']],
    ['env the image sets is not a difference', { ...TASK, env: { A: '1' } }, { container: container({ env: ['A=1', 'PATH=/usr/bin'] }), image }, []],
    ['more env than asked (PATH the engine adds): ok, as Ansible\'s allow_more_present', { ...TASK, env: { A: '1' } }, { container: container({ env: ['A=1', 'PATH=/usr/bin', 'B=2'] }), image: { Id: IMAGE_ID } }, []],
    ['other port: recreate', { ...TASK, ports: ['5902:5901'] }, { container: container(), image }, ['stop', 'rm', 'create', 'start']],
    ['0.0.0.0 is the empty address', { ...TASK, ports: ['0.0.0.0:5901:5901'] }, { container: container(), image }, []],
    ['rw is the default mode', { ...TASK, volumes: ['/srv/home:/home:ro'] }, { container: container(), image }, []],
    ['other volume: recreate', { ...TASK, volumes: ['/srv/home:/home'] }, { container: container(), image }, ['stop', 'rm', 'create', 'start']],
    ['newer image: recreate', TASK, { container: container({ image: OTHER_ID }), image }, ['stop', 'rm', 'create', 'start']],
    ['recreate: true, state present: not started again (as Ansible)', { ...TASK, recreate: true, state: 'present' }, { container: container(), image }, ['stop', 'rm', 'create']],
    ['restart policy: updated in place', { ...TASK, restart_policy: 'always' }, { container: container(), image }, ['update']],
    ['parameters not given are not compared', { name: 'vnc-1' }, { container: container({ cmd: ['x'], env: [] }) }, []],
    ['absent: stop and remove', { name: 'vnc-1', state: 'absent' }, { container: container() }, ['stop', 'rm']],
    ['absent, stopped: remove', { name: 'vnc-1', state: 'absent' }, { container: container({ running: false }) }, ['rm']],
    ['absent, unknown: ok', { name: 'vnc-1', state: 'absent' }, {}, []],
  ];
  it.each(table)('%s', (_title, raw, facts, want) => {
    expect(argvs(plan(raw, facts))).toEqual(want);
  });

  it('a missing container without an image cannot be created (Ansible\'s refusal)', () => {
    expect(() => plan({ name: 'vnc-1', state: 'stopped' }, {})).toThrow(/cannot create container vnc-1 when image is not specified/);
  });

  it('the create command carries the configuration; names and values are single argv words', () => {
    const argv = createArgv(parsedArgs(dockerContainer, { ...TASK, restart_policy: 'unless-stopped', stop_timeout: 3, env: { A: 'a b; rm -rf /' } }));
    expect(argv).toEqual([
      'docker', 'create', '--name', 'vnc-1', '--env', 'A=a b; rm -rf /', '--publish', '5901:5901', '--volume', '/srv/home:/home:ro',
      '--restart', 'unless-stopped', '--stop-timeout', '3', '--', 'vnc:1', 'Xvnc', ':1',
    ]);
    const podman = createArgv(parsedArgs(dockerContainer, { name: 'x', image: 'i', docker_host: 'unix:///run/podman/podman.sock' }));
    expect(podman.slice(0, 3)).toEqual(['env', 'DOCKER_HOST=unix:///run/podman/podman.sock', 'docker']);
  });

  it('a recreate names what differs, and --diff shows it', () => {
    const [c] = plan({ ...TASK, command: ['Xvnc', ':2'] }, { container: container(), image });
    expect(c!.summary).toBe('recreate container vnc-1 (command differ)');
    expect(c!.diff).toEqual({ before: { command: ['Xvnc', ':1'] }, after: { command: ['Xvnc', ':2'] } });
  });
});

describe('docker_container helpers', () => {
  it('published ports in docker CLI syntax', () => {
    expect(parsePublishedPort('5901')).toEqual({ key: '5901/tcp', hostIp: '', hostPort: '' });
    expect(parsePublishedPort('127.0.0.1:5901:5900/udp')).toEqual({ key: '5900/udp', hostIp: '127.0.0.1', hostPort: '5901' });
    expect(parsePublishedPort('[::1]:5901:5900')).toEqual({ key: '5900/tcp', hostIp: '::1', hostPort: '5901' });
  });
  it('the task env over the image env', () => {
    expect(expectedEnv(['PATH=/bin', 'A=0'], { A: '1', B: 'x=y' })).toEqual(['A=1', 'B=x=y', 'PATH=/bin']);
  });
  it('gather output: a missing container is a fact, a daemon that does not answer is an error', () => {
    const ok = `0\n[${JSON.stringify(container())}]\n@@vncplay@@\n1\nError: No such image: vnc:2\n`;
    expect(parseGather(ok, 'h1')).toEqual({ container: container() });
    expect(parseGather('1\nError: No such container: vnc-1\n@@vncplay@@\n', 'h1')).toEqual({});
    expect(() => parseGather('1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n@@vncplay@@\n', 'h1'))
      .toThrow(/container engine on h1 did not answer: Cannot connect/);
    expect(() => parseGather('127\nsh: 1: docker: not found\n@@vncplay@@\n', 'h1')).toThrow(/docker CLI is not installed on h1/);
  });
});

describe('docker_container arguments', () => {
  it('Ansible\'s names find it', () => {
    const lookup = createModuleLookup([dockerContainer]);
    for (const key of ['docker_container', 'community.docker.docker_container', 'community.general.docker_container']) {
      expect(lookup.find(key)?.name, key).toBe('docker_container');
    }
  });
  it('refuses what Ansible refuses, at the value', () => {
    expect(checkArgs(dockerContainer, { name: 'x', image: 'i', env: { A: 1 } })).toMatch(/non-string value found for env option A/);
    expect(checkArgs(dockerContainer, { name: 'x', ports: ['5901-5902:5901-5902'] })).toMatch(/a port like 5901/);
    expect(checkArgs(dockerContainer, { name: 'x', state: 'running' })).toMatch(/must be one of `absent`, `present`, `stopped`, `started`/);
  });
});
