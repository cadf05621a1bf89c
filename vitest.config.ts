import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Fleet tests share real hosts; files run one at a time so they never fight over a unit or a rule.
    fileParallelism: false,
    // Brings the real test fleet up (test/fleet/fleet.sh up 3) unless VNCPLAY_FLEET=off or only test/unit runs.
    globalSetup: ['test/fleet/global-setup.ts'],
    // Every run in a test connects afresh unless the test says otherwise: persistent connections (the per-user
    // daemon, connection/persist-client.ts) are tested on their own in persist-*.test.ts.
    env: { VNCPLAY_PERSIST: 'off' },
  },
});
