import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { allModules, findModule } from '../../src/modules/registry.js';
import { argValidator, loadArgValidator, runtimeAjvOptions, runtimeValidatorSources, validatorOrigins } from '../../src/runner/arg-validators.js';
import { checkArgs } from '../../src/runner/invoke-module.js';

describe('precompiled rendered-argument validators (schemas/runtime-validators/*.mjs)', () => {
  it('are current: npm run gen:schema writes exactly these files', async () => {
    const files = await runtimeValidatorSources(allModules());
    // Modules with a spec are checked by the spec (src/modules/spec/parse.ts), not by ajv.
    expect([...files.keys()].sort()).toEqual(allModules().filter((m) => m.spec === undefined).map((m) => `${m.name}.mjs`).sort());
    expect(readdirSync('schemas/runtime-validators').filter((f) => f.endsWith('.mjs')).sort()).toEqual([...files.keys()].sort());
    for (const [name, code] of files) expect(readFileSync(`schemas/runtime-validators/${name}`, 'utf8') === code, name).toBe(true);
  });

  // Each row: module, rendered args, valid? The precompiled code must agree with a fresh ajv compile, errors included.
  const rows: [string, Record<string, unknown>, boolean][] = [
    ['firewall', { port: 5901, proto: 'tcp' }, true],
    ['firewall', { port: 5901, bogus: 1 }, false],
    ['firewall', { port: 5901, proto: 'icmp' }, false],
  ];
  it.each(rows)('%s %j → valid=%s, same verdict and errors as ajv', async (name, args, valid) => {
    const mod = findModule(name)!;
    await loadArgValidator(mod);
    const pre = argValidator(mod);
    const fresh = new Ajv2020(runtimeAjvOptions).compile(mod.schema);
    expect(pre(args)).toBe(valid);
    expect(fresh(args)).toBe(valid);
    expect(pre.errors ?? null).toEqual(fresh.errors ?? null);
    expect(validatorOrigins.get(name)).toBe('precompiled');
  });

  it('checkArgs reports through the precompiled validator', async () => {
    const firewall = findModule('firewall')!;
    await loadArgValidator(firewall);
    expect(checkArgs(firewall, { port: 5901, bogus: 1 })).toMatch(/unsupported parameter 'bogus'/);
  });
});
