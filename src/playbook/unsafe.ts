import { visit, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

/*
 * Values that are data, never templates. Its own small file so that the YAML options shared by inventories,
 * vars files and playbooks (src/inventory/yaml-options.ts) and the template helpers (filters.ts, which itself
 * reads YAML for from_yaml) can both use it without importing each other.
 */

/**
 * A value that came from a host (registered result, facts, command output), was already rendered (set_fact,
 * loop items) or was written `!unsafe` in YAML. It is data: render() and variable resolution never treat strings
 * inside it as templates, so a host whose stdout says `{{ lookup('pipe', 'rm -rf /') }}` cannot run anything here.
 */
export class Unsafe {
  constructor(readonly value: unknown) {}
}

/**
 * The `!unsafe` tag as Ansible reads it (AnsibleUnsafeText), wherever Ansible data is written in YAML: playbooks,
 * task and vars files, inventories, group_vars/host_vars and `-e @file.yml`. The string becomes an Unsafe
 * wrapper, which render() unwraps without rendering and which stays literal when it reaches another variable
 * (`bar: "{{ foo }}"` gives foo's text as is).
 */
export const UNSAFE_TAGS: Tags = [
  // `!unsafe 5` is the string "5" (PyYAML constructs the scalar as text).
  { tag: '!unsafe', resolve: (s: string) => new Unsafe(s) },
  // `!unsafe [a, '{{ b }}']` and `!unsafe {k: v}`: every string inside is unsafe, as Ansible wraps them deep.
  { tag: '!unsafe', collection: 'seq', resolve: markStringsUnsafe },
  { tag: '!unsafe', collection: 'map', resolve: markStringsUnsafe },
];

/** Wraps every string value (not the keys) inside a collection node, in place. */
function markStringsUnsafe(node: YAMLMap.Parsed | YAMLSeq.Parsed): YAMLMap.Parsed | YAMLSeq.Parsed {
  visit(node, {
    Scalar(key, scalar) {
      if (key !== 'key' && typeof scalar.value === 'string') scalar.value = new Unsafe(scalar.value);
    },
  });
  return node;
}
