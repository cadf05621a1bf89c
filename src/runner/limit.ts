import pLimit, { type LimitFunction } from 'p-limit';

/**
 * The one concurrency limit of a run (`--forks`). Every unit of host work goes through it exactly once; nothing
 * called from inside a limited function may call the limit again, or a full pool would wait on itself.
 */
export function createForkLimit(forks: number): LimitFunction {
  return pLimit(Math.max(1, forks));
}
