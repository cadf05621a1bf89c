/**
 * Ansible's tag selection: with no --tags everything runs except tasks tagged `never`; `always` runs unless skipped
 * by name; `tagged`/`untagged`/`all` are special selectors.
 */
export function tagsSelected(taskTags: readonly string[], only: readonly string[], skip: readonly string[]): boolean {
  const tags = new Set(taskTags);
  if (skip.length > 0) {
    if (skip.includes('all')) return false;
    if (skip.includes('tagged') && tags.size > 0) return false;
    if (skip.includes('untagged') && tags.size === 0) return false;
    if ([...tags].some((t) => skip.includes(t))) return false;
  }
  if (tags.has('always')) return true;
  if (only.length === 0 || only.includes('all')) return !tags.has('never');
  if (only.includes('tagged') && tags.size > 0 && !tags.has('never')) return true;
  if (only.includes('untagged') && tags.size === 0) return true;
  return [...tags].some((t) => only.includes(t));
}
