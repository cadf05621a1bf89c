import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorList, ExitCode, UsageError, VncplayError } from '../errors.js';
import { parseCli, usage, type CliOptions } from './args.js';
import { promptHidden, promptLine } from './prompt.js';
import type { QuestionDisplay } from '../output/live.js';
import { environmentSecrets } from '../modules/security-group/retry.js';
import { redactSecrets } from '../vault/session.js';
import type { Inventory } from '../inventory/index.js';
import type { Playbook } from '../playbook/model.js';

/** The vncplay command. Returns the exit code; never throws for a user's mistake. */
export async function main(argv: string[]): Promise<number> {
  // `vncplay … | head` closes our stdout early: that is the reader's choice, not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // The persistent-connection daemon, started detached by the first run that needs it (connection/persist-client.ts).
  if (argv[0] === '__persist-daemon') return (await import('../connection/persist-daemon.js')).runDaemon();
  if (argv[0] === 'vault') {
    const { vaultMain } = await import('./vault.js');
    return vaultMain(argv.slice(1));
  }
  // Subcommands (`vncplay drill report …`, `vncplay schedule drill …`, `vncplay probe …`, `vncplay history …`) have their own options.
  if (argv[0] === 'drill' || argv[0] === 'schedule' || argv[0] === 'probe' || argv[0] === 'history') {
    try {
      if (argv[0] === 'history') return await (await import('./history.js')).historyCommand(argv.slice(1));
      if (argv[0] === 'drill') return await (await import('./drill.js')).drillCommand(argv.slice(1));
      if (argv[0] === 'probe') return await (await import('./probe.js')).probeCommand(argv.slice(1));
      return await (await import('./schedule.js')).scheduleCommand(argv.slice(1));
    } catch (err) {
      return reportError(err);
    }
  }
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    return reportError(err);
  }
  if (opts.help) {
    process.stdout.write(usage);
    return ExitCode.ok;
  }
  if (opts.version) {
    process.stdout.write(`vncplay ${await packageVersion()}\n`);
    return ExitCode.ok;
  }
  try {
    return await runCommand(opts, argv);
  } catch (err) {
    return reportError(err);
  }
}

async function runCommand(opts: CliOptions, argv: readonly string[]): Promise<number> {
  // Loaded here, not at the top: --help and bad flags should not pay for the playbook machinery.
  const { loadPlaybook } = await import('../playbook/load.js');
  const { parseExtraVars } = await import('../playbook/vars.js');
  const cwd = process.cwd();
  const { loadAnsibleConfig } = await import('../config/ansible-cfg.js');
  const { effectiveSettings } = await import('./settings.js');
  const config = await loadAnsibleConfig({ cwd, env: process.env });
  for (const w of config.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
  const settings = effectiveSettings(opts, config);
  // Reach (or start) the persistent-connection daemon while the playbooks and inventory load: the first run's
  // connections then need not wait for a daemon to start.
  if (settings.persist && !opts.syntaxCheck && !opts.listHosts && !opts.listTasks) (await import('../connection/persist-client.js')).warmUp();
  // Vault passwords first: -e @file, playbooks, vars files and inventories may all hold vault data.
  const vault = await import('../vault/index.js');
  vault.setVaultSecrets(
    await vault.resolveVaultSecrets({ vaultIds: opts.vaultIds, passwordFiles: settings.vaultPasswordFiles, askVaultPass: opts.askVaultPass, prompt: promptHidden, cwd }),
  );
  const extraVars = await parseExtraVars(opts.extraVars, cwd);
  const playbooks = [];
  const errors: VncplayError[] = [];
  for (const file of opts.playbooks) {
    try {
      const playbook = await loadPlaybook(file, {
        extraVars,
        rolesPath: settings.rolesPath,
        collectionsPath: settings.collectionsPath,
        collectionsScanSysPath: settings.collectionsScanSysPath,
        ...(settings.library !== undefined ? { library: settings.library } : {}),
        ...(settings.moduleUtils !== undefined ? { moduleUtils: settings.moduleUtils } : {}),
      });
      for (const w of playbook.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
      if (opts.verbosity >= 1) for (const n of playbook.notes) process.stderr.write(`[NOTE]: ${n}\n`);
      playbooks.push(playbook);
    } catch (err) {
      if (err instanceof ErrorList) errors.push(...err.errors);
      else if (err instanceof VncplayError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length) throw new ErrorList(errors);

  const { loadInventory, loadPlaybookVars, matchHosts, selectHosts } = await import('../inventory/index.js');
  const decrypt = async (text: string, file: string): Promise<string> => vault.decryptVarsText(text, path.relative(cwd, file) || file);
  if (opts.syntaxCheck) {
    // With -i, variables are checked against that inventory; without, the real run's inventory is unknown, so
    // only what -e alone must define (a play's hosts, serial) is checked.
    const inventory = settings.inventory.length > 0 ? await loadInventory(settings.inventory, cwd, { decrypt }) : undefined;
    await checkBeforeRun(playbooks, extraVars, inventory, decrypt, opts, opts.limit);
    for (const pb of playbooks) process.stdout.write(`\nplaybook: ${pb.file}\n`);
    return ExitCode.ok;
  }

  const inventory = await loadInventory(settings.inventory, cwd, { decrypt });

  const { checkRetryFileExists, withRetryFilesEnvironment, writeRetryFile } = await import('./retry-files.js');
  const retryFiles = withRetryFilesEnvironment(opts.retryFiles, process.env);
  // ansible.cfg's retry_files_enabled where neither the command line nor the environment said.
  retryFiles.enabled ??= settings.retryFilesEnabled;
  let limit = opts.limit;
  if (opts.retryFailed) {
    const retryFile = await checkRetryFileExists(opts.playbooks[0]!, retryFiles);
    limit = `@${retryFile}${limit ? `:&${limit}` : ''}`;
  }

  // As ansible-playbook: a --limit that leaves no host is an error, not a run that quietly skips every play.
  if (opts.limit !== undefined && selectHosts(inventory, opts.limit).length === 0) {
    const { unknownPatternNames, unknownNameHint } = await import('../playbook/unknown-patterns.js');
    const unknown = unknownPatternNames(inventory, opts.limit);
    throw new UsageError('E_LIMIT_NO_HOSTS', `--limit '${opts.limit}' matches no host of the inventory`, {
      hint: unknown.length > 0 ? `'${unknown[0]}' is not in the inventory: ${unknownNameHint(unknown[0]!, inventory)}` : 'the pattern selects nothing: check it with --list-hosts',
    });
  }

  if (opts.listHosts || opts.listTasks || opts.listTags) {
    const { render } = await import('../playbook/template.js');
    const { orderHosts } = await import('../runner/batches.js');
    const limited = limit ? new Set(selectHosts(inventory, limit)) : undefined;
    for (const pb of playbooks) {
      process.stdout.write(`\nplaybook: ${pb.file}\n`);
      for (const play of pb.plays) {
        const selection = matchHosts(inventory, String(render(play.hosts, extraVars)));
        // As ansible-playbook's list modes: "Could not match supplied host pattern, ignoring: webservers".
        for (const w of selection.warnings) process.stderr.write(`[WARNING]: ${w}\n`);
        const hosts = orderHosts(selection.hosts.filter((h) => !limited || limited.has(h)), play.order);
        process.stdout.write(`\n  play #${pb.plays.indexOf(play) + 1} (${play.hosts}): ${play.name}\tTAGS: [${play.tags.join(', ')}]\n`);
        if (opts.listHosts) {
          process.stdout.write(`    pattern: ['${play.hosts}']\n    hosts (${hosts.length}):\n`);
          for (const h of hosts) process.stdout.write(`      ${h}\n`);
        }
        if (opts.listTasks || opts.listTags) {
          const { listTags, listTasks } = await import('./list-tasks.js');
          if (opts.listTasks) process.stdout.write(listTasks(play, opts.tags, opts.skipTags));
          if (opts.listTags) process.stdout.write(listTags(play, opts.tags, opts.skipTags));
        }
      }
    }
    return ExitCode.ok;
  }

  // Every playbook's unknown hosts names and undefined variables, before a password prompt and before any host is
  // contacted (exit 4).
  await checkBeforeRun(playbooks, extraVars, inventory, decrypt, opts, limit);

  const becomePassword = settings.askBecomePass ? await promptHidden('BECOME password: ') : undefined;
  const { answerVarsPrompts } = await import('./vars-prompt.js');
  await answerVarsPrompts(playbooks, extraVars);
  const { runPlaybook } = await import('../runner/run.js');
  // Every run is recorded before any host is contacted: a run whose trail cannot be written does not start.
  const { auditDir, pruneAudit, retentionDays, RunRecorder } = await import('../audit/trail.js');
  const { runStartFacts } = await import('../audit/run-meta.js');
  const audit = { dir: auditDir(), days: retentionDays() };
  const recorder = await RunRecorder.start(
    audit.dir,
    await runStartFacts({ argv, playbooks: opts.playbooks, inventories: settings.inventory, check: opts.check, version: await packageVersion() }),
  );
  const shown = await makeReporter(opts);
  const reporter = {
    ...shown,
    onEvent: (e: import('../runner/events.js').RunEvent): void => {
      recorder.event(e);
      shown.onEvent(e);
    },
  };
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    process.stderr.write('\n[vncplay] interrupted: finishing running steps, starting no new task (Ctrl-C again to quit now)\n');
    reporter.interrupting?.();
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let exitCode: number = ExitCode.ok;
  // An exception ends the command with an internal error (70): that is what the trail records then.
  let finished = false;
  try {
    for (const playbook of playbooks) {
      // group_vars/ and host_vars/ beside the playbook, at Ansible's precedence.
      await loadPlaybookVars(inventory, path.dirname(path.resolve(playbook.file)), { decrypt });
      const result = await runPlaybook({
        playbook,
        inventory,
        // Checked above, for every playbook at once.
        preflight: false,
        ...(limit !== undefined ? { limit } : {}),
        forks: settings.forks,
        gathering: settings.gathering,
        ...(settings.becomeUser !== undefined ? { becomeUser: settings.becomeUser } : {}),
        ...(settings.becomeMethod !== undefined ? { becomeMethod: settings.becomeMethod } : {}),
        check: opts.check,
        diff: opts.diff,
        tags: opts.tags,
        skipTags: opts.skipTags,
        ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
        extraVars,
        ...(settings.become ? { become: true } : {}),
        connectionDefaults: settings.connectionDefaults,
        verbosity: opts.verbosity,
        ...(becomePassword !== undefined ? { becomePassword } : {}),
        // Read now, not before the loop: group_vars beside each playbook may have revealed more.
        secrets: [...vault.revealedSecrets(), ...environmentSecrets()],
        ...(settings.hostKeyChecking ? { hostKeyChecking: settings.hostKeyChecking } : {}),
        persist: settings.persist,
        // Only on a terminal, as ssh (which reads /dev/tty, never stdin): a piped stdin may never send a line.
        ...(process.stdin.isTTY ? { askPassphrase: (file: string) => promptHidden(`Enter passphrase for key '${file}': `, reporter.questions) } : {}),
        ...(process.stdin.isTTY ? { ask: (question: string, echo: boolean) => promptLine(`${question} `, { hidden: !echo, display: reporter.questions }) } : {}),
        onEvent: reporter.onEvent,
        signal: abort.signal,
      });
      const retryWarning = await writeRetryFile(playbook.file, result.failedHosts, retryFiles);
      if (retryWarning !== undefined) process.stderr.write(`[WARNING]: ${retryWarning}\n`);
      if (opts.metricsFile) {
        const { writeMetricsFile } = await import('../output/metrics.js');
        await writeMetricsFile(opts.metricsFile, playbook.file, result);
      }
      exitCode = Math.max(exitCode, result.exitCode);
      if (result.interrupted || result.exitCode !== ExitCode.ok) break;
    }
    finished = true;
  } finally {
    // The handler stays until the audit trail is written: a Ctrl-C just after the last task must not kill the
    // process halfway through the recap or the trail's record (it did: exit by signal, seen in interrupt-fleet).
    await reporter.done();
    await recorder.finish(finished ? exitCode : 70);
  }
  const pruned = await pruneAudit(audit.dir, audit.days);
  process.off('SIGINT', onSigint);
  if (pruned.length) process.stderr.write(`[vncplay] audit trail: removed the months ${pruned.join(', ')} (older than ${audit.days} days)\n`);
  return exitCode;
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The pre-flight checks of every playbook (src/runner/preflight.ts: hosts patterns naming unknown groups or hosts,
 * undefined variables), all reported at once. group_vars/ and host_vars/ beside each playbook are loaded into the
 * inventory first (the run loads them again per playbook).
 */
async function checkBeforeRun(
  playbooks: readonly Playbook[],
  extraVars: Record<string, unknown>,
  inventory: Inventory | undefined,
  decrypt: (text: string, file: string) => Promise<string>,
  opts: CliOptions,
  limit: string | undefined,
): Promise<void> {
  const { preflightErrors } = await import('../runner/preflight.js');
  const { loadPlaybookVars } = await import('../inventory/index.js');
  const errors: VncplayError[] = [];
  for (const pb of playbooks) {
    if (inventory) await loadPlaybookVars(inventory, path.dirname(path.resolve(pb.file)), { decrypt });
    // A run says these when it reaches the play; a syntax check says them now, as ansible-playbook does.
    if (inventory && opts.syntaxCheck) {
      const { findUnmatchedHostPatterns } = await import('../playbook/unknown-patterns.js');
      for (const w of findUnmatchedHostPatterns(pb, inventory, extraVars)) process.stderr.write(`[WARNING]: ${w}\n`);
    }
    errors.push(
      ...(await preflightErrors(pb, {
        extraVars,
        ...(inventory ? { inventory } : {}),
        ...(limit !== undefined ? { limit } : {}),
        tags: opts.tags,
        skipTags: opts.skipTags,
        ...(opts.startAtTask !== undefined ? { startAtTask: opts.startAtTask } : {}),
      })),
    );
  }
  if (errors.length) throw new ErrorList(errors);
}

async function makeReporter(opts: CliOptions): Promise<{ onEvent: (e: import('../runner/events.js').RunEvent) => void; interrupting?(): void; questions?: QuestionDisplay; done(): Promise<void> }> {
  const write = (t: string): void => {
    process.stdout.write(t);
  };
  if (opts.json) {
    const { jsonReporter } = await import('../output/json.js');
    return { onEvent: jsonReporter(write), done: async () => undefined };
  }
  // A terminal that reports no width (e.g. `script` without a size) gets plain lines: listr2 would wrap every character.
  const tty =
    process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 && !opts.noColor && opts.verbosity === 0 && !process.env['CI'];
  if (tty) {
    const { liveReporter } = await import('../output/live.js');
    return liveReporter(write);
  }
  const { plainReporter } = await import('../output/plain.js');
  const color = process.stdout.isTTY === true && !opts.noColor && !process.env['NO_COLOR'];
  return { onEvent: plainReporter({ write, verbosity: opts.verbosity, color }), done: async () => undefined };
}

function reportError(err: unknown): number {
  if (err instanceof VncplayError) {
    // Errors are printed outside the runner's redacting emitter: a template error may quote a vault value.
    process.stderr.write(redactSecrets(err.format(), environmentSecrets()) + '\n');
    // ansible.cfg errors are command-line errors (ansible-playbook exits 5 for them too).
    if (err instanceof UsageError || (err instanceof ErrorList && err.errors.every((e) => e instanceof UsageError))) return ExitCode.usage;
    return ExitCode.invalidInput;
  }
  process.stderr.write(redactSecrets(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, environmentSecrets()) + '\n');
  return 70;
}
