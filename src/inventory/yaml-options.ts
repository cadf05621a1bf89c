import { LineCounter, parseDocument, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions, type Tags } from 'yaml';

/**
 * Ansible reads YAML with PyYAML: YAML 1.1 scalars (`yes`/`no`/`on`/`off` are booleans, `0755` is octal),
 * merge keys, duplicate keys allowed (last one wins). The `yaml` package's 1.1 schema also treats `y`/`n` as
 * booleans, which PyYAML does not, so the boolean tags are replaced with PyYAML's set.
 */
const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

function ansibleTags(tags: Tags): Tags {
  const out: Tags = tags.map((t) => {
    if (typeof t === 'object' && 'tag' in t && t.tag === 'tag:yaml.org,2002:bool' && 'test' in t && t.test) {
      return { ...t, test: t.test.test('yes') ? PYYAML_TRUE : PYYAML_FALSE };
    }
    return t;
  });
  // `!unsafe` marks a string Ansible must not template; we keep the string (rendering is the caller's concern).
  out.push({ tag: '!unsafe', resolve: (s: string) => s });
  out.push({
    tag: '!vault',
    resolve: (_s: string, onError: (msg: string) => void) => {
      onError('inline !vault values are not supported; use a vault-encrypted vars file');
      return '';
    },
  });
  return out;
}

export const ANSIBLE_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  merge: true,
  uniqueKeys: false,
  prettyErrors: false,
  customTags: ansibleTags,
};

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
}

export function parseAnsibleYaml(text: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...ANSIBLE_YAML_OPTIONS, lineCounter: lines });
  return { doc, lines };
}
