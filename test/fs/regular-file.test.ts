import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OperationError } from "../../src/errors.js";
import { clearForNewFile } from "../../src/fs/regular-file.js";

let base: string | undefined;
afterEach(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  base = undefined;
});

describe("clearForNewFile", () => {
  it("refuses a directory with a typed error that says what is in the way", async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "conductor-regular-"));
    const folder = path.join(base, ".env");
    await mkdir(folder);
    const refusal = clearForNewFile(folder);
    await expect(refusal).rejects.toBeInstanceOf(OperationError);
    await expect(clearForNewFile(folder)).rejects.toThrow(`${folder} is a directory, not a file`);
  });

  it("removes a FIFO, a link (never what it leads to) and a file, and leaves a missing path be", async () => {
    base = await mkdtemp(path.join(os.tmpdir(), "conductor-regular-"));
    const fifo = path.join(base, "pipe");
    execFileSync("mkfifo", [fifo]);
    const outside = path.join(base, "outside.txt");
    await writeFile(outside, "keep\n");
    const links = [path.join(base, "to-fifo"), path.join(base, "to-file")];
    await symlink(fifo, links[0] as string);
    await symlink(outside, links[1] as string);
    const file = path.join(base, "file.txt");
    await writeFile(file, "old\n");
    for (const target of [fifo, ...links, file, path.join(base, "missing")])
      await clearForNewFile(target);
    for (const target of [fifo, ...links, file])
      expect(existsSync(target) || isLink(target)).toBe(false);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
  });
});

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
