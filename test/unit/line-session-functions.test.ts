import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LINE_SESSION_DRIVER, sessionCall, sessionDefinitions, sessionScript } from '../../src/connection/line-session.js';
import { ansiCQuote, joinArgv } from '../../src/connection/quote.js';
import { WRITE_FILE_SCRIPT } from '../../src/connection/write-file.js';

describe('line session functions', () => {
  const script = sessionScript('test_echo', 'printf "%s|" "$@"');

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
    const call = joinArgv(sessionCall(['sh', '-c', script, 'name', 'a b', "c'd"])!);
    const input = `NONCE\n${ansiCQuote(sessionDefinitions())}\n${ansiCQuote(call)}\n`;
    const viaDriver = spawnSync('bash', ['-c', LINE_SESSION_DRIVER], { input, encoding: 'utf8' });
    const viaSh = spawnSync('sh', ['-c', script, 'name', 'a b', "c'd"], { encoding: 'utf8' });
    expect(viaDriver.stderr).toBe('NONCE\n');
    expect(viaDriver.stdout).toBe(`VP-LINE-READY\n${viaSh.stdout}NONCE 0\n`);
    expect(viaSh.stdout).toBe("a b|c'd|");
  });
});
