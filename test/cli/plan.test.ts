// `conductor plan` as a real process in real temporary repositories: stable JSON, a readable table,
// CI matrices and shards, and one-line errors with exit code 2 for every kind of bad input.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../src/planner/types.js";
import { type CliResult, conductor } from "../helpers/cli.js";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

const CONFIG = `version: 1
tasks:
  - id: setup-db
    prompt: Create the database schema.
  - id: add-auth
    prompt_file: prompts/add-auth.md
    depends_on: [setup-db]
    agent:
      model: gpt-5.1-codex-mini
  - id: fix-dates
    prompt: Fix date parsing.
    attempts: 2
  - id: fix-typos
    prompt: Fix typos in {{task}}.
    scripts:
      check: npm test
  - id: refactor
    prompt: Refactor.
    matrix:
      model: [o4-mini, o3]
`;

let repo: TestRepo;
let head: string;

beforeAll(async () => {
  repo = await createTestRepo({
    "README.md": "# webapp\n",
    "conductor.yaml": CONFIG,
    "prompts/add-auth.md": "Add login with sessions.\n",
  });
  head = (await repo.git("rev-parse", "HEAD")).trim();
});

afterAll(async () => {
  await repo.remove();
});

const plan = (args: string[], cwd = repo.root) =>
  conductor(["plan", ...args], { cwd, home: repo.home });

/** Exit 2, nothing on stdout, one `conductor: …` line (plus at most an indented hint), no stack. */
function expectOneLineError(result: CliResult, message: string | RegExp): void {
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^conductor: /);
  if (typeof message === "string") expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(lines.length, result.stderr).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^ {2}\S/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toContain("internal error");
}

describe("conductor plan", () => {
  it("--json run twice gives byte-identical output", async () => {
    const first = await plan(["--json"]);
    const second = await plan(["--json"]);
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it("--json prints the whole plan of the repository's base commit", async () => {
    const result = await plan(["--json"]);
    const parsed = JSON.parse(result.stdout) as Plan;
    expect(parsed.formatVersion).toBe(1);
    expect(parsed.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.base).toEqual({ ref: "main", commit: head });
    expect(parsed.repo).toEqual({ root: repo.root, name: "repo", defaultBranch: "main" });
    // Named after the repository and a hash of its path: two clones named repo never share it.
    const pathHash = createHash("sha256").update(repo.root).digest("hex").slice(0, 8);
    expect(parsed.workspacesDir).toBe(
      path.join(repo.home, ".conductor", "workspaces", `repo-${pathHash}`),
    );
    expect(parsed.workspaces.map((w) => w.name)).toEqual([
      "setup-db",
      "fix-dates",
      "fix-dates-2",
      "fix-typos",
      "refactor-model-o4-mini",
      "refactor-model-o3",
      "add-auth",
    ]);
    const addAuth = parsed.workspaces.find((w) => w.name === "add-auth");
    expect(addAuth?.prompt).toBe("Add login with sessions.\n");
    expect(addAuth?.startPoint).toEqual({
      kind: "workspace",
      workspace: "setup-db",
      branch: "conductor/setup-db",
    });
  });

  it("prints a table of workspace, branch, agent, dependencies and scripts, and the hash", async () => {
    const table = await plan([]);
    const json = JSON.parse((await plan(["--json"])).stdout) as Plan;
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe(
      `7 workspaces from main (${head.slice(0, 10)}), in ${json.workspacesDir}`,
    );
    expect(lines[2]).toMatch(/^WORKSPACE\s+BRANCH\s+AGENT\s+DEPENDS ON\s+SCRIPTS$/);
    const rows = lines.slice(3, 10).map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([
      ["setup-db", "conductor/setup-db", "codex", "-", "-"],
      ["fix-dates", "conductor/fix-dates-1", "codex", "-", "-"],
      ["fix-dates-2", "conductor/fix-dates-2", "codex", "-", "-"],
      ["fix-typos", "conductor/fix-typos", "codex", "-", "check"],
      ["refactor-model-o4-mini", "conductor/refactor-model-o4-mini", "codex/o4-mini", "-", "-"],
      ["refactor-model-o3", "conductor/refactor-model-o3", "codex/o3", "-", "-"],
      ["add-auth", "conductor/add-auth", "codex/gpt-5.1-codex-mini", "setup-db", "-"],
    ]);
    // Tasks with several workspaces pick a winner (select: best by default), which takes the plain name.
    expect(lines.slice(11, 13)).toEqual([
      "fix-dates: select best of fix-dates, fix-dates-2; the winner takes conductor/fix-dates",
      "refactor: select best of refactor-model-o4-mini, refactor-model-o3; the winner takes conductor/refactor",
    ]);
    expect(lines[lines.length - 1]).toBe(`plan ${json.hash}`);
  });

  it("--matrix 3 prints a GitHub Actions matrix of three shards", async () => {
    const result = await plan(["--matrix", "3"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('{"include":[{"shard":"1/3"},{"shard":"2/3"},{"shard":"3/3"}]}');
  });

  it("--shard i/n parts together plan every workspace exactly once", async () => {
    const names: string[] = [];
    for (const shard of ["1/3", "2/3", "3/3"]) {
      const result = await plan(["--json", "--shard", shard]);
      expect(result.exitCode).toBe(0);
      const parsed = JSON.parse(result.stdout) as Plan;
      expect(`${parsed.selection.shard?.index}/${parsed.selection.shard?.count}`).toBe(shard);
      names.push(...parsed.workspaces.map((w) => w.name));
    }
    const all = JSON.parse((await plan(["--json"])).stdout) as Plan;
    expect(names.sort()).toEqual(all.workspaces.map((w) => w.name).sort());
  });

  it("plans named tasks and globs plus their dependencies", async () => {
    const result = await plan(["--json", "add-auth", "fix-*"]);
    const parsed = JSON.parse(result.stdout) as Plan;
    expect(parsed.workspaces.map((w) => w.name)).toEqual([
      "setup-db",
      "fix-dates",
      "fix-dates-2",
      "fix-typos",
      "add-auth",
    ]);
    const table = await plan(["add-auth"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^2 workspaces \(of 7\) from main/);
  });

  it("writes nothing: the checkout stays clean and the home folder empty", async () => {
    await plan([]);
    await plan(["--json", "--shard", "1/2"]);
    expect(await repo.git("status", "--porcelain", "--ignored")).toBe("");
    expect(await readdir(repo.home)).toEqual([]);
  });

  it("works from a subfolder and from a linked worktree, planning the main checkout", async () => {
    const fromRoot = (await plan(["--json"])).stdout;
    expect((await plan(["--json"], path.join(repo.root, "prompts"))).stdout).toBe(fromRoot);
    const worktree = path.join(path.dirname(repo.root), "linked");
    await repo.git("worktree", "add", "-q", "--detach", worktree);
    try {
      const result = await plan(["--json"], worktree);
      expect(result.stderr).toBe("");
      expect((JSON.parse(result.stdout) as Plan).repo.root).toBe(repo.root);
    } finally {
      await repo.git("worktree", "remove", "--force", worktree);
    }
  });
});

describe("conductor plan refuses bad input with a one-line error and exit code 2", () => {
  it("an unknown task id", async () => {
    expectOneLineError(
      await plan(["add-aut"]),
      'no task matches "add-aut". Did you mean "add-auth"?',
    );
  });

  it("a glob that matches no task", async () => {
    expectOneLineError(await plan(["docs-*"]), 'no task matches "docs-*"');
  });

  it.each(["0/3", "3/2", "a/b"])("--shard %s", async (shard) => {
    expectOneLineError(
      await plan(["--shard", shard]),
      `--shard ${shard} is not a shard: write i/n with 1 ≤ i ≤ n`,
    );
  });

  it.each(["0", "two", "2.5"])("--matrix %s", async (count) => {
    expectOneLineError(await plan(["--matrix", count]), `--matrix ${count} is not a shard count`);
  });

  it.each([
    [["--shard", "2/3"], "--shard 2/3"],
    [["--estimate"], "--estimate"],
  ])("--matrix with %j, which it would ignore", async (args, named) => {
    expectOneLineError(
      await plan(["--matrix", "3", ...args]),
      `--matrix prints the shards of a run for a CI matrix; it does not take ${named}`,
    );
  });

  it("a base ref that does not exist", async () => {
    const other = await createTestRepo({
      "conductor.yaml": CONFIG.replace("version: 1\n", "version: 1\nbase: release/9.9\n"),
      "prompts/add-auth.md": "Add login.\n",
    });
    try {
      const result = await conductor(["plan"], { cwd: other.root, home: other.home });
      expectOneLineError(result, `the base ref "release/9.9" does not exist in ${other.root}`);
      expect(result.stderr).toContain("base:");
    } finally {
      await other.remove();
    }
  });

  it("a default branch the checkout lacks, as actions/checkout leaves it: the hint fetches it", async () => {
    // One commit of one ref, detached, no local or remote-tracking main: a CI checkout.
    const ci = path.join(path.dirname(repo.root), "ci-checkout");
    const git = (...args: string[]) => execa("git", args, { cwd: ci, env: gitEnv(repo.home) });
    await execa("git", ["clone", "-q", repo.root, ci], { env: gitEnv(repo.home) });
    try {
      await git("checkout", "-q", "--detach");
      await git("branch", "-q", "-D", "main");
      await git("update-ref", "-d", "refs/remotes/origin/main");
      await git("remote", "set-head", "origin", "--delete");
      const result = await conductor(["plan"], { cwd: ci, home: repo.home });
      expectOneLineError(result, `the base ref "main" does not exist in ${ci}`);
      const fetch = /`(git fetch [^`]+)`/.exec(result.stderr)?.[1];
      expect(fetch).toBe("git fetch origin main:main");
      await git(...(fetch as string).split(" ").slice(1));
      const planned = await conductor(["plan"], { cwd: ci, home: repo.home });
      expect(planned.exitCode, planned.stderr).toBe(0);
    } finally {
      await rm(ci, { recursive: true, force: true });
    }
  });

  it("a default branch the checkout lacks, with -C from elsewhere: the fetch names the repository", async () => {
    const ci = path.join(path.dirname(repo.root), "ci checkout");
    const git = (...args: string[]) => execa("git", args, { cwd: ci, env: gitEnv(repo.home) });
    await execa("git", ["clone", "-q", repo.root, ci], { env: gitEnv(repo.home) });
    try {
      await git("checkout", "-q", "--detach");
      await git("branch", "-q", "-D", "main");
      await git("update-ref", "-d", "refs/remotes/origin/main");
      await git("remote", "set-head", "origin", "--delete");
      const result = await conductor(["-C", ci, "plan"], { cwd: "/", home: repo.home });
      expectOneLineError(result, `the base ref "main" does not exist in ${ci}`);
      const fetch = /`(git [^`]+)`/.exec(result.stderr)?.[1];
      expect(fetch).toBe(`git -C '${ci}' fetch origin main:main`);
      const fetched = await execa("sh", ["-c", fetch as string], {
        cwd: "/",
        env: gitEnv(repo.home),
        reject: false,
      });
      expect(fetched.exitCode, fetched.stderr).toBe(0);
      const planned = await conductor(["-C", ci, "plan"], { cwd: "/", home: repo.home });
      expect(planned.exitCode, planned.stderr).toBe(0);
    } finally {
      await rm(ci, { recursive: true, force: true });
    }
  });

  it("outside any git repository", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-plain-"));
    const home = await mkdtemp(path.join(os.tmpdir(), "conductor-home-"));
    try {
      await writeFile(path.join(dir, "conductor.yaml"), CONFIG);
      const result = await conductor(["plan"], {
        cwd: dir,
        home,
        // Never find a repository above the temporary folder, wherever it is.
        env: { GIT_CEILING_DIRECTORIES: path.dirname(dir) },
      });
      expectOneLineError(result, `${dir} is not inside a git repository`);
      expect(await readdir(dir)).toEqual(["conductor.yaml"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });

  it("in a repository with no commits", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-empty-"));
    const home = path.join(dir, "home");
    const root = path.join(dir, "repo");
    try {
      await execa("git", ["init", "-q", "-b", "main", root], { env: gitEnv(dir) });
      await writeFile(path.join(root, "conductor.yaml"), CONFIG);
      const result = await conductor(["plan"], { cwd: root, home });
      expectOneLineError(result, "has no commits yet");
      expect(result.stderr).toContain("git commit");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("conductor plan in a submodule", () => {
  it("plans the submodule's own checkout", async () => {
    const library = await createTestRepo({ "lib.ts": "export {};\n" });
    const app = await createTestRepo({ "README.md": "# app\n" });
    try {
      await app.git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        library.root,
        "lib",
      );
      await app.commitAll("add lib");
      const checkout = path.join(app.root, "lib");
      await writeFile(
        path.join(checkout, "conductor.yaml"),
        "version: 1\ntasks:\n  - id: a\n    prompt: x\n",
      );
      const result = await conductor(["plan", "--json"], { cwd: checkout, home: app.home });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect((JSON.parse(result.stdout) as Plan).repo.root).toBe(checkout);
    } finally {
      await app.remove();
      await library.remove();
    }
  });
});

describe("conductor plan hides secrets in prompts as every output of a run does", () => {
  const FILE_SECRET = "file-Secret-93b1c7";
  const ENV_SECRET = "env-Secret-5d02aa";

  it("a value of a copied env file and of a credential-named variable is [redacted], in --json and the table", async () => {
    const secretRepo = await createTestRepo({
      "README.md": "# app\n",
      ".gitignore": ".env.local\n",
      "conductor.yaml": `version: 1
workspaces:
  copy: [.env.local]
tasks:
  - id: deploy
    prompt: "Deploy with ${FILE_SECRET} and ${ENV_SECRET}, then report."
  - id: other
    prompt: "Nothing secret in {{task}}."
`,
    });
    try {
      await secretRepo.write({ ".env.local": `DEPLOY_TOKEN=${FILE_SECRET}\n` });
      const options = {
        cwd: secretRepo.root,
        home: secretRepo.home,
        env: { MY_API_TOKEN: ENV_SECRET },
      };
      const json = await conductor(["plan", "--json"], options);
      expect(json.exitCode, json.stderr).toBe(0);
      const prompts = (JSON.parse(json.stdout) as Plan).workspaces.map((w) => w.prompt);
      expect(prompts).toEqual([
        "Deploy with [redacted] and [redacted], then report.",
        "Nothing secret in other.",
      ]);
      const table = await conductor(["plan", "--estimate"], options);
      expect(table.exitCode, table.stderr).toBe(0);
      for (const output of [json.all, table.all]) {
        expect(output).not.toContain(FILE_SECRET);
        expect(output).not.toContain(ENV_SECRET);
      }
    } finally {
      await secretRepo.remove();
    }
  });
});
