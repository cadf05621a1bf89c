/**
 * Writes schemas/playbook.schema.json (from the module registry), schemas/tasks.schema.json and the
 * precompiled loader validators in schemas/validators/ (`npm run gen:schema`). `--check` only compares and exits 1
 * when a file is out of date (the unit tests do the same).
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { precompiledValidators } from '../src/playbook/precompile.js';
import { playbookSchemaJson, taskFileSchemaJson } from '../src/playbook/schema.js';

const outputs: [string, () => string][] = [
  ['../schemas/playbook.schema.json', playbookSchemaJson],
  ['../schemas/tasks.schema.json', taskFileSchemaJson],
];

async function main(): Promise<void> {
  const validatorsDir = '../schemas/validators/';
  const validators = await precompiledValidators();
  for (const [name, code] of validators) outputs.push([`${validatorsDir}${name}`, () => code]);
  // A validator nothing needs any more (a fragment that went) is removed.
  const dir = fileURLToPath(new URL(validatorsDir, import.meta.url));
  const stale = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.mjs') && !validators.has(f));
  if (process.argv.includes('--check') && stale.length > 0) {
    process.stderr.write(`stale precompiled validators in ${validatorsDir}: ${stale.join(', ')}: run npm run gen:schema\n`);
    process.exitCode = 1;
  } else if (!process.argv.includes('--check')) {
    await mkdir(dir, { recursive: true });
    for (const f of stale) await rm(`${dir}${f}`);
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
