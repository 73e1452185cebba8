// A repository that already keeps Conductor app settings (.conductor/settings.toml,
// .worktreeinclude) runs with a conductor.yaml that lists tasks alone: the real CLI, a real
// repository, the command agent.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Plan } from "../../src/planner/types.js";
import type { WrittenConfig } from "../../src/schema/written.js";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { latestSummary } from "../helpers/run-repo.js";

const SETTINGS = `"$schema" = "https://conductor.build/schemas/settings.repo.schema.json"
file_include_globs = """
ignored-by-worktreeinclude.txt
"""

[scripts]
setup = "echo \\"setup in $CONDUCTOR_WORKSPACE_NAME\\" > setup.out"
archive = "echo archived"
run_mode = "nonconcurrent"
`;

let repo: TestRepo;
const run = (args: string[]) => conductor(args, { cwd: repo.root, home: repo.home });

beforeEach(async () => {
  repo = await createTestRepo({
    "README.md": "# app\n",
    ".gitignore": ".env.local\n*.out\nignored-by-worktreeinclude.txt\n",
    ".conductor/settings.toml": SETTINGS,
    ".worktreeinclude": "# gitignored files every workspace needs\n.env.local\n",
    "conductor.yaml": [
      "version: 1",
      "tasks:",
      "  - id: greet",
      "    prompt: write a greeting",
      "    agent:",
      "      kind: command",
      '      command: "cat .env.local > seen.txt && cat setup.out >> seen.txt"',
      "",
    ].join("\n"),
  });
  await repo.write({ ".env.local": "GREETING=hello\n", "ignored-by-worktreeinclude.txt": "x\n" });
});

afterEach(async () => {
  await repo.remove();
});

describe("the repository's Conductor app settings", () => {
  it("validate says which file each setting came from", async () => {
    const result = await run(["validate"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").slice(1)).toEqual([
      '  setup: echo "setup in $CONDUCTOR_WORKSPACE_NAME" > setup.out  (from .conductor/settings.toml)',
      "  archive: echo archived  (from .conductor/settings.toml)",
      "  run_mode: nonconcurrent  (from .conductor/settings.toml)",
      "  workspaces.copy: .env.local  (from .worktreeinclude)",
    ]);
  });

  it("a run uses settings.toml's setup and .worktreeinclude's files, which stay out of the commit", async () => {
    const result = await run(["run", "--output", "plain"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(latestSummary(repo.root).workspaces[0]?.status).toBe("succeeded");
    const plan = JSON.parse((await run(["plan", "--json"])).stdout) as Plan;
    const workspace = plan.workspaces[0] as Plan["workspaces"][number];
    expect(workspace.scripts.setup).toContain("setup.out");
    expect(await readFile(path.join(workspace.path, "seen.txt"), "utf8")).toBe(
      "GREETING=hello\nsetup in greet\n",
    );
    // .worktreeinclude wins over file_include_globs: that file was not copied.
    expect(existsSync(path.join(workspace.path, "ignored-by-worktreeinclude.txt"))).toBe(false);
    const committed = await repo.git("show", "--name-only", "--format=", "conductor/greet");
    expect(committed.split("\n").filter(Boolean)).toEqual(["seen.txt"]);
  });

  it("conductor.yaml wins, and plan says what it overrides", async () => {
    const config = parse(await readFile(path.join(repo.root, "conductor.yaml"), "utf8"));
    await repo.write({
      "conductor.yaml": JSON.stringify({ ...config, scripts: { setup: "true" } }),
    });
    const result = await run(["plan"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "\nsettings:\n  setup: true  (from conductor.yaml, over .conductor/settings.toml)\n  archive: echo archived  (from .conductor/settings.toml)\n",
    );
    const plan = JSON.parse((await run(["plan", "--json"])).stdout) as Plan;
    expect(plan.workspaces[0]?.scripts.setup).toBe("true");
  });

  it("a change to settings.toml changes the plan hash", async () => {
    const hashOf = async () => (JSON.parse((await run(["plan", "--json"])).stdout) as Plan).hash;
    const before = await hashOf();
    await repo.write({ ".conductor/settings.toml": SETTINGS.replace("echo archived", "true") });
    expect(await hashOf()).not.toBe(before);
  });

  it("a broken settings file fails with its place and exit 2, creating nothing", async () => {
    await repo.write({ ".conductor/settings.toml": "[scripts]\nsetup = 5\n" });
    const result = await run(["run"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      ".conductor/settings.toml: scripts.setup: must be a string (a shell command)",
    );
    expect(existsSync(path.join(repo.root, ".conductor", "runs"))).toBe(false);
  });

  it("init starts from them instead of repeating them", async () => {
    await repo.git("rm", "-q", "conductor.yaml");
    const result = await run(["init"]);
    expect(result.exitCode, result.all).toBe(0);
    const text = await readFile(path.join(repo.root, "conductor.yaml"), "utf8");
    expect(text).toContain(
      '# setup: echo "setup in $CONDUCTOR_WORKSPACE_NAME" > setup.out  (from .conductor/settings.toml; set it here to override)',
    );
    expect(text).toContain(
      "# Gitignored files copied into every workspace come from .worktreeinclude:",
    );
    const value = parse(text) as WrittenConfig;
    expect(value.scripts?.setup).toBeUndefined();
    expect(value.workspaces?.copy).toBeUndefined();
    expect((await run(["validate"])).exitCode).toBe(0);
  });
});
