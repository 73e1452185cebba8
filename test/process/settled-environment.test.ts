// Conductor's own environment, read once while a command runs: the shell pool's scripts and the
// programs conductor starts see it as the command found it, and see changes again once it ended.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runProcess } from "../../src/process/run.js";
import { ownEnvironment, whileEnvironmentSettled } from "../../src/process/settled-environment.js";
import { runInShell } from "../../src/process/shell-pool.js";
import { Redactor } from "../../src/secrets/redact.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

const NAME = "CONDUCTOR_TEST_SETTLED";

afterEach(() => {
  delete process.env[NAME];
});

async function programSees(dir: string): Promise<string> {
  const logFile = path.join(dir, `log-${Math.random()}`);
  const outcome = await runProcess({
    file: "/bin/sh",
    args: ["-c", `printf '%s' "\${${NAME}-unset}"`],
    cwd: dir,
    env: {},
    logFile,
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    redactor: new Redactor([]),
  });
  expect(outcome).toMatchObject({ reason: "exited", exitCode: 0 });
  return readFileSync(logFile, "utf8");
}

describe("whileEnvironmentSettled", () => {
  it("keeps the environment a command started with for its scripts and programs, and lets go after", async () => {
    const dir = tempDirForTest("settled-");
    process.env[NAME] = "before";
    await whileEnvironmentSettled(async () => {
      process.env[NAME] = "changed meanwhile";
      expect(ownEnvironment()[NAME]).toBe("before");
      expect((await runInShell(dir, `printf '%s' "$${NAME}"`, [])).stdout).toBe("before");
      expect(await programSees(dir)).toBe("before");
    });
    expect(ownEnvironment()[NAME]).toBe("changed meanwhile");
    expect((await runInShell(dir, `printf '%s' "$${NAME}"`, [])).stdout).toBe("changed meanwhile");
    expect(await programSees(dir)).toBe("changed meanwhile");
  });

  it("puts back an outer settled environment when an inner one ends", async () => {
    process.env[NAME] = "outer";
    await whileEnvironmentSettled(async () => {
      process.env[NAME] = "inner";
      await whileEnvironmentSettled(async () => {
        expect(ownEnvironment()[NAME]).toBe("inner");
      });
      expect(ownEnvironment()[NAME]).toBe("outer");
    });
  });
});
