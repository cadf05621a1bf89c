/**
 * Writes schemas/playbook.schema.json (from the module registry), schemas/tasks.schema.json and the
 * precompiled loader validators in schemas/validators/ and the runner's in schemas/runtime-validators/
 * (`npm run gen:schema`). `--check` only compares and exits 1
 * when a file is out of date (the unit tests do the same).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { precompiledValidators } from '../src/playbook/precompile.js';
import { allModules } from '../src/modules/registry.js';
import { runtimeValidatorSources } from '../src/runner/arg-validators.js';
import { playbookSchemaJson, taskFileSchemaJson } from '../src/playbook/schema.js';

const outputs: [string, () => string][] = [
  ['../schemas/playbook.schema.json', playbookSchemaJson],
  ['../schemas/tasks.schema.json', taskFileSchemaJson],
];

async function main(): Promise<void> {
  const validatorsDir = '../schemas/validators/';
  const validators = await precompiledValidators();
  for (const [name, code] of validators) outputs.push([`${validatorsDir}${name}`, () => code]);
  // The runner's checks of rendered module arguments (src/runner/arg-validators.ts), precompiled the same way.
  const runtimeDir = '../schemas/runtime-validators/';
  const runtime = await runtimeValidatorSources(allModules());
  for (const [name, code] of runtime) outputs.push([`${runtimeDir}${name}`, () => code]);
  // A module that moved to a spec has no validator any more: its old file goes.
  for (const [rel, current] of [[validatorsDir, validators], [runtimeDir, runtime]] as const) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    const stale = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.mjs') && !current.has(f));
    if (process.argv.includes('--check') && stale.length > 0) {
      process.stderr.write(`stale precompiled validators in ${rel}: ${stale.join(', ')}: run npm run gen:schema\n`);
      process.exitCode = 1;
    } else if (!process.argv.includes('--check')) {
      await mkdir(dir, { recursive: true });
      for (const f of stale) await rm(`${dir}${f}`);
    }
  }
  for (const [rel, generate] of outputs) {
    const target = fileURLToPath(new URL(rel, import.meta.url));
    const text = generate();
    if (process.argv.includes('--check')) {
      const current = await readFile(target, 'utf8').catch(() => '');
      if (current !== text) {
        process.stderr.write(`${target} is out of date: run npm run gen:schema\n`);
        process.exitCode = 1;
      }
      continue;
    }
    await writeFile(target, text);
  }
  if (!process.argv.includes('--check')) process.stdout.write(`wrote ${outputs.length} files (schemas/*.json, schemas/validators/*.mjs)\n`);
}

await main();
