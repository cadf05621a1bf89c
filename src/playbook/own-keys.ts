/**
 * Variables come from YAML and JSON, where `__proto__` is an ordinary key (Ansible has a variable of that name).
 * A plain `target[key] = value` or Object.assign would instead replace the target's prototype, and the value's
 * members would turn into variables of their own. Every merge of variable mappings goes through these two.
 */

/** `target[key] = value`, with `__proto__` kept as an own key. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Object.assign for variable mappings: own enumerable keys of each source, `__proto__` included as a key. */
export function assignOwn<T extends Record<string, unknown>>(target: T, ...sources: readonly Record<string, unknown>[]): T {
  for (const source of sources) for (const key of Object.keys(source)) setOwn(target, key, source[key]);
  return target;
}
