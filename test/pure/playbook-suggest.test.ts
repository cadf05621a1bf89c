import { describe, expect, it } from 'vitest';
import { suggest } from '../../src/playbook/suggest.js';

describe('suggest (did you mean …)', () => {
  const modules = ['command', 'shell', 'ping', 'service', 'systemd', 'file', 'copy', 'template', 'wait_for'];
  const table: [string, string | undefined][] = [
    ['servce', 'service'],
    ['pign', 'ping'],
    ['shel', 'shell'],
    ['tempalte', 'template'],
    ['wiat_for', 'wait_for'],
    ['FILE', 'file'],
    ['xyz', undefined],
    ['apt', undefined],
  ];
  for (const [word, want] of table) it(`${word} → ${want ?? 'nothing'}`, () => expect(suggest(word, modules)).toBe(want));
});
