// Hints printed around re-running carry the -c in use, so they work as printed.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo } from "../review/rig.js";
import { printedCommands, runAsPrinted } from "./hints.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** A repository whose task set lives in other.yaml only. */
async function otherConfigRepo(): Promise<ReviewRepo> {
  const current = await reviewRepo([{ id: "hello" }]);
  const config = path.join(current.root, "conductor.yaml");
  await writeFile(path.join(current.root, "other.yaml"), await readFile(config, "utf8"));
  await current.git("rm", "-q", "conductor.yaml");
  await current.git("add", "other.yaml");
  await current.git("commit", "-q", "-m", "only other.yaml");
  return current;
}

describe("re-run hints work as printed", () => {
  it("an unknown task names `conductor -c other.yaml plan`, which lists the tasks", async () => {
    repo = await otherConfigRepo();
    const refused = await repo.cli(["-c", "other.yaml", "run", "nosuch", "--output", "plain"]);
    expect(refused.exitCode, refused.all).toBe(2);
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe("conductor -c other.yaml plan");
    const shown = await runAsPrinted(hint as string, { cwd: repo.root, home: repo.home });
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("hello");
  });

  it("a missing -c file's hint writes that very file, from where the user is", async () => {
    repo = await otherConfigRepo();
    const refused = await repo.cli(["-c", "missing.yaml", "plan"]);
    expect(refused.exitCode, refused.all).toBe(2);
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe("conductor -c missing.yaml init");
    const written = await runAsPrinted(hint as string, { cwd: repo.root, home: repo.home });
    expect(written.exitCode, written.all).toBe(0);
    expect(await readFile(path.join(repo.root, "missing.yaml"), "utf8")).toContain("tasks:");
  });

  it("an empty -c file's hint writes a starter in its place, from outside with -C", async () => {
    repo = await otherConfigRepo();
    await writeFile(path.join(repo.root, "empty.yaml"), "");
    const outside = { cwd: repo.home, home: repo.home };
    const refused = await runAsPrinted(`conductor -C ${repo.root} -c empty.yaml plan`, outside);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain("is empty");
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe(`conductor -C ${repo.root} -c empty.yaml init --force`);
    const written = await runAsPrinted(hint as string, outside);
    expect(written.exitCode, written.all).toBe(0);
    expect(await readFile(path.join(repo.root, "empty.yaml"), "utf8")).toContain("tasks:");
    const planned = await runAsPrinted(`conductor -C ${repo.root} -c empty.yaml plan`, outside);
    expect(planned.exitCode, planned.all).toBe(0);
  });

  it("with no runs yet, the hint to start one carries -c", async () => {
    repo = await otherConfigRepo();
    const refused = await repo.cli(["-c", "other.yaml", "status", "--run", "nosuch"]);
    expect(refused.exitCode, refused.all).not.toBe(0);
    const [hint] = printedCommands(refused.stderr);
    expect(hint).toBe("conductor -c other.yaml run");
  });

  it("after the plan changed, the new run a resume names is of the same tasks and shard", async () => {
    repo = await reviewRepo([{ id: "bad", check: "exit 1" }, { id: "other" }, { id: "third" }]);
    const failed = await repo.cli(["run", "bad", "other", "--shard", "1/2", "--output", "plain"]);
    expect(failed.exitCode, failed.all).toBe(1);
    const runId = repo.runIds().at(-1) as string;
    await repo.write({ "NEWS.md": "the base moved on\n" });
    await repo.commitAll("the base moves on");
    const refused = await repo.cli(["run", "--resume", runId]);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain(`the plan changed since run ${runId} started`);
    expect(refused.stderr).toMatch(/: the base main moved \([0-9a-f]{10} → [0-9a-f]{10}\)\./);
    const [fresh] = printedCommands(refused.stderr);
    expect(fresh).toBe("conductor run bad other --shard 1/2");
    // As printed (plain output, to read it), it plans what the resumed run planned.
    const planned = await runAsPrinted(fresh?.replace(" run ", " plan ") as string, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(planned.exitCode, planned.all).toBe(0);
    expect(planned.stdout).toMatch(/^1 workspace \(of 3\), shard 1\/2 from main/);
  });
  it("a shard's closing hints name its run, so they still work after the next shard ran", async () => {
    repo = await reviewRepo([
      { id: "bad", check: "exit 1" },
      { id: "good", check: "true" },
    ]);
    // Each shard holds one of the two tasks; one of the two runs fails, the other succeeds.
    const first = await repo.cli(["run", "--shard", "1/2", "--output", "plain"]);
    const firstRun = repo.runIds().at(-1) as string;
    const second = await repo.cli(["run", "--shard", "2/2", "--output", "plain"]);
    const secondRun = repo.runIds().at(-1) as string;
    expect(secondRun).not.toBe(firstRun);
    expect([first.exitCode, second.exitCode].sort(), first.all + second.all).toEqual([0, 1]);
    const printed = [...printedCommands(first.stdout), ...printedCommands(second.stdout)];
    // The succeeded shard's review hint and the failed shard's `logs` hint, each with its run.
    const review = printed.filter((command) => /^conductor (status|logs) /.test(command));
    expect(review.length, printed.join("\n")).toBeGreaterThanOrEqual(2);
    for (const command of review) expect(command).toMatch(/ --run \S+/);
    // Pasted after both shards ran, the first shard's hint reads the first shard's run: its
    // workspace's log, or its status. Without `--run` it would read the second shard's.
    const firstTask = first.exitCode === 1 ? "bad" : "good";
    const hint = printedCommands(first.stdout).find((command) =>
      /^conductor (status|logs) /.test(command),
    ) as string;
    expect(hint).toContain(`--run ${firstRun}`);
    const shown = await runAsPrinted(hint, { cwd: repo.root, home: repo.home });
    expect(shown.exitCode, shown.all).toBe(0);
    if (hint.startsWith("conductor status")) expect(shown.stdout).toContain(firstTask);
    else expect(hint).toMatch(new RegExp(`^conductor logs ${firstTask} `));
    const unnamed = await runAsPrinted(hint.replace(` --run ${firstRun}`, ""), {
      cwd: repo.root,
      home: repo.home,
    });
    expect(unnamed.all).not.toBe(shown.all);
  });
  it("a branch in the way of the plan's: the rename printed works as pasted, quoted and from outside with -C", async () => {
    // A quote and a dollar in the branch names, as git allows them.
    repo = await reviewRepo([{ id: "a" }], { workspaces: { branch: "wip/o'neil$x/{{task}}" } });
    await repo.git("branch", "wip/o'neil$x");
    const outside = { cwd: repo.home, home: repo.home };
    const refused = await runAsPrinted(`conductor -C ${repo.root} run --output plain`, outside);
    expect(refused.exitCode, refused.all).toBe(2);
    const rename = /`(git [^`]+ <new-name>)`/.exec(refused.stderr)?.[1] as string;
    expect(rename, refused.stderr).toBeDefined();
    const renamed = await runAsPrinted(rename.replace("<new-name>", "aside"), outside);
    expect(renamed.exitCode, renamed.all).toBe(0);
    expect(await repo.git("branch", "--list", "aside")).toContain("aside");
    const ran = await runAsPrinted(`conductor -C ${repo.root} run --output plain`, outside);
    expect(ran.exitCode, ran.all).toBe(0);
  });
  it("an agent whose program is missing is not sent a follow-up: both printed ways work", async () => {
    // A setup script may install what the agent runs, so preflight leaves the agent's program
    // to the run.
    repo = await reviewRepo([{ id: "tool", agent: "fetch-tool-xyz --fix" }], {
      scripts: { setup: "true" },
    });
    const failed = await repo.cli(["run", "--output", "plain"]);
    expect(failed.exitCode, failed.all).toBe(1);
    const printed = printedCommands(failed.stdout);
    expect(printed.some((command) => command.startsWith("conductor continue"))).toBe(false);
    const resume = printed.find((command) => command.startsWith("conductor run --resume"));
    const again = printed.find((command) => command === "conductor run tool");
    expect(resume, failed.stdout).toBeDefined();
    expect(again, failed.stdout).toBeDefined();

    // Installed (on the PATH a pasted command sees), the resume runs it.
    await mkdir(path.join(repo.home, "bin"), { recursive: true });
    await writeFile(
      path.join(repo.home, "bin", "fetch-tool-xyz"),
      "#!/bin/sh\necho fixed > tool.txt\n",
      {
        mode: 0o755,
      },
    );
    const resumed = await runAsPrinted(`${resume} --output plain`, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);

    // Or agent.command fixed in the file: the task runs again as a new run.
    await rm(path.join(repo.home, "bin", "fetch-tool-xyz"));
    const config = path.join(repo.root, "conductor.yaml");
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace("fetch-tool-xyz --fix", "echo fixed > tool.txt"),
    );
    await repo.commitAll("fix the agent command");
    const rerun = await runAsPrinted(`${again} --output plain`, {
      cwd: repo.root,
      home: repo.home,
    });
    expect(rerun.exitCode, rerun.all).toBe(0);
  });
});
