import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/reliability/**", "test/browser/**", "node_modules/**"],
    globalSetup: ["test/helpers/build.ts"],
    // Integration tests spawn git, codex and shells; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON results feed the pass/fail count that .ci/run prints last.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    pool: "forks",
    maxWorkers: 2,
  },
});
