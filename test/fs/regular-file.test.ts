import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OperationError } from "../../src/errors.js";
import { clearSpecialFile } from "../../src/fs/regular-file.js";

let base: string | undefined;
afterEach(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  base = undefined;
});

describe("clearSpecialFile", () => {
  it("refuses a directory with a typed error that says what is in the way", async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "conductor-regular-"));
    const folder = path.join(base, ".env");
    await mkdir(folder);
    const refusal = clearSpecialFile(folder);
    await expect(refusal).rejects.toBeInstanceOf(OperationError);
    await expect(clearSpecialFile(folder)).rejects.toThrow(`${folder} is a directory, not a file`);
  });
});
