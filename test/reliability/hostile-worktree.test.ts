// What an agent leaves in its worktree, and odd files in the main checkout, never make conductor
// hang or misbehave: FIFOs in place of copied or context files, folders named in `copy`, files
// too large to commit.
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, processesOfRun, repoWithConfig } from "../helpers/run-repo.js";
import { hasStackTrace, killLeftovers, pollUntil, startTracked, stopStarted } from "./rig.js";

/** Longest a command may take here before it counts as hanging (a busy 2-core machine). */
const PROMPT_MS = 20_000;

let repo: TestRepo | undefined;
let runId: string | undefined;
afterEach(async () => {
  stopStarted();
  killLeftovers(runId);
  await repo?.remove();
  repo = undefined;
  runId = undefined;
});

/**
 * Runs `conductor ...args` and fails (killing it) if it has not ended within `limitMs`: what is
 * tested here used to hang, and a hung process must not hold the suite until its timeout.
 */
async function within(args: readonly string[], limitMs = 2 * PROMPT_MS) {
  const current = repo as TestRepo;
  const started = Date.now();
  const child = startTracked(args, { cwd: current.root, home: current.home });
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const result = await child;
  clearTimeout(timer);
  const took = Date.now() - started;
  expect(took, `conductor ${args.join(" ")} hung:\n${result.all}`).toBeLessThan(limitMs);
  return { exitCode: result.exitCode, all: result.all, took };
}

async function run(args: readonly string[] = []) {
  const result = await within(["run", "--output", "plain", ...args]);
  expect(result.exitCode, result.all).toBeLessThan(2);
  runId = latestSummary((repo as TestRepo).root).runId;
  return result;
}

describe("a FIFO planted by the agent", () => {
  it("in place of a copied .env.local: serve starts and stops on Ctrl-C, archive finishes", async () => {
    repo = await repoWithConfig(
      {
        agent: { kind: "command", command: "rm .env.local; mkfifo .env.local; echo x > work.txt" },
        workspaces: { copy: [".env.local"] },
        scripts: { run: 'echo serving; touch "$HOME/serving"; exec sleep 300', archive: "true" },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { ".gitignore": ".env.local\n" },
    );
    await repo.write({ ".env.local": "API_TOKEN=fifo-secret-123456\n" });
    const first = await run();
    expect(first.exitCode, first.all).toBe(0);
    const home = repo.home;
    const serve = startTracked(["serve", "a"], { cwd: repo.root, home });
    await pollUntil(() => existsSync(path.join(home, "serving")), "serve to start", PROMPT_MS);
    serve.kill("SIGINT");
    const served = await serve;
    expect(served.exitCode, served.all).toBe(130);
    const archived = await within(["archive", "a", "--force"]);
    expect(archived.exitCode, archived.all).toBe(0);
  });

  it("in place of a context file: run --resume places the file again instead of hanging", async () => {
    await contextFileReplaced("-p", "mkfifo .context/notes.md");
  });

  it("linked from a context file: run --resume places the file again, never writing through the link", async () => {
    const test = await contextFileReplaced(
      "-L",
      'mkfifo "$HOME/pipe"; ln -s "$HOME/pipe" .context/notes.md',
    );
    expect(lstatSync(path.join(test.home, "pipe")).isFIFO()).toBe(true);
  });

  it("a copied file's folder replaced by a link out of the worktree: run --resume refuses it, writing nothing outside", async () => {
    repo = await repoWithConfig(
      {
        agent: {
          kind: "command",
          command:
            'if [ -f "$HOME/again" ]; then echo x > work.txt; else rm -rf config; mkdir -p "$HOME/elsewhere"; ln -s "$HOME/elsewhere" config; touch "$HOME/again"; exit 1; fi',
        },
        workspaces: { copy: ["config/local.env"] },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { ".gitignore": "config/local.env\n", "config/keep.txt": "kept\n" },
    );
    await repo.write({ "config/local.env": "API_TOKEN=link-secret-123456\n" });
    const first = await run();
    expect(first.exitCode, first.all).toBe(1);
    const resumed = await run(["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(1);
    expect(hasStackTrace(resumed.all)).toBe(false);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure).toMatchObject({ step: "copy" });
    expect(workspace?.failure?.message).toContain("outside the worktree");
    expect(readdirSync(path.join(repo.home, "elsewhere"))).toEqual([]);
  });

  it("the context folder replaced by a link out of the worktree: run --resume refuses it, writing nothing outside", async () => {
    repo = await repoWithConfig(
      {
        agent: {
          kind: "command",
          command:
            'if [ -f "$HOME/again" ]; then echo x > work.txt; else rm -rf .context; mkdir -p "$HOME/elsewhere"; echo mine > "$HOME/elsewhere/notes.md"; ln -s "$HOME/elsewhere" .context; touch "$HOME/again"; exit 1; fi',
        },
        workspaces: { context: ["notes.md"] },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { "notes.md": "the notes\n" },
    );
    const first = await run();
    expect(first.exitCode, first.all).toBe(1);
    const resumed = await run(["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(1);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure?.message).toContain("outside the worktree");
    expect(readFileSync(path.join(repo.home, "elsewhere", "notes.md"), "utf8")).toBe("mine\n");
  });

  it("in the main checkout, linked from a file copy matches: the workspace fails at its copy step, naming it", async () => {
    repo = await repoWithConfig(
      {
        agent: { kind: "command", command: "echo x > work.txt" },
        workspaces: { copy: ["*.env"] },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { ".gitignore": "*.env\npipe\n" },
    );
    // The glob skips a FIFO itself, not a link to one; copying the link would read the FIFO.
    await execa("mkfifo", [path.join(repo.root, "pipe")]);
    symlinkSync("pipe", path.join(repo.root, "local.env"));
    const result = await run();
    expect(result.exitCode, result.all).toBe(1);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure).toMatchObject({ reason: "io-error", step: "copy" });
    expect(workspace?.failure?.message).toContain("local.env is a FIFO, not a regular file");
    expect(hasStackTrace(result.all)).toBe(false);
    expect(processesOfRun(runId as string)).toEqual([]);
  });
});

describe("copy: of a folder", () => {
  it("copies the folder recursively, and none of it is committed", async () => {
    repo = await repoWithConfig(
      {
        agent: {
          kind: "command",
          command: "cat config/local/a.txt config/local/deep/b.txt > seen.txt",
        },
        workspaces: { copy: ["config/local"] },
        tasks: [{ id: "a", prompt: "p" }],
      },
      { ".gitignore": "config/local/\n" },
    );
    mkdirSync(path.join(repo.root, "config", "local", "deep"), { recursive: true });
    await repo.write({ "config/local/a.txt": "one\n", "config/local/deep/b.txt": "two\n" });
    const result = await run();
    expect(result.exitCode, result.all).toBe(0);
    expect(await repo.git("show", "conductor/a:seen.txt")).toBe("one\ntwo");
    const tree = await repo.git("ls-tree", "-r", "--name-only", "conductor/a");
    expect(tree).not.toContain("config/local");
    const worktree = path.join(repo.home, "workspaces", "a");
    expect(readFileSync(path.join(worktree, "config", "local", "deep", "b.txt"), "utf8")).toBe(
      "two\n",
    );
  });
});

describe("files too large to commit", () => {
  it("an 11 MB file fails the workspace at its commit step by default, naming it; nothing is committed", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command: "head -c 11000000 /dev/zero > big.bin; echo ok > small.txt",
      },
      tasks: [{ id: "a", prompt: "p" }],
    });
    const result = await run();
    expect(result.exitCode, result.all).toBe(1);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure).toMatchObject({ reason: "integrity", step: "commit" });
    expect(workspace?.failure?.message).toContain(
      "big.bin (11.0 MB) is larger than workspaces.max_file_size (10.0 MB)",
    );
    expect(await repo.git("rev-parse", "conductor/a")).toBe(await repo.git("rev-parse", "main"));
  });

  it("an 11 MB file the agent commits by itself fails the workspace too, naming it; its commit is kept", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command:
          "head -c 11000000 /dev/zero > big.bin && git add big.bin && git -c user.name=a -c user.email=a@b commit -qm big",
      },
      tasks: [{ id: "a", prompt: "p" }],
    });
    const result = await run();
    expect(result.exitCode, result.all).toBe(1);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure).toMatchObject({ reason: "integrity", step: "agent" });
    expect(workspace?.failure?.message).toContain(
      "the agent committed big.bin (11.0 MB), larger than workspaces.max_file_size (10.0 MB)",
    );
    // Nothing is lost: the agent's commit stays on the branch for the user to look at.
    expect(await repo.git("ls-tree", "--name-only", "conductor/a")).toContain("big.bin");
  });

  it("a resume after the commit failed runs the check again on what it commits, the user's edits included", async () => {
    repo = await repoWithConfig({
      agent: {
        kind: "command",
        command: "head -c 11000000 /dev/zero > big.bin; echo x >> README.md",
      },
      scripts: { check: "! grep -q broken README.md" },
      tasks: [{ id: "a", prompt: "p" }],
    });
    const first = await run();
    expect(first.exitCode, first.all).toBe(1);
    expect(latestSummary(repo.root).workspaces[0]?.failure).toMatchObject({ step: "commit" });
    // The user removes the large file, and in the same worktree breaks what the check looks at.
    const worktree = path.join(repo.home, "workspaces", "a");
    rmSync(path.join(worktree, "big.bin"));
    appendFileSync(path.join(worktree, "README.md"), "broken\n");

    const resumed = await run(["--resume"]);
    expect(resumed.exitCode, resumed.all).toBe(1);
    const [workspace] = latestSummary(repo.root).workspaces;
    expect(workspace?.failure).toMatchObject({ reason: "exit-non-zero", step: "check" });
    // The work is committed all the same, stamped with the verdict on what it holds.
    expect(await repo.git("show", "conductor/a:README.md")).toContain("broken");
    expect(await repo.git("log", "-1", "--format=%B", "conductor/a")).toContain(
      "Conductor-Check: failed",
    );
  });

  it("workspaces.max_file_size raises the limit", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: "head -c 11000000 /dev/zero > big.bin" },
      workspaces: { max_file_size: "20MB" },
      tasks: [{ id: "a", prompt: "p" }],
    });
    const result = await run();
    expect(result.exitCode, result.all).toBe(0);
    expect(await repo.git("ls-tree", "--name-only", "conductor/a")).toContain("big.bin");
  });
});

/**
 * A run whose agent, on its first try, removes its context file `notes.md` and runs `plant` in
 * its place, then fails; a `run --resume` must place the file again (what is there tested with
 * `test <kind>` fails the agent) promptly, and the agent reads it.
 */
async function contextFileReplaced(kind: string, plant: string): Promise<TestRepo> {
  const made = await repoWithConfig(
    {
      agent: {
        kind: "command",
        command: `if [ ${kind} .context/notes.md ]; then exit 1; fi; if [ -f "$HOME/again" ]; then cat .context/notes.md > seen.txt; else rm .context/notes.md; ${plant}; touch "$HOME/again"; exit 1; fi`,
      },
      workspaces: { context: ["notes.md"] },
      tasks: [{ id: "a", prompt: "p" }],
    },
    { "notes.md": "the notes\n" },
  );
  repo = made;
  const first = await run();
  expect(first.exitCode, first.all).toBe(1);
  const resumed = await run(["--resume"]);
  expect(resumed.exitCode, resumed.all).toBe(0);
  expect(resumed.took).toBeLessThan(PROMPT_MS);
  expect(await made.git("show", "conductor/a:seen.txt")).toBe("the notes");
  return made;
}
