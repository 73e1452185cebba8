import { defineConfig } from "vitest/config";

/**
 * `npm run test:reliability`: kills, signals, concurrent runs, fuzzing, hostile input, disk
 * trouble and archive safety, against the built CLI in real temporary repositories. Slower than
 * the unit suite, so it has its own entry point; RELIABILITY_SEED replays a failing random case.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/helpers/build.ts"],
    // Every test waits on what the run writes, never on sleeps; the timeouts only catch hangs on
    // a busy 2-core machine (other test suites may be running at the same time).
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/reliability.json" },
    pool: "forks",
    maxWorkers: 2,
  },
});
