import { defineConfig } from "vitest/config";

/**
 * `npm run test:browser`: the review page in real headless Chromium (Debian's `chromium`,
 * driven by playwright-core). Few tests, one file at a time: a browser is heavy on 2 cores.
 */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/helpers/build.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/browser.json" },
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
