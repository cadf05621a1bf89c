import type { HostOrder } from '../playbook/model.js';

/**
 * Ansible's `serial`: a number, a percentage, or a list of either; the last entry repeats until hosts run out.
 * Percentages round down but never below one host.
 */
export function serialBatches<T>(hosts: readonly T[], serial: unknown): T[][] {
  if (hosts.length === 0) return [];
  const sizes = serialSizes(serial, hosts.length);
  if (sizes.length === 0) return [hosts.slice()];
  const batches: T[][] = [];
  let start = 0;
  let i = 0;
  while (start < hosts.length) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    batches.push(hosts.slice(start, start + size));
    start += size;
    i++;
  }
  return batches;
}

function serialSizes(serial: unknown, total: number): number[] {
  if (serial === undefined || serial === null || serial === '' || serial === 0) return [];
  const entries = Array.isArray(serial) ? serial : [serial];
  return entries.map((e) => batchSize(e, total));
}

function batchSize(entry: unknown, total: number): number {
  if (typeof entry === 'number') return entry <= 0 ? total : Math.floor(entry);
  const s = String(entry).trim();
  if (s.endsWith('%')) {
    const pct = Number(s.slice(0, -1));
    if (!Number.isFinite(pct) || pct <= 0) throw new Error(`serial: '${s}' is not a valid percentage`);
    return Math.max(1, Math.floor((total * pct) / 100));
  }
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`serial: '${s}' is not a number or a percentage`);
  return n <= 0 ? total : n;
}

/**
 * max_fail_percentage as Ansible applies it: the batch is aborted when the share of failed hosts in it is
 * strictly greater than the percentage.
 */
export function exceedsMaxFail(failed: number, batchSize: number, maxFailPercentage: number | undefined): boolean {
  if (maxFailPercentage === undefined || batchSize === 0) return false;
  return (failed / batchSize) * 100 > maxFailPercentage;
}

/** A play's `order` (Ansible's Inventory.get_hosts): the matched hosts, which come in inventory order, reordered. */
export function orderHosts(hosts: readonly string[], order: HostOrder, random: () => number = Math.random): string[] {
  switch (order) {
    case 'inventory':
      return [...hosts];
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort(byName);
    case 'reverse_sorted':
      return [...hosts].sort(byName).reverse();
    case 'shuffle': {
      const out = [...hosts];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    }
  }
}

/** Python's sorted() on names: by code point, not locale. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
