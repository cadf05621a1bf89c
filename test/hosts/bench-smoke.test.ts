// The benchmark's quickest mode (npm run bench -- --quick: 3 light hosts, vncplay and the floor once each,
// no ansible, no curve), so `npm run bench` keeps working. Measured 9-35 s on the shared 2-core machine, under
// the 60 s budget. Skipped while any light fleet is up: the benchmark brings its own up and takes it down.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fleetAvailable } from '../fleet/fleet.js';

const execFileAsync = promisify(execFile);
const lightInUse = existsSync('/var/lib/vncplay-fleet/light/l1');

interface Summary {
  runs: number;
  firstWallS: number;
  rerunWallS: number;
  samples: { first: { changed?: number }; rerun: { changed?: number } }[];
}

describe.skipIf(!fleetAvailable() || lightInUse)('benchmark smoke run (bench/run.ts --quick)', () => {
  it('runs vncplay and the floor on 3 light hosts, checks idempotence, writes RESULTS.md + results.json, takes the fleet down', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vncplay-bench-'));
    await execFileAsync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { timeout: 110_000 });
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      options: { hosts: number };
      tools: { vncplay: Summary; floor: Summary; ansible?: Summary };
      ratios: { vncplayOverFloor: { first: number; rerun: number } };
      syntaxCheck: { wallS: number };
    };
    expect(results.options.hosts).toBe(3);
    expect(results.tools.ansible).toBeUndefined();
    const v = results.tools.vncplay;
    expect(v.runs).toBe(1);
    // 3 hosts × 7 changing tasks on the first run; nothing on the re-run (the benchmark itself also refuses a non-idempotent re-run).
    expect(v.samples[0]!.first.changed).toBe(21);
    expect(v.samples[0]!.rerun.changed).toBe(0);
    expect(results.tools.floor.firstWallS).toBeGreaterThan(0);
    expect(Number.isFinite(results.ratios.vncplayOverFloor.first)).toBe(true);
    expect(results.syntaxCheck.wallS).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'RESULTS.md'), 'utf8')).toContain('| vncplay / floor |');
    expect(existsSync('/var/lib/vncplay-fleet/light/l1')).toBe(false);
  }, 120_000);
});
