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

  it("keeps only maxStdoutBytes of stdout and ends a program that prints more, also an endless one", async () => {
    // `yes` never ends by itself: only the cut ends it, long before its output fills memory.
    const cut = await runCollecting("/bin/sh", ["-c", "exec yes abc"], { maxStdoutBytes: 100_000 });
    expect(cut.stdout).toBe("abc\n".repeat(25_000));
    expect(cut.truncated).toBe(true);
    // Exactly as much as may be kept is not cut.
    const whole = await runCollecting("/bin/sh", ["-c", "printf 1234"], { maxStdoutBytes: 4 });
    expect(whole).toEqual({ code: 0, signal: null, stdout: "1234", stderr: "" });
  });

  it("rejects a program that cannot start, also when Node throws instead of emitting", async () => {
    await expect(runCollecting("/no/such/program", [])).rejects.toThrow(/ENOENT/);
    await expect(runCollecting("/bin/sh", ["-c", "true", "a\0b"])).rejects.toThrow(/null bytes/);
  });
});
