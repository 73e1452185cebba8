// Hints that name a command of another config file, or repeat the options given, work as
// printed: pasted in `/`, far from a repository whose path needs quoting, with the -C and -c the
// user gave (or the run's own -c where the run came from another file).
import { readdirSync } from "node:fs";
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
  /** `conductor -C <root>`, quoted as a person types it. */
  conductor: string;
  git(...args: string[]): Promise<string>;
  /** Runs a command line as pasted into a shell in `/`. */
  paste(command: string): ReturnType<typeof runAsPrinted>;
  /** The ids of the runs so far, oldest first. */
  runIds(): string[];
}

/**
 * A repository at a path with a space and quotes, with two task sets: ci/tasks.yaml (`web`) and
 * ci/other.yaml, whose `api` fails its check until $HOME/api.ok exists and whose `docs` waits for it.
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
  const agent = {
    kind: "command",
    command: 'echo "$CONDUCTOR_TASK_ID" > "$CONDUCTOR_TASK_ID.txt"',
  };
  await writeFile(
    path.join(root, "ci", "tasks.yaml"),
    stringify({
      version: 1,
      workspaces: { dir: path.join(home, "work spaces") },
      agent,
      tasks: [{ id: "web", prompt: "Add web.txt" }],
    }),
  );
  await writeFile(
    path.join(root, "ci", "other.yaml"),
    stringify({
      version: 1,
      workspaces: { dir: path.join(home, "other spaces") },
      agent,
      scripts: {
        check: `test "$CONDUCTOR_TASK_ID" != api || test -f ${shellQuote(path.join(home, "api.ok"))}`,
      },
      tasks: [
        { id: "api", prompt: "Add api.txt" },
        { id: "docs", prompt: "Add docs.txt", depends_on: ["api"] },
      ],
    }),
  );
  await git("add", "-A");
  await git("commit", "-q", "-m", "initial commit");
  return {
    root,
    home,
    conductor: `conductor -C ${shellQuote(root)}`,
    git,
    paste: (command) => runAsPrinted(command, { cwd: "/", home }),
    runIds: () => readdirSync(path.join(root, ".conductor", "runs")).sort(),
  };
}

describe("plan --matrix with an option it does not take", () => {
  it.each([
    [["--shard", "1/2"], "plan --shard 1/2"],
    [["--estimate"], "plan --estimate"],
    [["--shard", "2/2", "--estimate"], "plan --shard 2/2 --estimate"],
  ])("%j: both commands it names work from /", async (args, other) => {
    const repo = await spacedRepo();
    const prefix = `${repo.conductor} -c ci/tasks.yaml`;
    const refused = await repo.paste(`${prefix} plan --matrix 2 ${args.join(" ")}`);
    expect(refused.exitCode, refused.all).toBe(2);
    const hints = printedCommands(refused.stderr);
    expect(hints).toEqual([`${prefix} plan --matrix 2`, `${prefix} ${other}`]);
    const matrix = await repo.paste(hints[0] as string);
    expect(matrix.exitCode, matrix.all).toBe(0);
    expect(JSON.parse(matrix.stdout)).toEqual({ include: [{ shard: "1/2" }, { shard: "2/2" }] });
    const plan = await repo.paste(hints[1] as string);
    expect(plan.exitCode, plan.all).toBe(0);
  });
});

describe("a hint about a run of another config file names that file", () => {
  it("spotlight --run of a workspace never created: its run --resume resumes the run", async () => {
    const repo = await spacedRepo();
    const tasks = `${repo.conductor} -c ci/tasks.yaml`;
    const other = `${repo.conductor} -c ci/other.yaml`;
    const run = await repo.paste(`${other} run --output plain`);
    expect(run.exitCode, run.all).toBe(1); // api's check fails; docs waits for it
    const [runId] = repo.runIds() as [string];

    // Asked with the -c of the other task set: the resume names the run's own file.
    const refused = await repo.paste(`${tasks} spotlight docs --run ${runId}`);
    expect(refused.exitCode, refused.all).not.toBe(0);
    expect(refused.stderr).toContain("workspace docs has no worktree");
    const [resume] = printedCommands(refused.stderr);
    expect(resume).toBe(`${other} run --resume ${runId}`);
    await writeFile(path.join(repo.home, "api.ok"), "");
    const resumed = await repo.paste(`${resume as string} --output plain`);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(repo.runIds()).toEqual([runId]);

    // Asked with the run's own -c, the -c stays as given.
    await rm(path.join(repo.home, "api.ok"));
    const again = await repo.paste(`${other} run --output plain`);
    expect(again.exitCode, again.all).toBe(1);
    const latest = repo.runIds().at(-1) as string;
    const own = await repo.paste(`${other} spotlight docs --run ${latest}`);
    expect(printedCommands(own.stderr)).toEqual([`${other} run --resume ${latest}`]);
  });

  it("status --run of it: the next steps' run --resume resumes the run", async () => {
    const repo = await spacedRepo();
    const tasks = `${repo.conductor} -c ci/tasks.yaml`;
    const other = `${repo.conductor} -c ci/other.yaml`;
    const run = await repo.paste(`${other} run --output plain`);
    expect(run.exitCode, run.all).toBe(1);
    const [runId] = repo.runIds() as [string];

    const status = await repo.paste(`${tasks} status --run ${runId}`);
    expect(status.exitCode, status.all).toBe(0);
    const hints = printedCommands(status.stdout);
    expect(hints).toContain(`${tasks} logs api --run ${runId}`);
    expect(hints).toContain(`${other} run --resume ${runId}`);
    expect(hints.filter((hint) => hint.includes("run --resume"))).toEqual([
      `${other} run --resume ${runId}`,
    ]);
    const logs = await repo.paste(`${tasks} logs api --run ${runId}`);
    expect(logs.exitCode, logs.all).toBe(0);
    await writeFile(path.join(repo.home, "api.ok"), "");
    const resume = hints.find((hint) => hint.includes("run --resume")) as string;
    const resumed = await repo.paste(`${resume} --output plain`);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(repo.runIds()).toEqual([runId]);
  });
});

describe("a run of one file in the way of another file's plan", () => {
  it("the archive printed names the run's file from -C, also when -C is relative", async () => {
    const repo = await spacedRepo();
    const tasks = `${repo.conductor} -c ci/tasks.yaml`;
    const run = await repo.paste(`${tasks} run --output plain`);
    expect(run.exitCode, run.all).toBe(0);
    const [runId] = repo.runIds() as [string];
    // web's work is merged: archiving its workspace with --delete-branch loses nothing.
    await repo.git("merge", "-q", "--no-edit", "conductor/web");
    await writeFile(
      path.join(repo.root, "ci", "same.yaml"),
      stringify({
        version: 1,
        workspaces: { dir: path.join(repo.home, "work spaces") },
        agent: { kind: "command", command: "echo again > again.txt" },
        tasks: [{ id: "web", prompt: "Add web.txt again" }],
      }),
    );
    await repo.git("add", "-A");
    await repo.git("commit", "-q", "-m", "a second task set");

    // From the folder above the repository, -C names it relative to there.
    const above = path.dirname(repo.root);
    const paste = (command: string) => runAsPrinted(command, { cwd: above, home: repo.home });
    const relative = `conductor -C ${shellQuote(path.basename(repo.root))}`;
    const refused = await paste(`${relative} -c ci/same.yaml run --output plain`);
    expect(refused.exitCode, refused.all).not.toBe(0);
    expect(refused.stderr).toContain("belong to runs of another config file");
    const [archive] = printedCommands(refused.stderr);
    expect(archive).toBe(`${relative} -c ci/tasks.yaml archive web --run ${runId} --delete-branch`);
    const archived = await paste(archive as string);
    expect(archived.exitCode, archived.all).toBe(0);
    const again = await paste(`${relative} -c ci/same.yaml run --output plain`);
    expect(again.exitCode, again.all).toBe(0);
  });
});
