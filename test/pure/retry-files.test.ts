import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { retryPath, withRetryFilesEnvironment } from '../../src/cli/retry-files.js';

describe('retry file settings (command line, then environment; an ansible.cfg reader fills the rest)', () => {
  it.each([
    [{}, {}, {}],
    [{}, { ANSIBLE_RETRY_FILES_ENABLED: 'yes' }, { enabled: true }],
    [{}, { ANSIBLE_RETRY_FILES_ENABLED: 'False' }, { enabled: false }],
    [{}, { ANSIBLE_RETRY_FILES_ENABLED: '' }, {}],
    [{ enabled: true }, { ANSIBLE_RETRY_FILES_ENABLED: '0' }, { enabled: true }],
    [{}, { ANSIBLE_RETRY_FILES_SAVE_PATH: '~/retries' }, { savePath: `${homedir()}/retries` }],
    [{}, { ANSIBLE_RETRY_FILES_SAVE_PATH: '/var/tmp/r' }, { savePath: '/var/tmp/r' }],
  ])('given %j and %j: %j', (given, env, want) => {
    expect(withRetryFilesEnvironment(given, env)).toEqual(want);
  });

  it('PLAYBOOK.retry beside the playbook, or in the save path', () => {
    expect(retryPath('playbooks/site.yml')).toBe('playbooks/site.retry');
    expect(retryPath('playbooks/site.yml', { savePath: '/var/tmp/r' })).toBe('/var/tmp/r/site.retry');
  });
});
