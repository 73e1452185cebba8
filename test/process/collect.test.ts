// A short program run with everything it printed collected: how it ended, whatever that was,
// and a rejection only when it could not start.
import { describe, expect, it } from "vitest";
import { runCollecting } from "../../src/process/collect.js";

describe("runCollecting", () => {
  it("collects stdout and stderr whole, with the exit code, and feeds the input", async () => {
    const result = await runCollecting(
      "/bin/sh",
      ["-c", 'cat; echo " out"; echo err >&2; exit 3'],
      {
        input: "in",
      },
    );
    expect(result).toEqual({ code: 3, signal: null, stdout: "in out\n", stderr: "err\n" });
  });

  it("reports a program killed by a signal as the signal", async () => {
    const result = await runCollecting("/bin/sh", ["-c", "kill -TERM $$"]);
    expect(result).toMatchObject({ code: null, signal: "SIGTERM" });
  });

  it("rejects a program that cannot start, also when Node throws instead of emitting", async () => {
    await expect(runCollecting("/no/such/program", [])).rejects.toThrow(/ENOENT/);
    await expect(runCollecting("/bin/sh", ["-c", "true", "a\0b"])).rejects.toThrow(/null bytes/);
  });
});
