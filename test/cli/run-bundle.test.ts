// The run bundle (dist/run/run-program.cjs) is what every `conductor run` loads first: it must
// hold every package a run needs, so that a run compiles nothing from node_modules at start-up
// (a module read from disk has no code cache), and stay ASCII, so that it reads by the fast path
// of src/cli/code-cache.ts.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, tasks } from "../helpers/run-repo.js";

const RUN_BUNDLE = path.resolve("dist/run/run-program.cjs");

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

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
});
