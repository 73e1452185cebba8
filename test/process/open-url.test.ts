import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, lstatSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSecretUrl } from "../../src/process/open-url.js";

let dir: string | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * A real process that makes its redirect folder as openSecretUrl does (`open-<its pid>-XXXXXX`
 * under `parent`, with a page in it) and then waits; resolves with the process and its folder.
 */
async function holder(parent: string): Promise<{ child: ChildProcess; folder: string }> {
  const script = `
    const fs = require("node:fs"), path = require("node:path");
    const folder = fs.mkdtempSync(path.join(process.argv[1], "open-" + process.pid + "-"));
    fs.writeFileSync(path.join(folder, "page.html"), "token");
    process.stdout.write(folder + "\\n");
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["-e", script, parent], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const folder = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.endsWith("\n")) resolve(out.trim());
    });
    child.once("exit", () => reject(new Error("the holder ended before making its folder")));
  });
  return { child, folder };
}

/** SIGKILLs `child` (no exit handler runs) and waits until it is gone. */
async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** Opens with no opener on PATH: the page is not opened and its own folder goes at once. */
async function openWithoutBrowser(home: string): Promise<void> {
  const before = process.env.PATH;
  process.env.PATH = path.join(home, "empty-bin");
  try {
    const opened = await openSecretUrl("http://127.0.0.1:1/?token=abc", home);
    opened.dispose();
  } finally {
    process.env.PATH = before;
  }
}

describe("openSecretUrl", () => {
  it("removes the redirect folders of killed conductors, and only those", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "open-url-"));
    const home = path.join(dir, "home");
    const parent = path.join(home, ".conductor", "tmp");
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await mkdir(path.join(home, "empty-bin"));

    const killed = await holder(parent);
    const killedPid = killed.child.pid as number;
    const live = await holder(parent);
    await killHard(killed.child);

    // Named like a folder of the killed pid, but not one: a file, other names, a symlink.
    const outside = path.join(dir, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "keep.txt"), "keep");
    const file = path.join(parent, `open-${killedPid}-aaaaaa`);
    await writeFile(file, "not a folder");
    const link = path.join(parent, `open-${killedPid}-bbbbbb`);
    await symlink(outside, link);
    const others = [
      `open-${killedPid}-cccccccc`,
      `open-${killedPid}`,
      `keep-${killedPid}-dddddd`,
      `open-x${killedPid}-eeeeee`,
    ].map((name) => path.join(parent, name));
    for (const other of others) await mkdir(other);
    // A symlink inside a dead conductor's folder is removed, never followed.
    await symlink(outside, path.join(killed.folder, "link"));
    // This process's own folder (a page still open) stays too.
    const own = path.join(parent, `open-${process.pid}-ffffff`);
    await mkdir(own);

    expect(existsSync(killed.folder)).toBe(true);
    await openWithoutBrowser(home);

    expect(existsSync(killed.folder)).toBe(false);
    expect(existsSync(live.folder)).toBe(true);
    expect(await readFile(path.join(live.folder, "page.html"), "utf8")).toBe("token");
    expect(await readFile(file, "utf8")).toBe("not a folder");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(outside, "keep.txt"), "utf8")).toBe("keep");
    for (const other of others) expect(existsSync(other)).toBe(true);
    expect(existsSync(own)).toBe(true);

    // Once the live one is killed too, the next open removes its folder.
    await killHard(live.child);
    await openWithoutBrowser(home);
    expect(existsSync(live.folder)).toBe(false);
    expect(existsSync(own)).toBe(true);
  });

  it("starts with no tmp folder at all", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "open-url-"));
    const home = path.join(dir, "home");
    await mkdir(path.join(home, "empty-bin"), { recursive: true });
    await openWithoutBrowser(home);
    expect(existsSync(path.join(home, ".conductor", "tmp"))).toBe(true);
  });
});
