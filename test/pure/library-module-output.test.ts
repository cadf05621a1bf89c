import { describe, expect, it } from 'vitest';
import { moduleReturnOf, parseModuleOutput } from '../../src/modules/library/module.js';
import { moduleStyle, oldStyleArgs } from '../../src/modules/library/payload.js';

/** How a module file's style is decided and its answer read, as Ansible's module_common and _parse_returned_data do. */
describe('library/ modules: style, arguments and answers', () => {
  it.each([
    ['#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n', 'new'],
    ['#!/usr/bin/python\nimport ansible.module_utils.basic\n', 'new'],
    ['#!/bin/bash\n# WANT_JSON\necho {}\n', 'want_json'],
    ['#!/bin/sh\n. "$1"\necho {}\n', 'old'],
    ['#!powershell\n#Requires -Module Ansible.ModuleUtils.Legacy\n', 'powershell'],
    ['\x7fELF\x02\x01\x01\x00\x00', 'binary'],
  ])('%j is a %s module', (text, style) => {
    expect(moduleStyle(Buffer.from(text, 'latin1'))).toBe(style);
  });

  it('old-style arguments are key=value words quoted as shlex.quote does', () => {
    expect(oldStyleArgs({ color: 'blue', shape: "round 'square'", n: 3, on: true, none: null })).toBe(`color=blue shape='round '"'"'square'"'"'' n=3 on=True none=None `);
  });

  it('reads the JSON between noise lines; anything else is a MODULE FAILURE with the output', () => {
    expect(parseModuleOutput('motd line\n{"changed": true,\n "x": 1}\ntrailing noise\n', '', 0)).toEqual({ changed: true, x: 1 });
    expect(parseModuleOutput('not json', 'Traceback (most recent call last):\n', 1)).toEqual({
      failed: true,
      msg: 'MODULE FAILURE\nSee stdout/stderr for the exact error',
      module_stdout: 'not json',
      module_stderr: 'Traceback (most recent call last):\n',
      rc: 1,
      exception: 'Traceback (most recent call last):\n',
    });
  });

  it('the result: truthy failed/changed, failed from rc, facts set, stdout_lines added, _ansible_ keys dropped', () => {
    expect(moduleReturnOf({ failed: 'True', msg: 'Multiple NTP providers' })).toMatchObject({ failed: true, changed: false, msg: 'Multiple NTP providers' });
    expect(moduleReturnOf({ rc: 2, stdout: 'a\nb' })).toMatchObject({ failed: true, data: { rc: 2, stdout: 'a\nb', stdout_lines: ['a', 'b'] } });
    const ret = moduleReturnOf({ changed: true, ansible_facts: { provider: 'chrony' }, _ansible_no_log: false, diff: { before: 'a\n', after: 'b\n' } });
    expect(ret).toMatchObject({ changed: true, failed: false, facts: { provider: 'chrony', ansible_facts: { provider: 'chrony' } }, diff: [{ before: 'a\n', after: 'b\n' }] });
    expect(ret.data).toEqual({ ansible_facts: { provider: 'chrony' } });
  });
});
