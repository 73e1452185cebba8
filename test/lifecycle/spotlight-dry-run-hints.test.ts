// The commands `spotlight` and `run --dry-run` (with --resume) print work as printed: pasted in
// `/`, far from a repository whose path needs quoting, with the -C and -c the user gave.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { shellQuote } from "../../src/hint/shell-quote.js";
import { gitEnv } from "../helpers/git-repo.js";
import { printedCommands, runAsPrinted } from "./hints.js";

let base: string | undefined;
afterEach(async () => {
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  base = undefined;
});

interface SpacedRepo {
  root: string;
  home: string;
  /** `conductor -C <root> -c ci/tasks.yaml`, quoted as a person types it. */
  prefix: string;
  git(...args: string[]): Promise<string>;
  /** Runs a command line as pasted into a shell in `/`. */
  paste(command: string): ReturnType<typeof runAsPrinted>;
}

/**
 * A repository at a path with a space and quotes, its task set in ci/tasks.yaml: `web` adds
 * web.txt and edits README.md; `api` adds api.txt and fails its check until api.ok exists.
 */
async function spacedRepo(): Promise<SpacedRepo> {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "conductor-hints-")));
  const root = path.join(base, `it's "my" repo`);
  const home = path.join(base, "home");
  await mkdir(path.join(root, "ci"), { recursive: true });
  await mkdir(home);
  const git = async (...args: string[]) =>
    (await execa("git", args, { cwd: root, env: gitEnv(home) })).stdout;
  await git("init", "-q", "-b", "main");
  await git("config", "user.name", "Test");
  await git("config", "user.email", "test@example.com");
  await git("config", "commit.gpgSign", "false");
  await writeFile(path.join(root, "README.md"), "# hints\n");
  await writeFile(
    path.join(root, "ci", "tasks.yaml"),
    stringify({
      version: 1,
      workspaces: { dir: path.join(home, "work spaces") },
      agent: { kind: "command", command: 'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"' },
      scripts: { check: 'test "$CONDUCTOR_TASK_ID" != api || test -f api.ok' },
      tasks: [
        {
          id: "web",
          prompt: "Add web.txt",
          agent: { command: "echo web > web.txt; echo '# hints, with web' > README.md" },
        },
        { id: "api", prompt: "Add api.txt" },
      ],
    }),
  );
  await git("add", "-A");
  await git("commit", "-q", "-m", "initial commit");
  return {
    root,
    home,
    prefix: `conductor -C ${shellQuote(root)} -c ci/tasks.yaml`,
    git,
    paste: (command) => runAsPrinted(command, { cwd: "/", home }),
  };
}

/** The git commands a text prints between backticks. */
function printedGitCommands(text: string): string[] {
  return [...text.matchAll(/`(git [^`]+)`/g)].map((match) => match[1] as string);
}

describe("spotlight's hints work as printed from /", () => {
  it("--off, --off --force, status and a stopped merge's abort", async () => {
    const repo = await spacedRepo();
    const { prefix, paste } = repo;
    const run = await paste(`${prefix} run --output plain`);
    expect(run.exitCode, run.all).toBe(1); // api's check fails

    const shown = await paste(`${prefix} spotlight web`);
    expect(shown.exitCode, shown.all).toBe(0);
    const off = `${prefix} spotlight --off`;
    expect(printedCommands(shown.stdout)).toEqual([off]);
    const state = await paste(`${prefix} spotlight`);
    expect(printedCommands(state.stdout)).toEqual([off]);
    const notice = await paste(`${prefix} status`);
    expect(printedCommands(notice.stderr)).toEqual([off]);

    // Edited while shown: --off refuses and names --off --force, which restores it.
    await writeFile(path.join(repo.root, "README.md"), "# edited meanwhile\n");
    const refused = await paste(off);
    expect(refused.exitCode, refused.all).not.toBe(0);
    expect(printedCommands(refused.stderr)).toEqual([`${prefix} spotlight --off --force`]);
    const forced = await paste(printedCommands(refused.stderr)[0] as string);
    expect(forced.exitCode, forced.all).toBe(0);
    expect(existsSync(path.join(repo.root, "web.txt"))).toBe(false);
    expect(readFileSync(path.join(repo.root, "README.md"), "utf8")).toBe("# hints\n");

    // Off already: the hint names the command that lists what it can show.
    const already = await paste(off);
    expect(already.exitCode, already.all).not.toBe(0);
    const [status] = printedCommands(already.stderr);
    expect(status).toBe(`${prefix} status`);
    const listed = await paste(status as string);
    expect(listed.exitCode, listed.all).toBe(0);
    expect(listed.stdout).toMatch(/^web\s+succeeded/m);

    // A merge stopped on a conflict in the main checkout: the abort it names works from /.
    await repo.git("checkout", "-q", "-b", "other");
    await writeFile(path.join(repo.root, "notes.txt"), "other\n");
    await repo.git("add", "notes.txt");
    await repo.git("commit", "-q", "-m", "other");
    await repo.git("checkout", "-q", "main");
    await writeFile(path.join(repo.root, "notes.txt"), "main\n");
    await repo.git("add", "notes.txt");
    await repo.git("commit", "-q", "-m", "main");
    await expect(repo.git("merge", "-q", "other")).rejects.toThrow();
    const unmerged = await paste(`${prefix} spotlight web`);
    expect(unmerged.exitCode, unmerged.all).not.toBe(0);
    const aborts = printedGitCommands(unmerged.stderr);
    expect(aborts[0]).toBe(`git -C ${shellQuote(repo.root)} merge --abort`);
    const aborted = await paste(aborts[0] as string);
    expect(aborted.exitCode, aborted.all).toBe(0);
    expect(await repo.git("status", "--porcelain")).toBe("");
    const again = await paste(`${prefix} spotlight web`);
    expect(again.exitCode, again.all).toBe(0);
  });
});

describe("run --dry-run's hints work as printed from /", () => {
  it("--resume: two runs named, preflight's --no-preflight, a plan that changed", async () => {
    const repo = await spacedRepo();
    const { prefix, paste } = repo;
    const run = await paste(`${prefix} run --output plain`);
    expect(run.exitCode, run.all).toBe(1);
    const [runId] = readdirSync(path.join(repo.root, ".conductor", "runs")) as [string];

    const dry = await paste(`${prefix} run --dry-run --resume`);
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toContain("(dry run: nothing was created; preflight passed)");

    // Two runs named: the hint's command lists them.
    const twice = await paste(`${prefix} run --dry-run --resume ${runId} --run nope`);
    expect(twice.exitCode, twice.all).toBe(2);
    const [runs] = printedCommands(twice.stderr);
    expect(runs).toBe(`${prefix} runs`);
    const listed = await paste(runs as string);
    expect(listed.exitCode, listed.all).toBe(0);
    expect(listed.stdout).toContain(runId);

    // Preflight refuses (the port registry is a folder): its --no-preflight repeats the dry run.
    const registry = path.join(repo.home, ".conductor", "ports.json");
    await rm(registry, { force: true });
    await mkdir(registry, { recursive: true });
    const refused = await paste(`${prefix} run --dry-run --resume`);
    expect(refused.exitCode, refused.all).toBe(2);
    const skip = printedCommands(refused.stderr).find((command) => command.includes("preflight"));
    expect(skip).toBe(`${prefix} run --resume --dry-run --no-preflight`);
    const skipped = await paste(skip as string);
    expect(skipped.exitCode, skipped.all).toBe(0);
    expect(skipped.stdout).toContain("(dry run: nothing was created)");
    await rm(registry, { recursive: true });

    // The file changed since: the hint starts a new run of the same tasks, which then succeeds.
    await writeFile(path.join(repo.root, "api.ok"), "");
    await repo.git("add", "api.ok");
    await repo.git("commit", "-q", "-m", "api may pass");
    const changed = await paste(`${prefix} run --dry-run --resume`);
    expect(changed.exitCode, changed.all).toBe(2);
    const [fresh] = printedCommands(changed.stderr);
    expect(fresh).toBe(`${prefix} run`);
    const rerun = await paste(`${fresh as string} --output plain`);
    expect(rerun.exitCode, rerun.all).toBe(0);
  });
});
