import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionCall, sessionCommand, sessionDefinitions, sessionScript } from '../../src/connection/line-session.js';
import { ansiCWord, asciiShellCode } from '../../src/connection/quote.js';
import { WRITE_FILE_SCRIPT } from '../../src/connection/write-file.js';
import { probeArgv } from '../../src/modules/file-common.js';
// Registers its session function (vp_steps) too, so the ASCII check below sees every one vncplay defines.
import '../../src/runner/invoke-module.js';
import { runThroughDriver } from '../support/line-driver.js';

describe('line session functions', () => {
  const script = sessionScript('test_echo', 'printf "%s|" "$@"');
  const setsInShell = sessionScript('test_set_in_shell', 'vp_test_global=in-shell', { inShell: () => true });
  const setsInSubshell = sessionScript('test_set_in_subshell', 'vp_test_other=subshell');
  const takesStdin = sessionScript('test_stdin', 'if [ $# -ge 2 ]; then printf "arg[%s]" "$2"; else printf "in[%s]" "$(cat)"; fi', { stdinAsArgument: true });

  // Non-ASCII text in a body makes the session send all definitions as one escaped $'…' word, 4× longer.
  it('the registered function bodies are ASCII, so the definitions travel as they are', () => {
    expect(asciiShellCode(sessionDefinitions())).toBe(sessionDefinitions());
  });

  it('ansiCWord: every byte but NUL comes back from bash as it was', () => {
    const bytes = Uint8Array.from({ length: 255 * 2 }, (_, i) => (i % 255) + 1);
    const word = ansiCWord(bytes);
    expect(word).toMatch(/^\$'[\x20-\x7e]*'$/);
    const back = spawnSync('bash', ['-c', `printf '%s' ${word}`]);
    expect(Buffer.compare(back.stdout, Buffer.from(bytes))).toBe(0);
    expect(() => ansiCWord(Uint8Array.of(0x41, 0))).toThrow(/NUL/);
  });

  it('rewrites a registered `sh -c SCRIPT NAME ARGS…` into the function call, arguments untouched', () => {
    expect(sessionCall(['sh', '-c', script, 'name', 'a b', "c'd"])).toEqual(['vp_test_echo', 'a b', "c'd"]);
    expect(sessionCall(['sh', '-c', WRITE_FILE_SCRIPT, 'vncplay-write', '/x'])).toEqual(['vp_write', '/x']);
  });

  it('leaves anything else alone, and a script the session did not define', () => {
    expect(sessionCall(['sh', '-c', 'echo hi', 'sh'])).toBeUndefined();
    expect(sessionCall(['bash', '-c', script, 'n'])).toBeUndefined();
    expect(sessionCall(['sh', '-c', script, 'n'], new Map())).toBeUndefined();
  });

  it('the driver defines them once; a call behaves like sh -c', () => {
    const [viaDriver] = runThroughDriver([{ argv: ['sh', '-c', script, 'name', 'a b', "c'd"] }]);
    const viaSh = spawnSync('sh', ['-c', script, 'name', 'a b', "c'd"], { encoding: 'utf8' });
    expect(viaSh.stdout).toBe("a b|c'd|");
    expect(viaDriver).toEqual({ rc: 0, stdout: viaSh.stdout, stderr: '' });
  });

  it('an inShell function runs in the session shell; others and plain commands run in a subshell', () => {
    const [, , inSession] = runThroughDriver([
      { argv: ['sh', '-c', setsInShell, 'n'] },
      { argv: ['sh', '-c', setsInSubshell, 'n'] },
      { argv: ['sh', '-c', sessionScript('test_show', 'echo "${vp_test_global-unset} ${vp_test_other-unset}"'), 'n'] },
    ]);
    expect(inSession!.stdout).toBe('in-shell unset\n');
    expect(sessionCommand(['sh', '-c', setsInShell, 'n'], new Uint8Array(0)).kind).toBe('in-shell');
    expect(sessionCommand(['sh', '-c', script, 'n'], new Uint8Array(0)).kind).toBe('call');
    expect(sessionCommand(['vp_test_echo', 'n'], new Uint8Array(0)).kind).toBe('argv');
  });

  it('stdinAsArgument: the session passes stdin as the last argument (empty too); a channel pipes it', () => {
    const [some, none] = runThroughDriver([
      { argv: ['sh', '-c', takesStdin, 'n', 'a'], stdin: "x'y\nz" },
      { argv: ['sh', '-c', takesStdin, 'n', 'a'], stdin: '' },
    ]);
    expect(some!.stdout).toBe("arg[x'y\nz]");
    expect(none!.stdout).toBe('arg[]');
    expect(spawnSync('sh', ['-c', takesStdin, 'n', 'a'], { input: 'piped', encoding: 'utf8' }).stdout).toBe('in[piped]');
  });

  // Frames are counted in bytes and read with `read -N`, which counts characters: under a UTF-8 locale every
  // non-ASCII byte must therefore travel escaped. Arguments, piped stdin and stdin as an argument, byte for byte.
  it.each(['C.UTF-8', 'C'])('non-ASCII arguments and stdin arrive byte for byte under LC_ALL=%s', (locale) => {
    const env = { ...process.env, LC_ALL: locale };
    const nasty = ['é日🎉', "$'x'", '\n', '\\', "'", '\x01\x7f', 'a\u00a0b'];
    const [args, piped, asArg] = runThroughDriver(
      [
        { argv: ['sh', '-c', 'printf "%s\\0" "$@" | od -An -tx1', 'n', ...nasty] },
        { argv: ['od', '-An', '-tx1'], stdin: 'é日🎉\r\n' },
        { argv: ['sh', '-c', takesStdin, 'n', 'a'], stdin: 'é日🎉' },
      ],
      { env },
    );
    const od = (b: Buffer): string => spawnSync('od', ['-An', '-tx1'], { input: b, encoding: 'utf8' }).stdout;
    expect(args!.stdout).toBe(od(Buffer.concat(nasty.map((a) => Buffer.from(`${a}\0`)))));
    expect(piped!.stdout).toBe(od(Buffer.from('é日🎉\r\n')));
    expect(asArg!.stdout).toBe('arg[é日🎉]');
  });
});

describe('the file functions that run in the session shell leave it as they found it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vncplay-inshell-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Everything a function could leak into the session: umask, shell options (C = noclobber), traps, functions,
  // and variables (names and values), but the driver's own and bash's ever-changing ones.
  const state = {
    argv: ['sh', '-c', sessionScript('test_state', String.raw`umask; echo "$-"; trap -p; declare -F; declare -p | grep -Ev '^declare -[-a-zA-Z]+ (VP_|BASH|_=|FUNCNAME|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|EPOCH|COLUMNS|LINES)'`), 'n'],
  };
  const write = (dest: string, content: string, mode = ''): { argv: string[]; stdin: string } => ({
    argv: ['sh', '-c', WRITE_FILE_SCRIPT, 'vncplay-write', dest, mode, '', '', String(Buffer.byteLength(content)), 'abc123'],
    stdin: content,
  });

  it('probe and write, succeeding and failing', () => {
    writeFileSync(join(dir, 'old'), 'old\n');
    const steps = [
      state,
      write(join(dir, 'new'), 'new é\n', '0640'),
      write(join(dir, 'old'), 'replaced\n'),
      write(join(dir, 'no-such-dir', 'x'), 'x'),
      write(dir, 'a folder'),
      write(join(dir, 'empty'), ''),
      { argv: probeArgv([join(dir, 'new'), join(dir, 'missing'), dir], { contentLimit: Infinity, access: true, mime: true }) },
      { argv: probeArgv([join(dir, 'old'), join(dir, 'missing', 'deeper')], { existenceOnlyFrom: 1 }) },
      state,
    ];
    expect(steps.slice(1, -1).every((s) => sessionCommand(s.argv, new Uint8Array(0)).kind === 'in-shell')).toBe(true);
    const results = runThroughDriver(steps, { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    expect(results.map((r) => r.rc)).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0]);
    expect(results[3]!.stderr).toContain('destination directory');
    expect(results[4]!.stderr).toContain('is a directory');
    expect(results.at(-1)).toEqual(results[0]);
    expect(readFileSync(join(dir, 'new'), 'utf8')).toBe('new é\n');
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('replaced\n');
    expect(readFileSync(join(dir, 'empty'), 'utf8')).toBe('');
    // No temp file is left behind, also by the failed writes.
    expect(readdirSync(dir).sort()).toEqual(['empty', 'new', 'old']);
    expect(results[6]!.stdout).toContain('Q ');
  });
});

describe('the driver runs a program, and each command gets its own output (issue 13 M6, M7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vncplay-driver-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('argv[0] is exec’d: a builtin, a session function or NAME=value is "not found", with or without stdin', () => {
    const canary = join(dir, 'canary');
    const notFound = (name: string): { rc: number; stdout: string; stderr: string } => ({ rc: 127, stdout: '', stderr: `bash: line 1: exec: ${name}: not found\n` });
    const results = runThroughDriver([
      { argv: ['eval', `touch ${canary}`] },
      { argv: ['eval', `touch ${canary}`], stdin: 'x' },
      { argv: ['vp_steps', `touch ${canary}`] },
      { argv: ['X=1', 'touch', canary] },
      { argv: ['cd', '/'] },
      { argv: ['printf', '%s', 'a program still runs'] },
    ]);
    expect(results).toEqual([
      notFound('eval'),
      notFound('eval'),
      notFound('vp_steps'),
      notFound('X=1'),
      notFound('cd'),
      { rc: 0, stdout: 'a program still runs', stderr: '' },
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a background process’s output never lands in a later result, and the session folder goes away at the end', () => {
    const results = runThroughDriver(
      [
        { argv: ['sh', '-c', 'echo own; (sleep 0.3; echo LATE; echo LATE-ERR >&2) & echo ERR >&2'] },
        { argv: ['sh', '-c', 'sleep 0.6; echo next'] },
        { argv: ['sh', '-c', 'echo piped; cat; (sleep 0.3; echo LATE2) &'], stdin: 'in\n' },
        { argv: ['sh', '-c', 'sleep 0.6; echo last'] },
        { argv: ['printf', 'NUL\\0bytes\\0\\n'] },
        { argv: ['sh', '-c', 'printf "\\377\\0\\n" >&2; printf "no newline"'] },
        ...Array.from({ length: 70 }, (_, i) => ({ argv: ['sh', '-c', `echo ${i}; echo e${i} >&2`] })),
        // The command's stdout is a file in the session's folder: its name shows where that folder is.
        { argv: ['sh', '-c', 'readlink /proc/$$/fd/1; stat -c %a "$(dirname "$(readlink /proc/$$/fd/1)")"'] },
      ],
    );
    expect(results.slice(0, 6)).toEqual([
      { rc: 0, stdout: 'own\n', stderr: 'ERR\n' },
      { rc: 0, stdout: 'next\n', stderr: '' },
      { rc: 0, stdout: 'piped\nin\n', stderr: '' },
      { rc: 0, stdout: 'last\n', stderr: '' },
      { rc: 0, stdout: 'NUL\0bytes\0\n', stderr: '' },
      { rc: 0, stdout: 'no newline', stderr: '\ufffd\0\n' },
    ]);
    expect(results.slice(6, -1).map((r) => r.stdout + r.stderr)).toEqual(Array.from({ length: 70 }, (_, i) => `${i}\ne${i}\n`));
    const [outFile, folderMode] = results.at(-1)!.stdout.split('\n');
    expect(outFile).toMatch(/^\/dev\/shm\/tmp\.\w+\/77$/);
    expect(folderMode).toBe('700');
    expect(existsSync(dirname(outFile!))).toBe(false);
  });
});
