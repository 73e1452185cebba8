import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFrom } from "../../src/ui/actions.js";

let dir: string | undefined;

afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("an action's output read from its log", () => {
  it("keeps at most maxBytes after the offset and says it was cut, naming the log", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "conductor-action-output-"));
    const log = path.join(dir, "ui.log");
    await writeFile(log, `before\n${"a".repeat(1000)}${"b".repeat(2000)}`);
    const cut = await readFrom(log, 7, 1000);
    expect(cut).toBe(
      `${"a".repeat(1000)}\n… (truncated: 2000 more bytes; the whole output is in ${log})\n`,
    );
    expect(await readFrom(log, 7, 3000)).toBe(`${"a".repeat(1000)}${"b".repeat(2000)}`);
  });
});
