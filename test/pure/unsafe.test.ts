import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorList } from '../../src/errors.js';
import { Unsafe } from '../../src/playbook/filters.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { render } from '../../src/playbook/template.js';
import { parseYamlSource } from '../../src/playbook/yaml-source.js';
import { tempTree } from '../support/temp-tree.js';

/** `!unsafe` (Ansible's AnsibleUnsafeText): a string that is data, never rendered as a template. */

function playbook(text: string, files: Record<string, string> = {}): string {
  return path.join(tempTree({ ...files, 'play.yml': text }, 'vncplay-unsafe-'), 'play.yml');
}

describe('!unsafe in playbook YAML', () => {
  it('reads as an Unsafe wrapper inside values, as plain text for a keyword itself', () => {
    const { source, errors } = parseYamlSource('x.yml', "a: !unsafe '{{ x }}'\nb: [!unsafe '{% y %}', plain]\n");
    expect(errors).toEqual([]);
    expect(source.toJS(source.root)).toEqual({ a: new Unsafe('{{ x }}'), b: [new Unsafe('{% y %}'), 'plain'] });
    const first = (source.root as { items: { value: unknown }[] }).items[0]!.value;
    expect(source.keywordJS(first)).toBe('{{ x }}');
  });

  it('on a list or mapping, every string inside is unsafe (keys stay plain); !unsafe 5 is the string "5"', () => {
    const { source, errors } = parseYamlSource('x.yml', "a: !unsafe ['{{ x }}', [b]]\nc: !unsafe { '{{ k }}': '{{ y }}', n: 1 }\ne: !unsafe 5\n");
    expect(errors).toEqual([]);
    expect(source.doc.warnings).toEqual([]);
    expect(source.toJS(source.root)).toEqual({
      a: [new Unsafe('{{ x }}'), [new Unsafe('b')]],
      c: { '{{ k }}': new Unsafe('{{ y }}'), n: 1 },
      e: new Unsafe('5'),
    });
  });

  it('a value that is not valid Jinja2 loads (it is never compiled), in vars, vars files, args and free-form text', async () => {
    const pb = await loadPlaybook(
      playbook(
        `- hosts: all
  vars_files: [v.yml]
  vars:
    foo: !unsafe '{{ not a template }}'
  tasks:
    - name: !unsafe 'literal name'
      debug:
        msg: !unsafe '{% broken'
    - command: !unsafe 'chdir=/tmp echo {{ x'
`,
        { 'v.yml': "fromfile: !unsafe '{{ nope'\n" },
      ),
    );
    const play = pb.plays[0]!;
    expect(play.vars.foo).toEqual(new Unsafe('{{ not a template }}'));
    const [debug, command] = play.tasks;
    // A keyword written !unsafe is just its text (keywords are not data for modules).
    expect(debug!.name).toBe('literal name');
    expect(debug!.args).toEqual({ msg: new Unsafe('{% broken') });
    expect(command!.args).toEqual({ chdir: new Unsafe('/tmp'), cmd: new Unsafe('echo {{ x') });
  });

  it('the same text without !unsafe is a template syntax error (so the tag is what makes the difference)', async () => {
    const err = await loadPlaybook(playbook(`- hosts: all\n  tasks:\n    - debug:\n        msg: '{% broken'\n`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorList);
    expect((err as ErrorList).errors.map((e) => e.code)).toEqual(['E_TEMPLATE_SYNTAX']);
  });
});

describe('render() never renders unsafe text, also through other variables', () => {
  const vars = {
    foo: new Unsafe('{{ not a template }}'),
    bar: '{{ foo }}',
    baz: '{{ bar }}!',
    items: [new Unsafe('{{ a }}'), 'b'],
  };
  it.each([
    ['{{ foo }}', '{{ not a template }}'],
    ['{{ bar }}', '{{ not a template }}'],
    ['{{ baz }}', '{{ not a template }}!'],
    ['x {{ foo | upper }}', 'x {{ NOT A TEMPLATE }}'],
    ['{{ items | join(",") }}', '{{ a }},b'],
  ])('%s → %s', (template, want) => {
    expect(render(template, vars)).toBe(want);
  });

  it('an unsafe argument value renders to its text', () => {
    expect(render({ msg: new Unsafe('{{ x }}'), n: 1 }, {})).toEqual({ msg: '{{ x }}', n: 1 });
  });
});
