import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { withModuleDocs } from '../../scripts/module-docs.js';

describe('README module reference', () => {
  it('is the one generated from the module schemas (run `npm run gen:docs` after changing a module)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withModuleDocs(readme));
  });
});
