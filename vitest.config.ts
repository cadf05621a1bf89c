import { defineConfig } from 'vitest/config';

/*
 * Tests are grouped by what they need (the folder says it):
 *   test/pure    no process, no host: plans from facts, parsers, templating
 *   test/local   local processes: the CLI, a local bash line session, local sshd/tmux, wire-level cloud fakes
 *   test/parity  ansible-playbook (or Python's Jinja2/re) run side by side with vncplay on the controller
 *   test/hosts   the real test fleet (nspawn hosts h1-h3), parity on hosts included
 * A fleet's hosts are shared by everything that runs on them, so a test file using hosts needs a fleet of its own:
 * global-setup brings up VNCPLAY_FLEET_SLOTS fleets side by side (same host names, 198.18.<slot-1>.x) and the
 * hosts project runs that many files at once, worker N on fleet N (test/fleet/worker-slot.ts). The light fleet
 * (198.19.x, hundreds of sshds) exists once per machine: the files that use it run alone, after the others.
 * VNCPLAY_FLEET_SLOT=S instead runs every fleet file on fleet S, one at a time.
 */
// VNCPLAY_FLEET_SLOT=S pins every fleet test to slot S alone (one file at a time): how an engineer runs fleet tests
// on a fleet of their own while someone else uses slots 1 and 2.
const PINNED_SLOT = process.env.VNCPLAY_FLEET_SLOT;
const FLEET_SLOTS = PINNED_SLOT ? 1 : Number(process.env.VNCPLAY_FLEET_SLOTS ?? '2');
process.env.VNCPLAY_FLEET_SLOTS = String(FLEET_SLOTS);

const USES_THE_LIGHT_FLEET = ['test/hosts/fleet-light.test.ts', 'test/hosts/load-light.test.ts', 'test/hosts/bench-smoke.test.ts'];

export default defineConfig({
  test: {
    // Parity tests run ansible-playbook and vncplay one after the other; some take 100 s on an idle machine, and the
    // suite runs four test files at once on two cores.
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // Brings the real test fleets up (test/fleet/fleet.sh up 3, per slot) unless VNCPLAY_FLEET=off or no test/hosts
    // file runs.
    globalSetup: ['test/fleet/global-setup.ts'],
    // Every run in a test connects afresh unless the test says otherwise: persistent connections (the per-user
    // daemon, connection/persist-client.ts) are tested on their own in persist-*.test.ts.
    env: { VNCPLAY_PERSIST: 'off' },
    projects: [
      {
        extends: true,
        test: {
          name: 'hosts', include: ['test/hosts/**/*.test.ts'], exclude: USES_THE_LIGHT_FLEET,
          setupFiles: ['test/fleet/worker-slot.ts'], fileParallelism: FLEET_SLOTS > 1, maxWorkers: FLEET_SLOTS,
        },
      },
      {
        extends: true,
        test: { name: 'hosts-alone', include: USES_THE_LIGHT_FLEET, setupFiles: ['test/fleet/worker-slot.ts'], fileParallelism: false },
      },
      { extends: true, test: { name: 'local', include: ['test/{pure,local,parity}/**/*.test.ts'], fileParallelism: true, maxWorkers: 2 } },
    ],
  },
});
