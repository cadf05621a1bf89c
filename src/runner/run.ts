import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { Connection, ConnectionSpec } from '../connection/types.js';
import { connect, type SshConnectOptions } from '../connection/ssh.js';
import { LocalConnection } from '../connection/local.js';
import { ErrorList, ExitCode } from '../errors.js';
import { onSecretRevealed } from '../vault/session.js';
import { applyInventoryUpdate, connectionSpec, type InventoryUpdate, deprecatedConnectionVarWarnings, groupsDict, inventoryVars, matchHosts, refreshGroupsDict, selectHosts, type ConnectionDefaults, type Inventory } from '../inventory/index.js';
import type { PlayDef, Playbook } from '../playbook/model.js';
import { render } from '../playbook/template.js';
import { buildHostScope, makeHostvars } from '../playbook/vars.js';
import { exceedsMaxFail, orderHosts, serialBatches } from './batches.js';
import { connectionKey, type ConnectionKeywords, type PlayRun, type RunEnv, type RunSettings } from './context.js';
import { now, type HostStats, type RunEvent, type RunEventListener } from './events.js';
import { HostState } from './host-state.js';
import { createForkLimit } from './limit.js';
import { playStartEvent, runBatch } from './play.js';
import { preflightErrors } from './preflight.js';
import { SecretRedactor } from './redact.js';
import { secretVariableValues } from './secret-vars.js';

export interface RunOptions extends Partial<RunSettings> {
  playbook: Playbook;
  inventory: Inventory;
  /** --limit pattern, applied on top of each play's `hosts`. */
  limit?: string;
  onEvent?: RunEventListener;
  /** Aborting it interrupts the run: no new task starts, running steps finish, the recap is still emitted. */
  signal?: AbortSignal;
  becomePassword?: string;
  hostKeyChecking?: 'strict' | 'accept-new' | 'off';
  /**
   * Keep SSH connections for the next run in the per-user daemon (connection/persist-client.ts), as Ansible's
   * ControlPersist. Default false (library callers); the CLI turns it on unless --no-persist or ansible.cfg says no.
   */
  persist?: boolean;
  /** Asked for a key's passphrase when a private key file is encrypted. */
  askPassphrase?: SshConnectOptions['askPassphrase'];
  /** Asks the terminal for a line (pause's prompt); only given when stdin is a terminal. */
  ask?(question: string, echo: boolean): Promise<string>;
  /** Strings to scrub from every event (vault values, passwords). */
  secrets?: string[];
  /** -u / --private-key: used where the inventory does not say (inventory variables win, as in Ansible). */
  connectionDefaults?: ConnectionDefaults;
  /**
   * Run the pre-flight checks first (src/runner/preflight.ts: hosts naming unknown groups or hosts, undefined
   * variables), as the CLI does. Default true: a bad playbook then throws an ErrorList of positioned errors (the
   * CLI's exit 4) before any event is emitted or any host contacted. false when the caller checked already.
   */
  preflight?: boolean;
}

export interface RunResult {
  exitCode: number;
  stats: Record<string, HostStats>;
  interrupted: boolean;
  durationMs: number;
  /** Hosts that failed or were unreachable (for --retry-failed). */
  failedHosts: string[];
  /** RTO of a failover drill in the run (the last `drill` event carrying `rto_s`), for --metrics-file. */
  drillRtoSeconds?: number;
}

const defaultSettings: RunSettings = {
  check: false,
  diff: false,
  forks: 50,
  tags: [],
  skipTags: [],
  extraVars: {},
  verbosity: 0,
  become: false,
  gathering: 'implicit',
};

export async function runPlaybook(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const settings: RunSettings = { ...defaultSettings, ...definedOnly(opts) };
  if (opts.preflight !== false) await refuseBadInput(opts, settings);
  const events = new RunEvents(opts, settings);
  const abort = new AbortController();
  // Every running exec (forks × channels) listens on this one signal: more than Node's default 10 is normal,
  // and the MaxListenersExceededWarning it printed on stderr at forks ≥ 11 was noise, not a leak.
  setMaxListeners(0, abort.signal);
  opts.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  const { env, outsiders } = runEnv(opts, settings, events, abort.signal);

  events.emit({ type: 'run_start', time: now(), playbook: opts.playbook.file, check: settings.check, diff: settings.diff, forks: settings.forks });
  const hostVars = [...env.hosts.values()].map((h): [string, Record<string, unknown>] => [h.name, h.inventoryVars]);
  for (const message of deprecatedConnectionVarWarnings(hostVars, settings.extraVars)) events.emit({ type: 'warning', time: now(), message });
  try {
    await runPlays(env, opts);
  } finally {
    events.stop();
    await closeConnections([...env.hosts.values(), ...outsiders.values()]);
  }
  return finishRun(env, events, started);
}

/**
 * The run's one way out to listeners: every event is redacted first. Secrets are the caller's, the become
 * password, every secret-bearing variable's value, and those met during the run (module secretArgs, connection
 * passwords, vault values decrypted by an include).
 */
class RunEvents {
  private readonly redactor: SecretRedactor;
  private readonly listeners: RunEventListener[];
  private readonly stopListening: () => void;
  /** RTO of a failover drill in the run (the last `drill` event carrying `rto_s`). */
  drillRtoSeconds?: number;

  constructor(opts: RunOptions, settings: RunSettings) {
    this.listeners = opts.onEvent ? [opts.onEvent] : [];
    this.redactor = new SecretRedactor([...(opts.secrets ?? []), ...(opts.becomePassword ? [opts.becomePassword] : [])]);
    for (const value of secretVariableValues(opts.inventory, opts.playbook, settings.extraVars)) this.addSecret(value);
    this.stopListening = onSecretRevealed(this.addSecret);
  }

  readonly addSecret = (value: string): void => this.redactor.add(value);
  readonly redact = (text: string): string => this.redactor.text(text);

  readonly emit = (event: RunEvent): void => {
    if (event.type === 'drill' && typeof event.data['rto_s'] === 'number') this.drillRtoSeconds = event.data['rto_s'];
    const safe = this.redactor.event(event);
    for (const l of this.listeners) l(safe);
  };

  stop(): void {
    this.stopListening();
  }
}

/** What every part of the runner shares, and the hosts reached by a name the inventory lacks (closed at the end). */
function runEnv(opts: RunOptions, settings: RunSettings, events: RunEvents, signal: AbortSignal): { env: RunEnv; outsiders: Map<string, HostState> } {
  const inv = opts.inventory;
  const hosts = new Map<string, HostState>();
  for (const name of inv.hosts.keys()) hosts.set(name, new HostState(name, inventoryVars(inv, name)));
  const groups = groupsDict(inv);
  /** Hosts tasks delegate to that the inventory does not have: reached by name, kept out of hostvars and the recap. */
  const outsiders = new Map<string, HostState>();
  // One inventory change at a time: another host's group_by must see a group only once its vars files are read.
  let inventoryChanges: Promise<unknown> = Promise.resolve();
  const stateOf = (name: string): HostState => hosts.get(name) ?? outsiders.get(name)!;
  const updateInventory = async (host: string, update: InventoryUpdate): Promise<boolean> => {
    if (!(await applyInventoryUpdate(inv, host, update))) return false;
    refreshGroupsDict(inv);
    const changedHost = update.kind === 'add_host' ? update.name : host;
    const state = hosts.get(changedHost);
    if (!state) hosts.set(changedHost, new HostState(changedHost, inventoryVars(inv, changedHost)));
    else {
      // Its groups or variables changed: the host's merged inventory variables follow (in place: others hold it).
      for (const key of Object.keys(state.inventoryVars)) delete state.inventoryVars[key];
      Object.assign(state.inventoryVars, inventoryVars(inv, changedHost));
    }
    return true;
  };
  const { emit, addSecret } = events;
  const env: RunEnv = {
    settings,
    limit: createForkLimit(settings.forks),
    hosts,
    groups,
    hostvars: lazyHostvars(hosts, groups, settings),
    playbookDir: path.dirname(path.resolve(opts.playbook.file)),
    emit,
    connectionFor: (name, keywords = {}) => {
      const hs = stateOf(name);
      const key = connectionKey(keywords);
      let conn = hs.connections.get(key);
      if (!conn) {
        conn = openConnection(inv, hs, settings, opts, emit, addSecret, keywords);
        hs.connections.set(key, conn);
      }
      return conn;
    },
    reconnect: (name, keywords = {}, connectTimeoutMs) => {
      const hs = stateOf(name);
      const key = connectionKey(keywords);
      // The old connection is closed in the background: over a host that went away, closing may wait for a timeout.
      hs.connections.get(key)?.then((c) => c.close()).catch(() => undefined);
      const overrides = connectTimeoutMs === undefined ? {} : { connectTimeoutMs };
      const conn = openConnection(inv, hs, settings, opts, emit, addSecret, keywords, overrides);
      hs.connections.set(key, conn);
      conn.catch(() => {
        if (hs.connections.get(key) === conn) hs.connections.delete(key);
      });
      return conn;
    },
    delegateHost: (name) => delegateHostState(name, inv, hosts, outsiders, emit),
    probeNewConnection: async (name, keywords = {}) => probeNewConnection(connectionSpecOf(inv, stateOf(name), settings, opts, keywords)),
    updateInventory: (host, update) => {
      const change = inventoryChanges.then(() => updateInventory(host, update));
      inventoryChanges = change.catch(() => undefined);
      return change;
    },
    ...(opts.ask ? { ask: opts.ask } : {}),
    interrupted: () => signal.aborted,
    signal,
    skippingToStart: settings.startAtTask !== undefined,
    redact: events.redact,
    addSecret,
  };
  return { env, outsiders };
}

/** `hostvars`: every host's variables, built when a template reads them, in that host's own scope. */
function lazyHostvars(hosts: Map<string, HostState>, groups: Record<string, string[]>, settings: RunSettings): RunEnv['hostvars'] {
  return makeHostvars(
    () => [...hosts.keys()],
    (name) => {
      const h = hosts.get(name);
      if (!h) return undefined;
      return buildHostScope({
        hostVars: h.inventoryVars,
        includeVars: h.includedVars,
        hostFacts: h.facts,
        extraVars: settings.extraVars,
        magic: { inventoryHostname: name, groups },
      });
    },
  );
}

/** The host a task delegates to (RunEnv.delegateHost). */
function delegateHostState(name: string, inv: Inventory, hosts: Map<string, HostState>, outsiders: Map<string, HostState>, emit: (e: RunEvent) => void): HostState {
  const known = hosts.get(name) ?? outsiders.get(name);
  if (known) return known;
  if (inv.hosts.has(name) || IMPLICIT_LOCALHOST_NAMES.has(name)) {
    ensureHost(hosts, name, inv);
    return hosts.get(name)!;
  }
  // Ansible connects to such a name too; vncplay says so, since it is often a typo of an inventory name.
  emit({
    type: 'warning',
    time: now(),
    message: `delegate_to: '${name}' is not an inventory host: connecting to it by that name, with the variables of group 'all'`,
  });
  const hs = new HostState(name, inventoryVars(inv, name));
  outsiders.set(name, hs);
  return hs;
}

/** A second, fresh connection (new TCP + SSH handshake, `true`, closed): does the host still let us in? */
async function probeNewConnection(spec: ConnectionSpec): Promise<boolean> {
  if (spec.connection === 'local') return true;
  try {
    const probe = await connect({ ...spec, connectTimeoutMs: Math.min(spec.connectTimeoutMs, 10_000) });
    try {
      return (await probe.exec(['true'], { timeoutMs: 10_000 })).rc === 0;
    } finally {
      await probe.close();
    }
  } catch {
    return false;
  }
}

/** Every play in order, until the run is interrupted or a play's failures end the playbook. */
async function runPlays(env: RunEnv, opts: RunOptions): Promise<void> {
  const limited = opts.limit ? new Set(selectHosts(opts.inventory, opts.limit)) : undefined;
  for (const play of opts.playbook.plays) {
    if (env.signal.aborted) break;
    const playHosts = matchPlayHosts(env, opts.inventory, play, limited);
    if (playHosts === undefined) continue;
    const endsPlaybook = await runPlay(env, play, playHosts);
    env.emit({ type: 'play_end', time: now(), name: play.name });
    if (endsPlaybook) break;
  }
}

/** The play's hosts still active, in its `order`, --limit applied; undefined (with a warning) when there is none. */
function matchPlayHosts(env: RunEnv, inv: Inventory, play: PlayDef, limited: Set<string> | undefined): string[] | undefined {
  const pattern = String(render(play.hosts, env.settings.extraVars, play.pos));
  const selection = matchHosts(inv, pattern);
  // Ansible's "Could not match supplied host pattern, ignoring: webservers" for each term that selects nothing.
  for (const message of selection.warnings) env.emit({ type: 'warning', time: now(), message });
  const matched = orderHosts(selection.hosts.filter((h) => !limited || limited.has(h)), play.order);
  for (const h of matched) ensureHost(env.hosts, h, inv);
  const playHosts = matched.filter((h) => env.hosts.get(h)!.active);
  if (playHosts.length > 0) return playHosts;
  env.emit({ type: 'warning', time: now(), message: `play '${play.name}': no hosts matched '${pattern}', skipping` });
  return undefined;
}

/** One play, batch by batch (`serial`); true when its failures end the playbook (any_errors_fatal, max_fail_percentage). */
async function runPlay(env: RunEnv, play: PlayDef, playHosts: string[]): Promise<boolean> {
  const extraVars = env.settings.extraVars;
  const serial = play.serial === undefined ? undefined : render(play.serial, extraVars, play.pos);
  const batches = serialBatches(playHosts, serial);
  const maxFail =
    play.maxFailPercentageTemplate !== undefined ? Number(render(play.maxFailPercentageTemplate, extraVars, play.pos)) : play.maxFailPercentage;
  for (const [i, batch] of batches.entries()) {
    const active = batch.filter((h) => env.hosts.get(h)!.active);
    if (active.length === 0 || env.signal.aborted) continue;
    for (const h of active) env.hosts.get(h)!.endedPlay = false;
    const run: PlayRun = { play, batch: active, playHosts, runOnce: new Map(), includedHandlers: [] };
    env.emit(playStartEvent(run, i, batches.length));
    const breaksPlay = (failed: number, fatal: boolean): boolean =>
      fatal ||
      exceedsMaxFail(failed, active.length, maxFail) ||
      // Ansible also ends the playbook when every host of a batch has failed.
      failed === active.length;
    const failures = await runBatch(env, run, (f) => breaksPlay(f.failed.size, f.fatal.size > 0));
    // Checked again once the batch is over: a failure in its last task ends the rollout too.
    const failedNow = active.filter((h) => !env.hosts.get(h)!.active).length;
    const fatal = failures.fatal.size > 0;
    if (breaksPlay(failedNow, fatal)) {
      // any_errors_fatal: every host of the batch counts as failed (the exit code), as Ansible marks them.
      if (fatal) for (const h of active) env.hosts.get(h)!.failed = true;
      // Ansible's linear strategy says so when it breaks the play (not when every host merely failed).
      if (fatal || exceedsMaxFail(failedNow, active.length, maxFail)) env.emit({ type: 'no_hosts_remaining', time: now() });
      return true;
    }
  }
  return false;
}

async function closeConnections(states: readonly HostState[]): Promise<void> {
  await Promise.allSettled(states.flatMap((hs) => [...hs.connections.values()].map(async (c) => (await c).close())));
}

/** The recap and run_end events, and the run's result (its exit code: interrupted > unreachable > failed > ok). */
function finishRun(env: RunEnv, events: RunEvents, started: number): RunResult {
  const hosts = [...env.hosts.values()];
  const stats: Record<string, HostStats> = {};
  for (const hs of hosts) {
    const s = hs.stats;
    if (s.ok + s.changed + s.failed + s.skipped + s.unreachable + s.rescued + s.ignored > 0) stats[hs.name] = { ...s };
  }
  events.emit({ type: 'recap', time: now(), hosts: stats });
  const interrupted = env.signal.aborted;
  const failedHosts = hosts.filter((h) => h.failed || h.unreachable).map((h) => h.name);
  const exitCode = interrupted
    ? ExitCode.interrupted
    : hosts.some((h) => h.unreachable)
      ? ExitCode.unreachable
      : failedHosts.length > 0
        ? ExitCode.taskFailed
        : ExitCode.ok;
  const durationMs = Date.now() - started;
  events.emit({ type: 'run_end', time: now(), exitCode, durationMs, interrupted });
  const rto = events.drillRtoSeconds;
  return { exitCode, stats, interrupted, durationMs, failedHosts, ...(rto !== undefined ? { drillRtoSeconds: rto } : {}) };
}

/** The CLI's exit-4 checks, for library callers: throws an ErrorList before anything runs. */
async function refuseBadInput(opts: RunOptions, settings: RunSettings): Promise<void> {
  const errors = await preflightErrors(opts.playbook, {
    extraVars: settings.extraVars,
    inventory: opts.inventory,
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    tags: settings.tags,
    skipTags: settings.skipTags,
    ...(settings.startAtTask !== undefined ? { startAtTask: settings.startAtTask } : {}),
  });
  if (errors.length > 0) throw new ErrorList(errors);
}

function definedOnly(opts: RunOptions): Partial<RunSettings> {
  const out: Partial<RunSettings> = {};
  for (const k of Object.keys(defaultSettings) as (keyof RunSettings)[]) {
    if (opts[k] !== undefined) (out as Record<string, unknown>)[k] = opts[k];
  }
  if (opts.startAtTask !== undefined) out.startAtTask = opts.startAtTask;
  if (opts.becomeUser !== undefined) out.becomeUser = opts.becomeUser;
  if (opts.becomeMethod !== undefined) out.becomeMethod = opts.becomeMethod;
  return out;
}

/** Names that mean the controller when the inventory does not declare them (Ansible's implicit localhost). */
const IMPLICIT_LOCALHOST_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Implicit localhost (and any host a pattern produced that the map does not have yet). */
function ensureHost(hosts: Map<string, HostState>, name: string, inv: Inventory): void {
  if (!hosts.has(name)) {
    const vars = inv.hosts.has(name) ? inventoryVars(inv, name) : { ansible_connection: 'local' };
    hosts.set(name, new HostState(name, vars));
  }
}

/**
 * How to reach a host: its inventory variables (templates rendered, -e on top), then the task's connection keywords,
 * then -u / ansible.cfg (Ansible's order: variables > keywords > command line > configuration), and the CLI's overrides.
 */
function connectionSpecOf(inv: Inventory, hs: HostState, settings: RunSettings, opts: RunOptions, keywords: ConnectionKeywords): ConnectionSpec {
  const vars = { ...hs.inventoryVars, ...settings.extraVars, inventory_hostname: hs.name };
  const defaults: ConnectionDefaults = { ...opts.connectionDefaults, ...keywords };
  const spec = connectionSpec(inv, hs.name, render(vars, vars) as Record<string, unknown>, defaults);
  if (opts.hostKeyChecking) spec.hostKeyChecking = opts.hostKeyChecking;
  if (opts.becomePassword !== undefined) spec.becomePassword = opts.becomePassword;
  return spec;
}

async function openConnection(
  inv: Inventory,
  hs: HostState,
  settings: RunSettings,
  opts: RunOptions,
  emit: (e: RunEvent) => void,
  addSecret: (value: string) => void,
  keywords: ConnectionKeywords,
  overrides: Pick<Partial<ConnectionSpec>, 'connectTimeoutMs'> = {},
): Promise<Connection> {
  const spec = { ...connectionSpecOf(inv, hs, settings, opts, keywords), ...overrides };
  // Passwords from inventory variables (ansible_password, ansible_become_password) are secrets too.
  for (const p of [spec.becomePassword, spec.password]) if (typeof p === 'string') addSecret(p);
  if (spec.connection === 'local') {
    // A local host becomes with sudo too: the -K (or ansible_become_password) password and become user apply.
    return new LocalConnection({
      hostName: hs.name,
      becomeUser: spec.becomeUser,
      ...(spec.becomePassword !== undefined ? { becomePassword: spec.becomePassword } : {}),
    });
  }
  const connectOpts: SshConnectOptions = {
    log: (line) => emit({ type: 'verbose', time: now(), level: 3, host: hs.name, message: line }),
    // Plain execs on one long-lived bash per host (connection/line-session.ts): measured on 20 light hosts,
    // controller CPU -20 %, re-run wall -11 %; a host without bash falls back to a channel per command.
    lineSession: true,
  };
  if (opts.askPassphrase) connectOpts.askPassphrase = opts.askPassphrase;
  if (opts.persist) return (await import('../connection/persist-client.js')).connectPersistent(spec, connectOpts);
  return connect(spec, connectOpts);
}
