import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModuleError } from '../../src/errors.js';
import { buildModuleZip } from '../../src/modules/library/payload.js';
import { requireProgram } from '../support/tools.js';

/** The AnsiballZ payload is collected by the controller's python3 (src/modules/library/payload.ts). */
requireProgram('python3');

describe('library/ modules: the payload', () => {
  it('without ansible-core on the controller, a module that imports ansible.module_utils is refused at its import, naming what to install', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vncplay-payload-'));
    const file = path.join(dir, 'needs_core.py');
    writeFileSync(file, '#!/usr/bin/python\n\nfrom ansible.module_utils.basic import AnsibleModule\n');
    const refused = await buildModuleZip(file, 'ansible.modules.needs_core', { moduleUtils: [], collections: [] }, Promise.resolve(undefined)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModuleError);
    const err = refused as ModuleError;
    expect(err.code).toBe('E_LIBRARY_ANSIBLE_CORE');
    expect(err.pos).toEqual({ file, line: 3, col: 0 });
    expect(err.hint).toMatch(/install ansible-core on the controller/);
  });
});
