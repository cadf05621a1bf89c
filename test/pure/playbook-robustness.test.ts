import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { testModules } from '../fixtures/playbooks/modules.js';

/**
 * Damaged copies of good/site.yml (lines dropped, duplicated, re-indented, YAML punctuation spliced in) must
 * either load or fail with an ErrorList of positioned errors: never a TypeError, never a stack trace.
 */
describe('loadPlaybook on damaged input', () => {
  it('never crashes, and every error has a position, an excerpt and a hint', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-fuzz-'));
    cpSync('test/fixtures/playbooks/good', dir, { recursive: true });
    const base = readFileSync('test/fixtures/playbooks/good/site.yml', 'utf8').split('\n');
    const bits = ['', '  ', '- ', ':', '{{', '}}', '"', "'", '[', ']', '{', '}', '\t', 'null', '644', 'yes', 'tasks:', 'block:', '&a', '*a', '<<: *a', '|', '? '];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let failed = 0;
    for (let i = 0; i < 150; i++) {
      const lines = [...base];
      for (let k = 0; k <= rnd(3); k++) {
        const j = rnd(lines.length);
        const line = lines[j]!;
        const cut = rnd(line.length + 1);
        const op = rnd(4);
        if (op === 0) lines.splice(j, 1);
        else if (op === 1) lines[j] = line.slice(0, cut) + bits[rnd(bits.length)]! + line.slice(cut);
        else if (op === 2) lines[j] = ' '.repeat(rnd(7)) + line.trimStart();
        else lines.splice(j, 0, lines[rnd(lines.length)]!);
      }
      const file = path.join(dir, 'site.yml');
      writeFileSync(file, lines.join('\n'));
      try {
        await loadPlaybook(file, { modules: testModules });
      } catch (e) {
        expect(e, lines.join('\n')).toBeInstanceOf(ErrorList);
        failed++;
        for (const err of (e as ErrorList).errors) {
          expect(err.pos, err.format()).toBeDefined();
          expect(err.excerpt, err.format()).toMatch(/\^/);
          expect(err.hint, err.format()).toBeTruthy();
        }
      }
    }
    expect(failed).toBeGreaterThan(50); // the damage is real
  });
});
