// The run bundle (dist/run/run-program.cjs) is what every `conductor run` loads first: it must
// hold every package a run needs, so that a run compiles nothing from node_modules at start-up
// (a module read from disk has no code cache), and stay ASCII, so that it reads by the fast path
// of src/cli/code-cache.ts.
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, tasks } from "../helpers/run-repo.js";

const RUN_BUNDLE = path.resolve("dist/run/run-program.cjs");

let repo: TestRepo | undefined;
let install: string | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
  if (install) rmSync(install, { recursive: true, force: true });
  install = undefined;
});

/**
 * A copy of the built package (its dist/ and package.json, no code cache yet), so that a test can
 * watch the cache one conductor makes without the other tests' runs changing it.
 */
function copyOfPackage(): string {
  install = mkdtempSync(path.join(os.tmpdir(), "conductor-install-"));
  cpSync(path.resolve("dist"), path.join(install, "dist"), {
    recursive: true,
    filter: (source) => !source.endsWith(".v8-cache"),
  });
  cpSync(path.resolve("package.json"), path.join(install, "package.json"));
  return install;
}

/** The first line of a code cache: the build it was made from, then what it covers. */
function cacheHeader(cache: string): string {
  const bytes = readFileSync(cache);
  return bytes.subarray(0, bytes.indexOf(10)).toString("latin1");
}

/** Preloaded into conductor: writes every module it requires, Node's own marked as such. */
const LOADED_MODULES_PROBE = `
const Module = require("node:module");
const { appendFileSync } = require("node:fs");
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const kind = Module.isBuiltin(request) ? "builtin" : "module";
  appendFileSync(process.env.LOADED_MODULES_FILE, kind + " " + request + " from " + parent?.filename + "\\n");
  return load.apply(this, arguments);
};
`;

describe("the run bundle", () => {
  it("loads no module from node_modules during a whole run", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo done > done.txt" },
      tasks: tasks("one", "two"),
    });
    const probe = path.join(repo.home, "loaded-modules-probe.cjs");
    const loaded = path.join(repo.home, "loaded-modules.txt");
    writeFileSync(probe, LOADED_MODULES_PROBE);
    writeFileSync(loaded, "");
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
      // Not in debug mode, which loads the bundle with a plain require instead of its code cache.
      env: {
        NODE_OPTIONS: `--require ${JSON.stringify(probe)}`,
        LOADED_MODULES_FILE: loaded,
        CONDUCTOR_DEBUG: "",
      },
    });
    expect(result.exitCode, result.all).toBe(0);
    const lines = readFileSync(loaded, "utf8").trim().split("\n");
    // The probe sees the bundle's requires: Node's modules, asked for by the bundle.
    expect(lines).toContain(`builtin node:child_process from ${RUN_BUNDLE}`);
    expect(lines.filter((line) => !line.startsWith("builtin "))).toEqual([]);
  });

  it("is ASCII", () => {
    const bytes = readFileSync(RUN_BUNDLE);
    const at = bytes.findIndex((byte) => byte > 0x7f);
    const context = at === -1 ? "" : bytes.subarray(Math.max(0, at - 60), at + 20).toString();
    expect(at, `a character beyond ASCII at byte ${at}: ${context}`).toBe(-1);
  });

  it("keeps the code cache of a run that went through, never the start-up of a `run --help`", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "echo done > done.txt" },
      tasks: tasks("one"),
    });
    const home = repo.home;
    const cli = path.join(copyOfPackage(), "dist", "bin", "conductor.js");
    const cache = path.join(path.dirname(cli), "..", "run", "run-program.cjs.v8-cache");
    const run = (...args: string[]) =>
      execa("node", [cli, ...args], {
        cwd: repo?.root ?? "",
        reject: false,
        all: true,
        env: { ...gitEnv(home), CI: "1", NO_COLOR: "1", CONDUCTOR_DEBUG: "" },
      });

    expect((await run("run", "--help")).exitCode).toBe(0);
    expect(cacheHeader(cache)).toMatch(/ partial$/);
    const partial = statSync(cache);
    // Another start that goes no further leaves it as it is.
    expect((await run("run", "--help")).exitCode).toBe(0);
    expect(statSync(cache).mtimeMs).toBe(partial.mtimeMs);

    const result = await run("run", "--output", "plain");
    expect(result.exitCode, result.all).toBe(0);
    expect(cacheHeader(cache)).toMatch(/ full$/);
    // It holds what the run compiled beyond the start-up.
    const full = statSync(cache);
    expect(full.size).toBeGreaterThan(partial.size * 1.3);
    expect((await run("run", "--help")).exitCode).toBe(0);
    expect(statSync(cache).mtimeMs).toBe(full.mtimeMs);
  });
});
