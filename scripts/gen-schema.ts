/**
 * Writes schemas/playbook.schema.json (from the module registry) and schemas/tasks.schema.json
 * (`npm run gen:schema`). `--check` only compares and exits 1 when a file is out of date (the unit test does the same).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { playbookSchemaJson, taskFileSchemaJson } from '../src/playbook/schema.js';

const outputs: [string, () => string][] = [
  ['../schemas/playbook.schema.json', playbookSchemaJson],
  ['../schemas/tasks.schema.json', taskFileSchemaJson],
];

async function main(): Promise<void> {
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
    process.stdout.write(`wrote ${target}\n`);
  }
}

await main();
