// vitest setupFile of the `hosts` project: each worker gets a fleet of its own. The project runs as many test files
// at once as global-setup.ts brought fleets up (slots), and vitest numbers its workers 1..maxWorkers
// (VITEST_POOL_ID), so worker N uses slot N: the same host names h1..h3, at 198.18.<N-1>.11.., files in
// <fleet dir>/slot-N. Helpers in fleet.ts read everything from that folder. VNCPLAY_FLEET_SLOT=S pins every worker
// to slot S (global-setup.ts then brings up only that one).
import { join } from 'node:path';

const base = process.env.VNCPLAY_FLEET_BASE_DIR;
if (base !== undefined && process.env.VNCPLAY_FLEET !== 'off') {
  const slots = Number(process.env.VNCPLAY_FLEET_SLOTS ?? '1');
  const pinned = process.env.VNCPLAY_FLEET_SLOT;
  const slot = Number(pinned ?? process.env.VITEST_POOL_ID ?? '1');
  if (pinned === undefined && (!Number.isInteger(slot) || slot < 1 || slot > slots)) {
    throw new Error(`test worker ${String(process.env.VITEST_POOL_ID)} has no fleet: ${slots} fleet(s) are up; the hosts project's maxWorkers must not exceed VNCPLAY_FLEET_SLOTS`);
  }
  const dir = slot === 1 ? base : join(base, `slot-${slot}`);
  process.env.VNCPLAY_FLEET_DIR = dir;
  process.env.VNCPLAY_FLEET_INVENTORY = join(dir, 'inventory.yml');
}
