// A program's log, written synchronously: whole chunks in order, and a disk that refuses writes
// costs the log its end, never the run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LogFile } from "../../src/process/log-file.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

describe("LogFile", () => {
  it("appends every chunk in order to the file, its folder made", async () => {
    const file = path.join(tempDirForTest("log-file-"), "deep", "agent.log");
    const first = new LogFile(file);
    first.write("one\n");
    first.write(Buffer.from("two\n"));
    await first.close();
    const second = new LogFile(file);
    second.write("three\n");
    await second.close();
    expect(readFileSync(file, "utf8")).toBe("one\ntwo\nthree\n");
  });

  it("past its limit keeps the beginning and the end of the output, saying how much it left out", async () => {
    const file = path.join(tempDirForTest("log-file-"), "agent.log");
    const log = new LogFile(file, { maxBytes: 100, tailBytes: 20 });
    const output = Array.from({ length: 1000 }, (_, index) => String(index % 10)).join("");
    for (let at = 0; at < output.length; at += 7) log.write(output.slice(at, at + 7));
    await log.close();
    expect(readFileSync(file, "utf8")).toBe(
      `${output.slice(0, 80)}\n[conductor: 900 bytes of output left out here; a log keeps the first 80 and the last 20]\n${output.slice(-20)}`,
    );
  });

  it.skipIf(process.platform !== "linux")(
    "keeps the first failed write and drops the rest, without an error event (/dev/full)",
    async () => {
      const log = new LogFile("/dev/full");
      const errors: Error[] = [];
      log.on("error", (error) => errors.push(error));
      expect(log.write("lost\n")).toBe(true);
      log.write("lost too\n");
      await log.close();
      expect((log.failure as NodeJS.ErrnoException | undefined)?.code).toBe("ENOSPC");
      expect(errors).toEqual([]);
    },
  );
});
