import { describe, expect, it } from 'vitest';
import { aptRepositoryModule, parseSourceLine, planAptRepository, suggestedFilename, type AptSourcesFacts } from '../../src/modules/apt-repository.js';
import { parsedArgs } from '../support/module-args.js';

const facts = (files: Array<[string, string]>): AptSourcesFacts => ({ mainFile: '/etc/apt/sources.list', partsDir: '/etc/apt/sources.list.d/', files });
const args = (raw: Record<string, unknown>) => parsedArgs(aptRepositoryModule, raw);
const writes = (changes: ReturnType<typeof planAptRepository>) =>
  changes.flatMap((c) => c.steps).flatMap((s) => (s.kind === 'write' ? [[s.path, s.content, s.mode]] : s.kind === 'exec' && s.argv[0] === 'rm' ? [[s.argv[3], 'removed']] : []));

describe('apt_repository: Ansible SourcesList decisions', () => {
  it('names the file from the line as Ansible does', () => {
    // Expected names computed with Ansible 2.14's _suggest_filename.
    expect(suggestedFilename('deb [trusted=yes] http://198.18.0.1:4321/ ./', undefined)).toBe('198_18_0_1_4321.list');
    expect(suggestedFilename('deb http://user:pw@deb.example.org/debian bookworm main', undefined)).toBe('deb_example_org_debian.list');
    expect(suggestedFilename('deb-src https://dl.google.com/linux/chrome/deb/ stable main', undefined)).toBe('dl_google_com_linux_chrome_deb.list');
    expect(suggestedFilename('deb http://x/ y', 'custom')).toBe('custom.list');
  });

  it('parses lines as _parse does (disabled, comments, invalid)', () => {
    expect(parseSourceLine('#  deb   http://a  b  c # note ')).toMatchObject({ valid: true, enabled: false, source: 'deb http://a b c', comment: 'note' });
    expect(parseSourceLine('# just a comment')).toMatchObject({ valid: false, enabled: false, source: 'just a comment' });
    expect(parseSourceLine('')).toMatchObject({ valid: false, enabled: true, source: '' });
  });

  it('adds a new file with mode 0644 and an apt-get update', () => {
    const changes = planAptRepository(args({ repo: 'deb  http://r.example/ ./' }), facts([['/etc/apt/sources.list', 'deb http://deb.debian.org/debian bookworm main\n']]));
    expect(writes(changes)).toEqual([['/etc/apt/sources.list.d/r_example.list', 'deb http://r.example/ ./\n', '0644']]);
    expect(changes.at(-1)!.steps.at(-1)).toMatchObject({ kind: 'exec', argv: ['sh', '-c', expect.any(String), 'apt-repository', '5', '12', '/etc/apt/sources.list.d/r_example.list', '-'] });
    expect(changes[0]!.diff).toMatchObject({ before: '', after: 'deb http://r.example/ ./\n', beforeHeader: '/dev/null' });
  });

  it('enables a disabled copy where it is, rewriting that file in Ansible form; an enabled copy is a no-op', () => {
    const text = '#comment\n# deb http://r.example/ ./ # kept\n\n';
    const changes = planAptRepository(args({ repo: 'deb http://r.example/ ./', update_cache: false, mode: '0600' }), facts([['/etc/apt/sources.list.d/x.list', text]]));
    expect(writes(changes)).toEqual([['/etc/apt/sources.list.d/x.list', '# comment\ndeb http://r.example/ ./ # kept\n\n', undefined]]);
    expect(planAptRepository(args({ repo: 'deb http://r.example/ ./' }), facts([['/etc/apt/sources.list', 'deb http://r.example/ ./\n']]))).toEqual([]);
  });

  it('removes enabled copies and deletes a file left empty', () => {
    const f = facts([
      ['/etc/apt/sources.list', 'deb http://deb.debian.org/debian bookworm main\ndeb http://r.example/ ./\n'],
      ['/etc/apt/sources.list.d/r.list', 'deb http://r.example/ ./\n'],
      ['/etc/apt/sources.list.d/off.list', '# deb http://r.example/ ./\n'],
    ]);
    const changes = planAptRepository(args({ repo: 'deb http://r.example/ ./', state: 'absent', update_cache: false }), f);
    expect(writes(changes)).toEqual([['/etc/apt/sources.list', 'deb http://deb.debian.org/debian bookworm main\n', undefined], ['/etc/apt/sources.list.d/r.list', 'removed']]);
    const report = aptRepositoryModule.report!(args({ repo: 'deb http://r.example/ ./', state: 'absent' }), f);
    expect(report).toEqual({ repo: 'deb http://r.example/ ./', state: 'absent', sources_added: [], sources_removed: ['/etc/apt/sources.list.d/r.list'] });
  });

  it("expands ppa: lines as Ansible does, gets the key first, and leaves an enabled one alone", () => {
    const f = { ...facts([]), codename: 'jammy' };
    const changes = planAptRepository(args({ repo: 'ppa:ondrej/php', update_cache: false }), f);
    // The file name Ansible 2.14's _suggest_filename gives for 'ppa:ondrej/php_jammy'.
    expect(writes(changes)).toEqual([['/etc/apt/sources.list.d/ppa_ondrej_php_jammy.list', 'deb http://ppa.launchpad.net/ondrej/php/ubuntu jammy main\n', '0644']]);
    expect(changes[0]!.steps[0]).toMatchObject({ kind: 'exec', argv: ['sh', '-c', expect.stringContaining('launchpad.net/api/1.0'), 'apt-repository-key', 'ondrej', 'php', 'deb http://ppa.launchpad.net/ondrej/php/ubuntu jammy main', '1'] });
    const present = { ...f, files: [['/etc/apt/sources.list.d/x.list', 'deb http://ppa.launchpad.net/ondrej/php/ubuntu focal main\n']] as Array<[string, string]> };
    expect(planAptRepository(args({ repo: 'ppa:ondrej/php', codename: 'focal' }), present)).toEqual([]);
    expect(writes(planAptRepository(args({ repo: 'ppa:ondrej/php', codename: 'focal', state: 'absent' }), present))).toEqual([['/etc/apt/sources.list.d/x.list', 'removed']]);
  });
});
