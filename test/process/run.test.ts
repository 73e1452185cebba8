// runProcess: how a program's end is reported, also when it never starts.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ProcessOptions, runProcess } from "../../src/process/run.js";
import { Redactor } from "../../src/secrets/redact.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "conductor-run-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<ProcessOptions>): ProcessOptions {
  return {
    file: "/bin/sh",
    cwd: dir,
    env: {},
    signal: new AbortController().signal,
    timeoutMs: 30_000,
    logFile: path.join(dir, "logs", "run.log"),
    redactor: new Redactor(["hunter2-secret"]),
    ...overrides,
  };
}

describe("runProcess", () => {
  it("reports a program that does not exist as not started, without throwing", async () => {
    const ended = await runProcess(options({ file: path.join(dir, "no-such-program") }));
    expect(ended).toEqual({ reason: "spawn-error", message: expect.stringContaining("ENOENT") });
    expect(ended.reason === "spawn-error" && ended.message).toContain("no-such-program");
  });

  it("reports a working folder that does not exist as not started, naming the folder", async () => {
    const gone = path.join(dir, "gone");
    const ended = await runProcess(
      options({ args: ["-c", "true"], cwd: gone, logFile: path.join(dir, "x.log") }),
    );
    expect(ended).toEqual({
      reason: "spawn-error",
      message: `its working folder ${gone} does not exist`,
    });
  });

  it("reports the failures to start that Node throws instead of emitting, without throwing", async () => {
    const file = path.join(dir, "a-file");
    await writeFile(file, "not a folder\n");
    expect((await runProcess(options({ args: ["-c", "true"], cwd: file }))).reason).toBe(
      "spawn-error",
    );
    expect((await runProcess(options({ args: ["-c", "true", "nul\0byte"] }))).reason).toBe(
      "spawn-error",
    );
  });

  it("reports the exit code, and a signal as the signal", async () => {
    expect(await runProcess(options({ args: ["-c", "exit 0"] }))).toEqual({
      reason: "exited",
      exitCode: 0,
    });
    expect(await runProcess(options({ args: ["-c", "exit 7"] }))).toEqual({
      reason: "exit-non-zero",
      exitCode: 7,
    });
    expect(await runProcess(options({ args: ["-c", "kill -9 $$"] }))).toEqual({
      reason: "signal",
      signal: "SIGKILL",
    });
  });

  it("runs a shell command line with conductor's environment plus the given variables, output redacted in the log", async () => {
    const ended = await runProcess(
      options({
        file: 'echo "$EXTRA $HOME" && echo "token hunter2-secret" >&2 && test -n "$CONDUCTOR_PROCESS_TAG"',
        shell: true,
        env: { EXTRA: "given" },
      }),
    );
    expect(ended).toEqual({ reason: "exited", exitCode: 0 });
    const log = await readFile(path.join(dir, "logs", "run.log"), "utf8");
    expect(log).toContain(`given ${process.env.HOME}`);
    expect(log).not.toContain("hunter2-secret");
  });

  it("writes stdin text to the program", async () => {
    const lines: string[] = [];
    const ended = await runProcess(
      options({
        args: ["-c", "cat"],
        stdinText: "from conductor\n",
        onStdoutLine: (line) => lines.push(line),
      }),
    );
    expect(ended.reason).toBe("exited");
    expect(lines).toEqual(["from conductor"]);
  });
});
