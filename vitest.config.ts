import { defineConfig } from 'vitest/config';

/*
 * Tests are grouped by what they need (the folder says it):
 *   test/pure    no process, no host: plans from facts, parsers, templating
 *   test/local   local processes: the CLI, a local bash line session, local sshd/tmux, wire-level cloud fakes
 *   test/parity  ansible-playbook (or Python's Jinja2/re) run side by side with vncplay on the controller
 *   test/hosts   the real test fleet (nspawn hosts h1-h3), parity on hosts included
 * The fleet's hosts are shared, so its files run one at a time; the others need nothing exclusive and run two at a
 * time, beside the fleet's, which mostly waits on its hosts.
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Brings the real test fleet up (test/fleet/fleet.sh up 3) unless VNCPLAY_FLEET=off or no test/hosts file runs.
    globalSetup: ['test/fleet/global-setup.ts'],
    // Every run in a test connects afresh unless the test says otherwise: persistent connections (the per-user
    // daemon, connection/persist-client.ts) are tested on their own in persist-*.test.ts.
    env: { VNCPLAY_PERSIST: 'off' },
    projects: [
      { extends: true, test: { name: 'hosts', include: ['test/hosts/**/*.test.ts'], fileParallelism: false } },
      { extends: true, test: { name: 'local', include: ['test/{pure,local,parity}/**/*.test.ts'], fileParallelism: true, maxWorkers: 2 } },
    ],
  },
});
