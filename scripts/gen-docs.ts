import { readFile, writeFile } from 'node:fs/promises';
import { withModuleDocs } from './module-docs.js';
import { withTemplateDocs } from './template-docs.js';

const file = new URL('../README.md', import.meta.url);
await writeFile(file, withTemplateDocs(withModuleDocs(await readFile(file, 'utf8'))));
console.log('README.md: module and templating references regenerated');
