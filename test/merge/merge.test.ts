import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { gitEnv } from "../helpers/git-repo.js";
import { type ReviewRepo, reviewRepo, runAll, waitFor } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** The branch of a workspace, from the run's plan. */
async function branchOf(current: ReviewRepo, name: string): Promise<string> {
  const result = await current.cli(["status", "--json"]);
  const summary = JSON.parse(result.stdout) as { workspaces: { name: string; branch: string }[] };
  return summary.workspaces.find((entry) => entry.name === name)?.branch as string;
}

/** What must not change when a merge is refused: refs, HEAD, status and a file's bytes. */
async function snapshot(current: ReviewRepo): Promise<string[]> {
  return [
    await current.git("for-each-ref", "--format=%(refname) %(objectname)"),
    await current.git("rev-parse", "HEAD"),
    await current.git("status", "--porcelain"),
    await readFile(path.join(current.root, "README.md"), "utf8"),
  ];
}

describe("conductor merge", () => {
  it("refuses a workspace that conflicts with the base and leaves the main checkout untouched", async () => {
    repo = await reviewRepo([
      { id: "readme-a", agent: 'printf "# from a\\n" > README.md' },
      { id: "readme-b", agent: 'printf "# from b\\n" > README.md' },
    ]);
    await runAll(repo);
    const first = await repo.cli(["merge", "readme-a"]);
    expect(first.exitCode, first.all).toBe(0);
    const before = await snapshot(repo);
    const refused = await repo.cli(["merge", "readme-b"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("readme-b is not ready to merge; nothing was merged");
    expect(refused.stderr).toContain("conflicts with main in README.md");
    expect(await snapshot(repo)).toEqual(before);
    // --force gets past checks, never past a conflict.
    const forced = await repo.cli(["merge", "readme-b", "--force"]);
    expect(forced.exitCode, forced.all).toBe(1);
    expect(forced.stderr).toContain(
      "readme-b conflicts with main in README.md; nothing was merged",
    );
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(repo.worktree("readme-b"))).toBe(true);
    // The hint's command works as printed: it takes main into the branch, conflict and all.
    const hinted = /`(git -C \S+ merge main)`/.exec(refused.stderr)?.[1] as string;
    expect(hinted).toBe(`git -C ${repo.worktree("readme-b")} merge main`);
    const taken = await execa("sh", ["-c", hinted], { reject: false, env: gitEnv(repo.home) });
    expect(taken.exitCode).toBe(1);
    expect(taken.stdout).toContain("CONFLICT (content): Merge conflict in README.md");
    await writeFile(path.join(repo.worktree("readme-b"), "README.md"), "# from a and b\n");
    await execa("sh", ["-c", `${hinted.replace(/ merge main$/, "")} commit -qam resolved`], {
      env: gitEnv(repo.home),
    });
    const landed = await repo.cli(["merge", "readme-b"]);
    expect(landed.exitCode, landed.all).toBe(0);
    expect(await readFile(path.join(repo.root, "README.md"), "utf8")).toBe("# from a and b\n");
  });

  it("merges a workspace behind its base with a merge commit, updates the clean checkout and archives it", async () => {
    repo = await reviewRepo([{ id: "first" }, { id: "second" }]);
    await runAll(repo);
    const secondBranch = await branchOf(repo, "second");
    const secondHead = (await repo.git("rev-parse", secondBranch)).trim();
    const landedFirst = await repo.cli(["merge", "first"]);
    expect(landedFirst.exitCode, landedFirst.all).toBe(0);
    const afterFirst = (await repo.git("rev-parse", "main")).trim();
    const result = await repo.cli(["merge", "second"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(
      /^merged second \(merge\): main [0-9a-f]{10} → [0-9a-f]{10}; updated the checkout /m,
    );
    expect(result.stdout).toContain(
      `archived second: removed its worktree, deleted branch ${secondBranch}`,
    );
    const parents = (await repo.git("rev-list", "--parents", "-n", "1", "main")).trim().split(" ");
    expect(parents.slice(1)).toEqual([afterFirst, secondHead]);
    // The main checkout had main checked out and clean: it now holds both workspaces' files.
    expect(await readFile(path.join(repo.root, "first.txt"), "utf8")).toBe("first\n");
    expect(await readFile(path.join(repo.root, "second.txt"), "utf8")).toBe("second\n");
    expect(await repo.git("status", "--porcelain")).toBe("");
    expect(existsSync(repo.worktree("second"))).toBe(false);
    expect(await repo.git("branch", "--list", secondBranch)).toBe("");
  });

  it("squashes into one commit that keeps the Conductor trailers, and keeps the branch", async () => {
    repo = await reviewRepo([{ id: "squashed" }], { merge: { method: "squash" } });
    await runAll(repo);
    const worktree = repo.worktree("squashed");
    await writeFile(path.join(worktree, "more.txt"), "more\n");
    await repo.git("-C", worktree, "add", "more.txt");
    // A newer commit judged otherwise than conductor's: its value must be the only one kept.
    await repo.git("-C", worktree, "commit", "-q", "-m", "add more\n\nConductor-Check: failed");
    const base = (await repo.git("rev-parse", "main")).trim();
    const branch = await branchOf(repo, "squashed");
    const result = await repo.cli(["merge", "squashed"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("merged squashed (squash)");
    const parents = (await repo.git("rev-list", "--parents", "-n", "1", "main")).trim().split(" ");
    expect(parents.slice(1)).toEqual([base]);
    const message = await repo.git("log", "-1", "--format=%B", "main");
    expect(message).toContain("Squashed 2 commits of");
    const runId = repo.runIds().at(-1) as string;
    expect(message).toContain(`Conductor-Run: ${runId}`);
    expect(message).toContain("Conductor-Task: squashed");
    expect(message).toContain("Conductor-Workspace: squashed");
    expect(message.match(/^Conductor-Check: .*$/gm)).toEqual(["Conductor-Check: failed"]);
    const trailers = await repo.git("log", "-1", "--format=%(trailers:only)", "main");
    expect(trailers).toContain("Conductor-Task: squashed");
    expect(await readFile(path.join(repo.root, "more.txt"), "utf8")).toBe("more\n");
    // The branch's commits are not in main: the branch keeps them.
    expect((await repo.git("branch", "--list", branch)).trim()).not.toBe("");
    expect(result.stdout).toContain("(its commits were squashed, not merged)");

    // Squashed, its commits are still "ahead" of main, but merging them again changes nothing.
    const squashedMain = (await repo.git("rev-parse", "main")).trim();
    const checks = await repo.cli(["checks", "squashed"]);
    expect(checks.exitCode, checks.all).toBe(1);
    expect(checks.stdout).toContain("its changes are already in main");
    const conflicts = await repo.cli(["conflicts"]);
    expect(conflicts.stdout).toMatch(/squashed: its changes are already in main/);
    expect(conflicts.stdout).not.toMatch(/^\s+1\. squashed$/m);
    for (const method of ["squash", "merge"]) {
      const again = await repo.cli(["merge", "squashed", "--method", method, "--force"]);
      expect(again.exitCode, again.all).toBe(1);
      expect(again.stderr).toContain("are already in main (merged before, e.g. squashed)");
      expect((await repo.git("rev-parse", "main")).trim()).toBe(squashedMain);
    }
  });

  it("refuses, as archive --delete-branch and pr do, while a run of the repository is live: its agents' checks would take the moved refs for theirs", async () => {
    repo = await reviewRepo([{ id: "fast" }, { id: "slow", agent: "sleep 30" }]);
    const live = repo.start(["run", "--output", "plain"]);
    const current = repo;
    await waitFor("fast's commit", () =>
      current
        .git("log", "-1", "--format=%B", "conductor/fast")
        .then((message) => message.includes("Conductor-Workspace: fast"))
        .catch(() => false),
    );
    const base = (await repo.git("rev-parse", "main")).trim();
    const refs = await repo.git("for-each-ref");
    const merged = await repo.cli(["merge", "fast", "--force"]);
    // Deleting its branch and pushing it move refs the same way.
    const archived = await repo.cli(["archive", "fast", "--delete-branch", "--force"]);
    const pushed = await repo.cli(["pr", "fast"]);
    live.kill("SIGTERM");
    await live.catch(() => undefined);
    expect(merged.exitCode, merged.all).toBe(2);
    expect(merged.stderr).toMatch(/run \S+ is still running \(process \d+\); nothing was merged/);
    expect(archived.exitCode, archived.all).toBe(2);
    expect(archived.stderr).toMatch(/is still running .*; nothing was archived/);
    expect(pushed.exitCode, pushed.all).toBe(2);
    expect(pushed.stderr).toMatch(/is still running .*; nothing was pushed/);
    expect((await repo.git("rev-parse", "main")).trim()).toBe(base);
    expect(existsSync(repo.worktree("fast"))).toBe(true);
    expect((await repo.git("for-each-ref", "refs/heads/conductor/fast")).trim()).not.toBe("");
    expect(refs).toContain("refs/heads/conductor/fast");
  });

  it("refuses when the checked-out base has uncommitted changes, changing nothing", async () => {
    repo = await reviewRepo([{ id: "ready" }]);
    await runAll(repo);
    await repo.write({ "README.md": "# edited, not committed\n" });
    const before = await snapshot(repo);
    const result = await repo.cli(["merge", "ready"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("main is checked out in");
    expect(result.stderr).toContain("with uncommitted changes (README.md); nothing was merged");
    expect(await snapshot(repo)).toEqual(before);
    expect(existsSync(repo.worktree("ready"))).toBe(true);
  });

  it("refuses when the base is checked out in a worktree whose .git was pointed at another repository, running none of its config", async () => {
    repo = await reviewRepo([{ id: "ready" }]);
    await runAll(repo);
    await repo.git("switch", "-q", "-c", "side");
    const baseCheckout = path.join(repo.home, "base-checkout");
    await repo.git("worktree", "add", "-q", baseCheckout, "main");
    const fake = path.join(repo.home, "fake-repo");
    await repo.git("init", "-q", fake);
    const mark = path.join(repo.home, "fake-config-ran");
    await writeFile(path.join(repo.home, "mark.sh"), `#!/bin/sh\ntouch '${mark}'\n`, {
      mode: 0o755,
    });
    await repo.git("-C", fake, "config", "core.fsmonitor", path.join(repo.home, "mark.sh"));
    await writeFile(path.join(baseCheckout, ".git"), `gitdir: ${fake}/.git\n`);
    const main = (await repo.git("rev-parse", "main")).trim();
    const result = await repo.cli(["merge", "ready"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain(
      `main is checked out in ${baseCheckout}, whose link to the repository is not as git made it`,
    );
    expect(result.stderr).toContain("nothing was merged");
    expect(existsSync(mark)).toBe(false);
    expect((await repo.git("rev-parse", "main")).trim()).toBe(main);
  });

  it("refuses while the base is being rebased in the main checkout: the rebase would end on a moved branch", async () => {
    // git worktree list shows the checkout as detached, but the rebase sets main when it ends.
    repo = await reviewRepo([{ id: "ready" }]);
    await runAll(repo);
    await repo.write({ "mine.txt": "my work\n" });
    await repo.commitAll("my work");
    await execa("git", ["rebase", "-q", "-i", "HEAD~1"], {
      cwd: repo.root,
      env: { ...gitEnv(repo.home), GIT_SEQUENCE_EDITOR: "sed -i s/^pick/edit/" },
    });
    await repo.write({ "mine.txt": "my work, amended\n" });
    await repo.git("commit", "-qa", "--amend", "-m", "my work, amended");
    const main = (await repo.git("rev-parse", "main")).trim();
    // checks says so before a merge is tried.
    const checks = await repo.cli(["checks", "ready"]);
    expect(checks.stdout).toContain("ready (conductor/ready): ready, with warnings");
    expect(checks.stdout).toContain(
      `warn   main is being rebased in ${repo.root}: a local merge waits until you finish the rebase (\`git -C ${repo.root} rebase --continue\`)`,
    );
    const refused = await repo.cli(["merge", "ready"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain(`main is being rebased in ${repo.root}; nothing was merged`);
    expect(refused.stderr).toContain(`git -C ${repo.root} rebase --continue`);
    expect((await repo.git("rev-parse", "main")).trim()).toBe(main);
    // The rebase ends as it would have: main takes the amended commit.
    await execa("git", ["rebase", "--continue"], { cwd: repo.root, env: gitEnv(repo.home) });
    expect(await repo.git("log", "-1", "--format=%s", "main")).toBe("my work, amended");
    const merged = await repo.cli(["merge", "ready"]);
    expect(merged.exitCode, merged.all).toBe(0);
  });

  it("moves a base branch that is not checked out without touching the checkout's files", async () => {
    repo = await reviewRepo([{ id: "elsewhere" }]);
    await runAll(repo);
    await repo.git("switch", "-q", "-c", "side");
    const result = await repo.cli(["merge", "elsewhere", "--method", "ff"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).not.toContain("updated the checkout");
    expect(await repo.git("show", "main:elsewhere.txt")).toBe("elsewhere");
    expect(existsSync(path.join(repo.root, "elsewhere.txt"))).toBe(false);
    expect(await repo.git("status", "--porcelain")).toBe("");
  });

  it("refuses a fast-forward once the base moved on", async () => {
    repo = await reviewRepo([{ id: "late" }]);
    await runAll(repo);
    await repo.write({ "other.txt": "on main\n" });
    await repo.commitAll("main moves on");
    const before = await snapshot(repo);
    const result = await repo.cli(["merge", "late", "--method", "ff"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("main cannot fast-forward");
    expect(await snapshot(repo)).toEqual(before);
  });

  it("refuses when the merge would overwrite an untracked file of the checked-out base", async () => {
    repo = await reviewRepo([{ id: "ready" }]);
    await runAll(repo);
    await repo.write({ "ready.txt": "mine, untracked\n" });
    const main = (await repo.git("rev-parse", "main")).trim();
    const result = await repo.cli(["merge", "ready"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("git would not update its files");
    expect(result.stderr).toContain("nothing was merged");
    expect((await repo.git("rev-parse", "main")).trim()).toBe(main);
    expect(await readFile(path.join(repo.root, "ready.txt"), "utf8")).toBe("mine, untracked\n");
  });

  it("refuses when the merge would overwrite an ignored file of the checked-out base", async () => {
    // git read-tree and git merge replace ignored files without asking: a local config is lost.
    repo = await reviewRepo([
      {
        id: "cfg",
        agent: 'echo "from agent" > local.cfg && git add -f local.cfg && git commit -qm "add cfg"',
      },
    ]);
    await repo.write({ ".gitignore": ".env.local\nlocal.cfg\n" });
    await repo.commitAll("ignore local.cfg");
    await runAll(repo);
    await repo.write({ "local.cfg": "MY LOCAL SECRET CONFIG\n" });
    const before = await snapshot(repo);
    const checks = await repo.cli(["checks", "cfg"]);
    expect(checks.exitCode, checks.all).toBe(1);
    expect(checks.stdout).toContain(`would overwrite ignored files of ${repo.root}`);
    expect(checks.stdout).toContain("local.cfg");
    const refused = await repo.cli(["merge", "cfg"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("cfg is not ready to merge; nothing was merged");
    expect(refused.stderr).toContain("local.cfg");
    // --force gets past checks, never past a file it would overwrite.
    expect(refused.stderr).not.toContain("--force");
    const forced = await repo.cli(["merge", "cfg", "--force"]);
    expect(forced.exitCode, forced.all).toBe(1);
    expect(forced.stderr).toMatch(/merging cfg would overwrite ignored files of .* local\.cfg/);
    expect(forced.stderr).toContain("nothing was merged");
    expect(forced.stderr).toContain("Move them out of the way");
    expect(await snapshot(repo)).toEqual(before);
    expect(await readFile(path.join(repo.root, "local.cfg"), "utf8")).toBe(
      "MY LOCAL SECRET CONFIG\n",
    );
    expect(existsSync(repo.worktree("cfg"))).toBe(true);
    // Moved away, the file no longer stands in the way.
    await rename(path.join(repo.root, "local.cfg"), path.join(repo.root, "local.cfg.mine"));
    const landed = await repo.cli(["merge", "cfg"]);
    expect(landed.exitCode, landed.all).toBe(0);
    expect(await readFile(path.join(repo.root, "local.cfg"), "utf8")).toBe("from agent\n");
  });

  it("refuses when the branch turns a tracked folder holding an ignored file of the checked-out base into a file", async () => {
    // git read-tree removes the folder for the file, the ignored file in it without a word.
    repo = await reviewRepo([
      { id: "flatten", agent: 'git rm -rq config && echo "now a file" > config' },
    ]);
    await repo.write({
      ".gitignore": ".env.local\nconfig/local.yml\nconfig/cache/\n",
      "config/app.yml": "a\n",
    });
    await repo.commitAll("config folder");
    await runAll(repo);
    await repo.write({
      "config/local.yml": "MY LOCAL SECRET CONFIG\n",
      "config/cache/deep/a.bin": "cached\n",
    });
    const before = await snapshot(repo);
    const checks = await repo.cli(["checks", "flatten"]);
    expect(checks.exitCode, checks.all).toBe(1);
    // A folder of ignored files is named once, not file by file.
    expect(checks.stdout).toMatch(/ignored files of .*: (config\/cache|config\/local\.yml), /);
    expect(checks.stdout).toContain("config/local.yml");
    expect(checks.stdout).toContain("config/cache");
    expect(checks.stdout).not.toContain("config/cache/deep");
    const forced = await repo.cli(["merge", "flatten", "--force"]);
    expect(forced.exitCode, forced.all).toBe(1);
    expect(forced.stderr).toMatch(/would overwrite ignored files of .* config\/local\.yml/);
    expect(await snapshot(repo)).toEqual(before);
    expect(await readFile(path.join(repo.root, "config", "local.yml"), "utf8")).toBe(
      "MY LOCAL SECRET CONFIG\n",
    );
    // Moved away, nothing stands in the way: the folder holds only what git tracks.
    await rename(path.join(repo.root, "config", "local.yml"), path.join(repo.root, "local.yml"));
    await rename(path.join(repo.root, "config", "cache"), path.join(repo.root, "cache"));
    const landed = await repo.cli(["merge", "flatten"]);
    expect(landed.exitCode, landed.all).toBe(0);
    expect(await readFile(path.join(repo.root, "config"), "utf8")).toBe("now a file\n");
  });

  it("refuses a workspace whose check failed unless --force", async () => {
    repo = await reviewRepo([{ id: "failing", check: "exit 1" }]);
    await runAll(repo);
    const main = (await repo.git("rev-parse", "main")).trim();
    const refused = await repo.cli(["merge", "failing"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toMatch(
      /failing is not ready to merge; nothing was merged:\n\s+check failed/,
    );
    expect(refused.stderr).toContain("conductor merge failing --run");
    expect((await repo.git("rev-parse", "main")).trim()).toBe(main);
    const forced = await repo.cli(["merge", "failing", "--force"]);
    expect(forced.exitCode, forced.all).toBe(0);
    expect(await repo.git("show", "main:failing.txt")).toBe("failing");
  });

  it("does not offer --force for a workspace whose branch is gone: it would merge nothing", async () => {
    repo = await reviewRepo([{ id: "gone" }]);
    await runAll(repo);
    const archived = await repo.cli(["archive", "gone", "--delete-branch", "--force"]);
    expect(archived.exitCode, archived.all).toBe(0);
    const refused = await repo.cli(["merge", "gone"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("branch conductor/gone is gone");
    expect(refused.stderr).not.toContain("--force");
  });

  it("merges a workspace archived before (its branch kept) and says only what it did", async () => {
    repo = await reviewRepo([{ id: "kept" }]);
    await runAll(repo);
    expect((await repo.cli(["archive", "kept"])).exitCode).toBe(0);
    const merged = await repo.cli(["merge", "kept"]);
    expect(merged.exitCode, merged.all).toBe(0);
    expect(merged.stdout).toContain("archived kept: deleted branch conductor/kept");
    expect(merged.stdout).not.toContain("removed its worktree");
    expect(await repo.git("show", "main:kept.txt")).toBe("kept");
  });

  it("checks every workspace before landing any: one refused means none merged", async () => {
    repo = await reviewRepo([{ id: "ready" }, { id: "failing", check: "exit 1" }]);
    await runAll(repo);
    const before = await snapshot(repo);
    const refused = await repo.cli(["merge", "ready", "failing"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("failing is not ready to merge; nothing was merged");
    expect(refused.stdout).not.toContain("merged ready");
    expect(await snapshot(repo)).toEqual(before);
  });

  it("prints hints that name the run it read, so they act on that run", async () => {
    repo = await reviewRepo([{ id: "ready" }]);
    await runAll(repo);
    const runId = repo.runIds().at(-1) as string;
    const checks = await repo.cli(["checks", "--run", runId]);
    expect(checks.stdout).toContain(`conductor merge ready --run ${runId}`);
    const conflicts = await repo.cli(["conflicts", "--run", runId]);
    expect(conflicts.stdout).toContain(`conductor merge ready --run ${runId}`);
  });
});
