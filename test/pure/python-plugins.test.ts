import { describe, expect, it } from 'vitest';
import { pluginNames } from '../../src/playbook/python-plugins.js';

/** The names a Python plugin file provides are read from its text (no plugin code runs at load time). */
describe('pluginNames: the keys of the dict filters()/tests() returns', () => {
  it('reads quoted keys of the returned dict, and only inside that method', () => {
    const source = [
      "'''Custom filters: 'not_a_key': here.'''",
      'class FilterModule(object):',
      '    def helper(self):',
      "        return {'hidden': 1}",
      '    def filters(self):',
      '        return {',
      "            'generate_answer': self.generate_answer,",
      '            "ns.dotted": dotted,  # a comment',
      '        }',
      '    def generate_answer(self, value):',
      "        return {'also_hidden': value}",
      '',
    ].join('\n');
    expect(pluginNames(source, 'filter')).toEqual(['generate_answer', 'ns.dotted']);
    expect(pluginNames(source, 'test')).toEqual([]);
    expect(pluginNames("class TestModule:\n    def tests(self):\n        return {'blue': is_blue}\n", 'test')).toEqual(['blue']);
  });
});
