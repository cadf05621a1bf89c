/**
 * Writes schemas/playbook.schema.json from the module registry (`npm run gen:schema`).
 * `--check` only compares and exits 1 when the file is out of date (the unit test does the same).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { playbookSchemaJson } from '../src/playbook/schema.js';

const target = fileURLToPath(new URL('../schemas/playbook.schema.json', import.meta.url));

async function main(): Promise<void> {
  const text = playbookSchemaJson();
  if (process.argv.includes('--check')) {
    const current = await readFile(target, 'utf8').catch(() => '');
    if (current !== text) {
      process.stderr.write(`${target} is out of date: run npm run gen:schema\n`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(target, text);
  process.stdout.write(`wrote ${target}\n`);
}

await main();
