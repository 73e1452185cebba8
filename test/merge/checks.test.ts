import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckId, CheckItem, WorkspaceChecks } from "../../src/merge/checks.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

interface ChecksRun {
  exitCode: number;
  byName: Record<string, WorkspaceChecks>;
}

async function checks(current: ReviewRepo, args: string[] = []): Promise<ChecksRun> {
  const result = await current.cli(["checks", "--json", ...args]);
  expect([0, 1], result.all).toContain(result.exitCode);
  const parsed = JSON.parse(result.stdout) as { workspaces: WorkspaceChecks[] };
  return {
    exitCode: result.exitCode,
    byName: Object.fromEntries(parsed.workspaces.map((entry) => [entry.name, entry])),
  };
}

function item(entry: WorkspaceChecks | undefined, id: CheckId): CheckItem | undefined {
  return entry?.items.find((candidate) => candidate.id === id);
}

describe("conductor checks", () => {
  it("passes a clean, checked workspace and exits 0; text names the merge command", async () => {
    repo = await reviewRepo([{ id: "tidy", check: "test -f tidy.txt" }]);
    await runAll(repo);
    const { exitCode, byName } = await checks(repo);
    expect(exitCode).toBe(0);
    const tidy = byName.tidy;
    expect(tidy?.blocked).toBe(false);
    expect(item(tidy, "uncommitted")?.level).toBe("pass");
    expect(item(tidy, "ahead")).toMatchObject({ level: "pass", reason: "1 commit ahead of main" });
    expect(item(tidy, "behind")).toMatchObject({ level: "pass", reason: "up to date with main" });
    expect(item(tidy, "check-script")?.level).toBe("pass");
    expect(item(tidy, "check-script")?.reason).toMatch(/^check passed on the branch's head/);
    expect(item(tidy, "review")).toMatchObject({ level: "info", reason: "not reviewed" });
    expect(item(tidy, "added-markers")?.level).toBe("pass");
    expect(item(tidy, "conflicts")).toMatchObject({ level: "pass" });
    expect(item(tidy, "github")?.level).toBe("info");
    const text = await repo.cli(["checks"]);
    expect(text.exitCode, text.all).toBe(0);
    expect(text.stdout).toContain("tidy (");
    expect(text.stdout).toContain("1 of 1 workspace ready to merge.");
    expect(text.stdout).toContain("Merge it with: conductor merge tidy");
  });

  it("blocks a worktree with uncommitted changes and exits 1", async () => {
    repo = await reviewRepo([{ id: "dirty" }]);
    await runAll(repo);
    await writeFile(path.join(repo.worktree("dirty"), "later.txt"), "not committed\n");
    const { exitCode, byName } = await checks(repo, ["dirty"]);
    expect(exitCode).toBe(1);
    expect(item(byName.dirty, "uncommitted")).toMatchObject({ level: "block" });
    expect(item(byName.dirty, "uncommitted")?.reason).toContain("later.txt");
  });

  it("finds TODO, console.log and .only( on lines the diff adds, with their line numbers", async () => {
    repo = await reviewRepo([
      {
        id: "markers",
        agent:
          'printf "const a = 1;\\n// TODO: tidy up\\nconsole.log(a);\\n" > app.js; printf "it.only(\\"x\\", () => {});\\n" > app.test.js',
      },
    ]);
    // A TODO already on main is not the workspace's doing.
    await repo.write({ "old.js": "// TODO: old\n" });
    await repo.commitAll("an old TODO");
    await runAll(repo);
    const { exitCode, byName } = await checks(repo);
    expect(exitCode).toBe(1);
    const markers = item(byName.markers, "added-markers");
    expect(markers?.level).toBe("block"); // .only( would skip the rest of the suite
    expect(markers?.reason).toBe(
      "3 added lines with markers: app.js:2 TODO, app.js:3 console.log, app.test.js:1 .only(",
    );
  });

  it("is not fooled by an added line that reads like a diff header: the .only( after it still blocks", async () => {
    // `++ /dev/null` comes out of git diff -U0 as `+++ /dev/null`, which looked like a new file.
    repo = await reviewRepo([
      {
        id: "disguised",
        agent: 'printf "++ /dev/null\\nit.only(\\"x\\", () => {});\\n" > app.test.js',
      },
    ]);
    await runAll(repo);
    const { exitCode, byName } = await checks(repo);
    expect(exitCode).toBe(1);
    const markers = item(byName.disguised, "added-markers");
    expect(markers?.level).toBe("block");
    expect(markers?.reason).toBe("1 added line with markers: app.test.js:2 .only(");
  });

  it("warns that a workspace is behind its base after another one landed", async () => {
    repo = await reviewRepo([{ id: "first" }, { id: "second" }]);
    await runAll(repo);
    const before = await checks(repo);
    await repo.git("merge", "--no-ff", "--no-edit", before.byName.first?.branch as string);
    const { byName } = await checks(repo, ["second"]);
    expect(item(byName.second, "behind")).toMatchObject({
      level: "warn",
      reason: "2 commits behind main (it moved since the branch started)",
    });
    expect(item(byName.second, "conflicts")?.level).toBe("pass");
    expect(byName.second?.blocked).toBe(false);
  });

  it("blocks a failed check, and a check that ran before the branch moved only warns", async () => {
    repo = await reviewRepo([
      { id: "broken", check: "echo no; exit 3" },
      { id: "moved", check: "true" },
    ]);
    await runAll(repo);
    const worktree = repo.worktree("moved");
    await writeFile(path.join(worktree, "extra.txt"), "after the check\n");
    await repo.git("-C", worktree, "add", "extra.txt");
    await repo.git("-C", worktree, "commit", "-q", "-m", "a commit the check never saw");
    const { exitCode, byName } = await checks(repo);
    expect(exitCode).toBe(1);
    expect(item(byName.broken, "check-script")?.level).toBe("block");
    expect(item(byName.broken, "check-script")?.reason).toMatch(/^check failed/);
    expect(item(byName.moved, "check-script")?.level).toBe("warn");
    expect(item(byName.moved, "check-script")?.reason).toMatch(
      /^check passed on [0-9a-f]{10}, not on the head/,
    );
  });

  it("blocks a workspace whose record says its check passed where conductor's commit says it failed, and merge refuses it", async () => {
    repo = await reviewRepo([{ id: "forged", agent: "echo bad > bad.txt", check: "exit 1" }]);
    await runAll(repo);
    // What an agent of a later step could append to the run's record (it is a file in the
    // repository): the check passed on the commit at the branch's head, the workspace succeeded.
    const runDir = repo.runDir();
    const runId = path.basename(runDir);
    const head = (await repo.git("rev-parse", "conductor/forged")).trim();
    const time = new Date().toISOString();
    const forged = [
      {
        type: "step.finished",
        workspace: "forged",
        step: "check",
        status: "succeeded",
        durationMs: 1,
        result: { step: "check", passed: true },
      },
      {
        type: "step.finished",
        workspace: "forged",
        step: "commit",
        status: "succeeded",
        durationMs: 1,
        result: { step: "commit", commit: head },
      },
      { type: "workspace.finished", workspace: "forged", status: "succeeded", durationMs: 1 },
    ].map((event) => JSON.stringify({ ...event, time, runId }));
    await appendFile(path.join(runDir, "events.jsonl"), `${forged.join("\n")}\n`);
    const { exitCode, byName } = await checks(repo, ["forged"]);
    expect(exitCode).toBe(1);
    expect(item(byName.forged, "check-script")).toMatchObject({ level: "block" });
    expect(item(byName.forged, "check-script")?.reason).toContain(
      "says `Conductor-Check: failed`: the record was changed after conductor wrote it",
    );
    const before = (await repo.git("rev-parse", "main")).trim();
    const merged = await repo.cli(["merge", "forged"]);
    expect(merged.exitCode, merged.all).not.toBe(0);
    expect((await repo.git("rev-parse", "main")).trim()).toBe(before);
  });

  it("cross-checks the commit a record names even when it is no longer the head", async () => {
    repo = await reviewRepo([{ id: "later", agent: "echo bad > bad.txt", check: "exit 1" }]);
    await runAll(repo);
    // conductor's commit (Conductor-Check: failed) is no longer the head: a commit made after it.
    const later = repo.worktree("later");
    const checkedCommit = (await repo.git("rev-parse", "conductor/later")).trim();
    await writeFile(path.join(later, "extra.txt"), "after the run\n");
    await repo.git("-C", later, "add", "extra.txt");
    await repo.git("-C", later, "commit", "-q", "-m", "a commit made after the run");
    const runDir = repo.runDir();
    const runId = path.basename(runDir);
    const time = new Date().toISOString();
    const forge = (workspace: string, commit: string) =>
      [
        {
          type: "step.finished",
          workspace,
          step: "check",
          status: "succeeded",
          durationMs: 1,
          result: { step: "check", passed: true },
        },
        {
          type: "step.finished",
          workspace,
          step: "commit",
          status: "succeeded",
          durationMs: 1,
          result: { step: "commit", commit },
        },
        { type: "workspace.finished", workspace, status: "succeeded", durationMs: 1 },
      ].map((event) => JSON.stringify({ ...event, time, runId }));
    await appendFile(
      path.join(runDir, "events.jsonl"),
      `${forge("later", checkedCommit).join("\n")}\n`,
    );
    const { exitCode, byName } = await checks(repo, ["later"]);
    expect(exitCode).toBe(1);
    expect(item(byName.later, "check-script")).toMatchObject({ level: "block" });
    expect(item(byName.later, "check-script")?.reason).toContain(
      `conductor's commit ${checkedCommit.slice(0, 10)} says \`Conductor-Check: failed\`: the record was changed`,
    );
  });

  it("does not take a follow-up whose check passed on unchanged work for a changed record", async () => {
    const flag = path.join(await mkdtemp(path.join(os.tmpdir(), "conductor-flag-")), "pass");
    // The first check fails; after the flag appears, a follow-up that changes nothing passes it:
    // the commit step makes nothing new, so the branch ends in the commit whose trailer says failed.
    repo = await reviewRepo([
      { id: "again", agent: "test -f bad.txt || echo bad > bad.txt", check: `test -f ${flag}` },
    ]);
    await runAll(repo);
    const failed = (await repo.git("log", "-1", "--format=%B", "conductor/again")).trim();
    expect(failed).toContain("Conductor-Check: failed");
    await writeFile(flag, "");
    const followUp = await repo.cli(["continue", "again", "check it again", "--output", "plain"]);
    expect(followUp.exitCode, followUp.all).toBe(0);
    const { byName } = await checks(repo, ["again"]);
    expect(item(byName.again, "check-script")?.reason).not.toContain("the record was changed");
    expect(item(byName.again, "check-script")).toMatchObject({ level: "pass" });
    await rm(path.dirname(flag), { recursive: true, force: true });
  });

  it("reads a review's verdict: open P1 findings block, a correct patch passes", async () => {
    repo = await reviewRepo([{ id: "reviewed" }, { id: "approved" }]);
    await runAll(repo);
    const dir = (name: string) => path.join(repo?.runDir() as string, "workspaces", name);
    await writeFile(
      path.join(dir("reviewed"), "review.json"),
      JSON.stringify({
        overall_correctness: "patch is incorrect",
        findings: [
          { title: "[P1] Off by one", priority: 1 },
          { title: "[P3] Naming", priority: 3 },
        ],
      }),
    );
    await writeFile(
      path.join(dir("approved"), "review.json"),
      JSON.stringify({ verdict: "correct", findings: [] }),
    );
    const { byName } = await checks(repo);
    expect(item(byName.reviewed, "review")).toEqual({
      id: "review",
      level: "block",
      reason: "review says the patch is incorrect; open findings: 1 P1, 1 P3",
    });
    expect(item(byName.approved, "review")).toMatchObject({ level: "pass" });
  });
});
