import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { withTemplateDocs } from '../../scripts/template-docs.js';
import { FILTERS, TESTS } from '../../src/playbook/filters.js';
import { lookupNames } from '../../src/playbook/template.js';

describe('README templating reference', () => {
  it('is the one generated from the filter, test and lookup tables (run `npm run gen:docs` after adding one)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withTemplateDocs(readme));
  });

  it('names every filter, test and lookup', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of [...Object.keys(FILTERS), ...Object.keys(TESTS), ...lookupNames()]) expect(readme).toContain(`\`${name}\``);
  });
});
