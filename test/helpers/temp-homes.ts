import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { prepareClaudeHome } from "../../src/model-server/anthropic.js";
import { prepareCodexHome } from "../../src/model-server/server.js";

/**
 * Temporary folders a test makes and removes when it ends, so that a run of the suite leaves
 * nothing in the temp folder (codex writes sessions and logs into its home). Call inside a test;
 * hooks (beforeAll) remove theirs in afterAll.
 */

/** A private CODEX_HOME that keeps codex offline, removed when the test ends. */
export async function codexHomeForTest(): Promise<string> {
  return removedAfterTest(await prepareCodexHome());
}

/** A private home for claude, removed when the test ends. */
export async function claudeHomeForTest(): Promise<string> {
  return removedAfterTest(await prepareClaudeHome());
}

/** A fresh folder (symlinks resolved) under the temp folder, removed when the test ends. */
export function tempDirForTest(prefix: string): string {
  return removedAfterTest(realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix))));
}

function removedAfterTest(dir: string): string {
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
