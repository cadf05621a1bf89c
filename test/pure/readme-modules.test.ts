import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { allModules } from '../../src/modules/registry.js';
import { withModuleDocs } from '../../scripts/module-docs.js';

describe('README module reference', () => {
  it('is the one generated from the module schemas (run `npm run gen:docs` after changing a module)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withModuleDocs(readme));
  });
});

describe('every module', () => {
  it.each(allModules().map((m) => [m.name, m] as const))('%s says what it does in its schema', (_name, m) => {
    expect(String(m.schema['description'] ?? '').length).toBeGreaterThan(10);
  });
});
