import { describe, expect, it } from 'vitest';
import { tarDiffMeansChange, unarchiveModule } from '../../src/modules/unarchive.js';
import { parsedArgs } from '../support/module-args.js';

describe("unarchive's reading of tar --diff, as Ansible's TgzArchive.is_unarchived", () => {
  const args = parsedArgs(unarchiveModule, { src: 'a.tgz', dest: '/d' });
  it('counts missing files, times, modes and (as root) owners; not content alone, not empty names', () => {
    expect(tarDiffMeansChange('tar: pkg/README: Warning: Cannot stat: No such file or directory', args, true)).toBe(true);
    expect(tarDiffMeansChange('pkg/README: Mod time differs', args, true)).toBe(true);
    expect(tarDiffMeansChange('pkg/README: Mode differs', args, true)).toBe(true);
    expect(tarDiffMeansChange('pkg/README: Uid differs', args, true)).toBe(true);
    expect(tarDiffMeansChange('pkg/README: Uid differs', args, false)).toBe(false);
    expect(tarDiffMeansChange('pkg/README: Contents differ', args, true)).toBe(false);
    expect(tarDiffMeansChange('tar: : Warning: Cannot stat: No such file or directory', args, true)).toBe(false);
  });

  it('leaves owner and group differences to the owner and group the task sets', () => {
    const owned = parsedArgs(unarchiveModule, { src: 'a.tgz', dest: '/d', owner: 'www', group: 'www' });
    expect(tarDiffMeansChange('pkg/README: Uid differs', owned, true)).toBe(false);
    expect(tarDiffMeansChange('pkg/README: Gid differs', owned, true)).toBe(false);
  });
});
