import { readFile, writeFile } from 'node:fs/promises';
import { withModuleDocs } from './module-docs.js';

const file = new URL('../README.md', import.meta.url);
await writeFile(file, withModuleDocs(await readFile(file, 'utf8')));
console.log('README.md: module reference regenerated');
