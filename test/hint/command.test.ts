import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runConductorCommand, setInvocation } from "../../src/hint/command.js";

let root: string;
const started = process.cwd();
beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), "conductor-hint-")));
  await mkdir(path.join(root, "ci", "sub"), { recursive: true });
  await writeFile(path.join(root, "conductor.yaml"), "version: 1\n");
  await writeFile(path.join(root, "ci", "tasks.yaml"), "version: 1\n");
});
afterEach(async () => {
  process.chdir(started);
  setInvocation({ program: "conductor" });
  await rm(root, { recursive: true, force: true });
});

/** As the CLI starts: the options recorded, then into `-C`. */
function start(cwd: string, config?: string): void {
  setInvocation({ cwd, config, program: "conductor" });
  process.chdir(path.resolve(started, cwd));
}

describe("runConductorCommand: a run's own config file", () => {
  it("keeps the options in use when they lead to the run's file", () => {
    start(root);
    expect(runConductorCommand(root, "conductor.yaml", ["run", "--resume", "r1"])).toBe(
      `conductor -C ${root} run --resume r1`,
    );
    // Runs of older versions recorded no file: theirs is conductor.yaml.
    expect(runConductorCommand(root, undefined, ["run", "--resume", "r1"])).toBe(
      `conductor -C ${root} run --resume r1`,
    );
    start(path.join(root, "ci", "sub"), "../tasks.yaml");
    expect(runConductorCommand(root, "ci/tasks.yaml", ["runs"])).toBe(
      `conductor -C ${path.join(root, "ci", "sub")} -c ../tasks.yaml runs`,
    );
  });

  it("names the run's file, from where -c is read, when another is in use", async () => {
    start(root, "ci/tasks.yaml");
    expect(runConductorCommand(root, "conductor.yaml", ["run", "--resume", "r1"])).toBe(
      `conductor -C ${root} -c conductor.yaml run --resume r1`,
    );
    // Without -c in a folder with a conductor.yaml of its own, the root's needs naming.
    const sub = path.join(root, "ci", "sub");
    await writeFile(path.join(sub, "conductor.yaml"), "version: 1\n");
    start(sub);
    expect(runConductorCommand(root, "conductor.yaml", ["runs"])).toBe(
      `conductor -C ${sub} -c ${path.join(root, "conductor.yaml")} runs`,
    );
    // A file outside the repository is recorded by its absolute path.
    const outside = path.join(os.tmpdir(), "elsewhere.yaml");
    start(root);
    expect(runConductorCommand(root, outside, ["runs"])).toBe(
      `conductor -C ${root} -c ${outside} runs`,
    );
  });
});
