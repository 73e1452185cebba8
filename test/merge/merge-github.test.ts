import { existsSync } from "node:fs";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { shellQuote } from "../../src/hint/shell-quote.js";
import {
  authStatus,
  checkRun,
  type GhScenario,
  installGh,
  prMerge,
  prView,
  pullRequest,
  reviewThreadsAndDeployments,
  scenarios,
} from "../helpers/gh-stand-in.js";
import { gitEnv } from "../helpers/git-repo.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const BRANCH = "conductor/feature";

interface Published {
  repo: ReviewRepo;
  /** The bare repository standing for GitHub. */
  origin: string;
  head: string;
  mainBefore: string;
}

/** A finished workspace whose branch and main are pushed to a bare origin (GitHub's copy). */
async function published(): Promise<Published> {
  repo = await reviewRepo([{ id: "feature", check: "test -f feature.txt" }]);
  await runAll(repo);
  const origin = path.join(repo.home, "origin.git");
  await execa("git", ["init", "-q", "--bare", "-b", "main", origin]);
  await repo.git("remote", "add", "origin", origin);
  await repo.git("push", "-q", "origin", "main", BRANCH);
  return {
    repo,
    origin,
    head: await repo.git("rev-parse", BRANCH),
    mainBefore: await repo.git("rev-parse", "main"),
  };
}

async function originRef(origin: string, ref: string): Promise<string> {
  return (await execa("git", ["--git-dir", origin, "rev-parse", ref])).stdout;
}

/** What GitHub does on "Merge pull request": a merge commit of the PR's head on main. */
function githubMergeCommit(origin: string): string {
  const git = `git -c user.name=GitHub -c user.email=noreply@github.com --git-dir='${origin}'`;
  return `${git} update-ref refs/heads/main "$(${git} commit-tree -p refs/heads/main -p refs/heads/${BRANCH} -m 'Merge pull request #7' 'refs/heads/${BRANCH}^{tree}')"`;
}

/** What GitHub does on "Squash and merge": one commit of the PR's tree on main. */
function githubSquashCommit(origin: string): string {
  const git = `git -c user.name=GitHub -c user.email=noreply@github.com --git-dir='${origin}'`;
  return `${git} update-ref refs/heads/main "$(${git} commit-tree -p refs/heads/main -m 'Add a feature (#7)' 'refs/heads/${BRANCH}^{tree}')"`;
}

/** An open PR at `head` with green CI, approved, nothing unresolved; `merge` answers. */
function greenPullRequest(head: string, merge?: ReturnType<typeof prMerge>): GhScenario {
  return {
    rules: [
      authStatus(true),
      prView(
        BRANCH,
        pullRequest({
          headRefName: BRANCH,
          headRefOid: head,
          reviewDecision: "APPROVED",
          statusCheckRollup: [checkRun("build", "SUCCESS")],
        }),
      ),
      reviewThreadsAndDeployments([]),
      ...(merge ? [merge] : []),
    ],
  };
}

describe("conductor merge through a pull request", () => {
  it("merges an open, green PR with gh pr merge at the branch's head, then brings main along", async () => {
    const { repo, origin, head, mainBefore } = await published();
    const gh = await installGh(
      repo.home,
      greenPullRequest(head, prMerge(7, "merge", githubMergeCommit(origin))),
    );
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    const merged = await originRef(origin, "main");
    expect(result.stdout).toContain(
      "merged feature through PR #7 (merge): https://github.com/acme/widgets/pull/7\n",
    );
    expect(result.stdout).toContain(
      `main ${mainBefore.slice(0, 10)} → ${merged.slice(0, 10)} (fast-forwarded to origin/main); updated the checkout ${repo.root}\n`,
    );
    expect(result.stdout).toContain(
      "archived feature: removed its worktree, deleted branch conductor/feature",
    );
    const calls = (await gh.calls()).map((call) => call.args);
    expect(calls.filter((args) => args[1] === "merge")).toEqual([
      ["pr", "merge", "7", "--merge", "--match-head-commit", head],
    ]);
    expect(await gh.unmatched()).toEqual([]);
    // Nothing lost: GitHub's merge holds the branch's head, main is GitHub's, the files are there.
    expect(await repo.git("rev-parse", "main")).toBe(merged);
    expect(await repo.git("rev-list", "--parents", "-1", "main")).toContain(head);
    expect(existsSync(path.join(repo.root, "feature.txt"))).toBe(true);
    expect(await repo.git("status", "--porcelain")).toBe("");
    expect(await originRef(origin, BRANCH)).toBe(head);
  });

  it("squashes through GitHub with --squash and keeps the local branch", async () => {
    const { repo, origin, head } = await published();
    const gh = await installGh(
      repo.home,
      greenPullRequest(head, prMerge(7, "squash", githubSquashCommit(origin))),
    );
    const result = await repo.cli(["merge", "feature", "--method", "squash"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("merged feature through PR #7 (squash)");
    expect(result.stdout).toContain("kept branch conductor/feature");
    expect(
      (await gh.calls()).map((call) => call.args).filter((args) => args[1] === "merge"),
    ).toEqual([["pr", "merge", "7", "--squash", "--match-head-commit", head]]);
    expect(await repo.git("rev-parse", BRANCH)).toBe(head);
    expect(await repo.git("rev-parse", "main")).toBe(await originRef(origin, "main"));
  });

  it("pushes commits GitHub lacks first (no force), then merges that head", async () => {
    const { repo, origin, head } = await published();
    // One more commit on the branch after the PR was opened.
    await writeFile(path.join(repo.worktree("feature"), "more.txt"), "more\n");
    await execa("git", ["add", "more.txt"], { cwd: repo.worktree("feature") });
    await execa("git", ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "more"], {
      cwd: repo.worktree("feature"),
    });
    const newHead = await repo.git("rev-parse", BRANCH);
    const gh = await installGh(
      repo.home,
      greenPullRequest(head, prMerge(7, "merge", githubMergeCommit(origin))),
    );
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "merged feature through PR #7 (merge, pushed the branch first)",
    );
    expect(await originRef(origin, BRANCH)).toBe(newHead);
    expect((await gh.calls()).find((call) => call.args[1] === "merge")?.args).toEqual([
      "pr",
      "merge",
      "7",
      "--merge",
      "--match-head-commit",
      newHead,
    ]);
    expect(await repo.git("rev-list", "--parents", "-1", "main")).toContain(newHead);
  });

  it("refuses when GitHub has commits the branch lacks: nothing pushed, nothing merged", async () => {
    const { repo, origin, head, mainBefore } = await published();
    const theirs = "e".repeat(40);
    const gh = await installGh(repo.home, greenPullRequest(theirs, prMerge(7, "merge")));
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain(
      "feature: PR #7 has commits on GitHub that conductor/feature lacks (GitHub's head is eeeeeeeeee); nothing was merged",
    );
    expect(result.stderr).toContain(
      `git -C ${repo.worktree("feature")} pull --no-rebase origin conductor/feature`,
    );
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    expect(await originRef(origin, BRANCH)).toBe(head);
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    expect(existsSync(repo.worktree("feature"))).toBe(true);
  });

  it("refuses to push onto a fork's PR head (named main here): origin's main and branches stay", async () => {
    const { repo, origin, head, mainBefore } = await published();
    await writeFile(path.join(repo.worktree("feature"), "more.txt"), "more\n");
    await execa("git", ["add", "more.txt"], { cwd: repo.worktree("feature") });
    await execa("git", ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "more"], {
      cwd: repo.worktree("feature"),
    });
    const forkPr = pullRequest({
      headRefName: "main",
      headRefOid: head,
      isCrossRepository: true,
      reviewDecision: "APPROVED",
      statusCheckRollup: [checkRun("build", "SUCCESS")],
    });
    const gh = await installGh(repo.home, {
      rules: [
        authStatus(true),
        prView(BRANCH, forkPr),
        reviewThreadsAndDeployments([]),
        prMerge(7, "merge", githubMergeCommit(origin)),
      ],
    });
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain(
      "feature: PR #7 comes from a fork; conductor pushes only to origin, so nothing was pushed or merged",
    );
    expect(result.stderr).toContain(
      "git push <fork remote> refs/heads/conductor/feature:refs/heads/main",
    );
    // Started with -C: the push names the repository, to work from where the user is.
    const elsewhere = await repo.cli(["-C", repo.root, "merge", "feature"], { PATH: gh.path });
    expect(elsewhere.exitCode, elsewhere.all).toBe(1);
    expect(elsewhere.stderr).toContain(
      `git -C ${shellQuote(repo.root)} push <fork remote> refs/heads/conductor/feature:refs/heads/main`,
    );
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    expect(await originRef(origin, "main")).toBe(mainBefore);
    expect(await originRef(origin, BRANCH)).toBe(head);
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
  });

  it("refuses to push when the PR's head branch is its base branch", async () => {
    const { repo, origin, head, mainBefore } = await published();
    await writeFile(path.join(repo.worktree("feature"), "more.txt"), "more\n");
    await execa("git", ["add", "more.txt"], { cwd: repo.worktree("feature") });
    await execa("git", ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-qm", "more"], {
      cwd: repo.worktree("feature"),
    });
    const gh = await installGh(repo.home, {
      rules: [
        authStatus(true),
        prView(
          BRANCH,
          pullRequest({
            headRefName: "main",
            headRefOid: head,
            reviewDecision: "APPROVED",
            statusCheckRollup: [checkRun("build", "SUCCESS")],
          }),
        ),
        reviewThreadsAndDeployments([]),
        prMerge(7, "merge"),
      ],
    });
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("head branch is its base main; pushing would move main");
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    expect(await originRef(origin, "main")).toBe(mainBefore);
  });

  it("refuses a PR with a failing CI check before anything moves", async () => {
    const { repo, origin, head, mainBefore } = await published();
    const scenario = scenarios.failingAndPassingChecks(BRANCH, head);
    scenario.rules.push(prMerge(7, "merge", githubMergeCommit(origin)));
    const gh = await installGh(repo.home, scenario);
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("feature is not ready to merge; nothing was merged:");
    expect(result.stderr).toContain("1 of 2 CI checks passed; failing: test");
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    expect(await originRef(origin, "main")).toBe(mainBefore);
  });

  it("refuses a PR with unresolved review comments", async () => {
    const { repo, head, mainBefore } = await published();
    const gh = await installGh(repo.home, scenarios.unresolvedComments(BRANCH, head));
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("2 unresolved review comments: src/app.ts:12");
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    expect(await gh.unmatched()).toEqual([]);
  });

  it("with the PR merged on GitHub already, merges nothing more and archives", async () => {
    const { repo, origin, head } = await published();
    await execa("sh", ["-c", githubMergeCommit(origin)]);
    const gh = await installGh(repo.home, scenarios.merged(BRANCH, head));
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "feature: PR #7 was merged on GitHub already: https://github.com/acme/widgets/pull/7",
    );
    expect(result.stdout).toContain("(fast-forwarded to origin/main)");
    expect(result.stdout).toContain("deleted branch conductor/feature");
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    expect(await repo.git("rev-parse", "main")).toBe(await originRef(origin, "main"));
  });

  it("never overwrites an ignored file of the checkout when bringing main along", async () => {
    const { repo, origin, head, mainBefore } = await published();
    // The user keeps a file of their own at feature.txt, ignored only in this clone.
    await appendFile(path.join(repo.root, ".git", "info", "exclude"), "feature.txt\n");
    await writeFile(path.join(repo.root, "feature.txt"), "mine, ignored\n");
    const gh = await installGh(
      repo.home,
      greenPullRequest(head, prMerge(7, "merge", githubMergeCommit(origin))),
    );
    const refused = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("feature is not ready to merge; nothing was merged");
    expect(refused.stderr).toMatch(/would overwrite ignored files of .*: feature\.txt/);
    expect((await gh.calls()).some((call) => call.args[1] === "merge")).toBe(false);
    // Forced, GitHub merges (no file of this clone changes there); main stays as it is.
    const forced = await repo.cli(["merge", "feature", "--force"], { PATH: gh.path });
    expect(forced.exitCode, forced.all).toBe(0);
    expect(forced.stdout).toContain("merged feature through PR #7 (merge)");
    expect(forced.stdout).toContain(
      `main left as it is: fast-forwarding it would overwrite ignored files of ${repo.root}, where it is checked out: feature.txt; move them out of the way, then run git merge --ff-only origin/main there`,
    );
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    expect(await repo.git("status", "--porcelain")).toBe("");
    expect(await readFile(path.join(repo.root, "feature.txt"), "utf8")).toBe("mine, ignored\n");
  });

  it("leaves main as it is while it is being rebased in the main checkout", async () => {
    const { repo, origin, head, mainBefore } = await published();
    // Paused on its last commit; when the rebase ends it sets main from where main was.
    await execa("git", ["rebase", "-q", "-i", "HEAD~1"], {
      cwd: repo.root,
      env: { ...gitEnv(repo.home), GIT_SEQUENCE_EDITOR: "sed -i s/^pick/edit/" },
    });
    const gh = await installGh(
      repo.home,
      greenPullRequest(head, prMerge(7, "merge", githubMergeCommit(origin))),
    );
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("merged feature through PR #7 (merge)");
    expect(result.stdout).toContain(
      `main is being rebased in ${repo.root}: left as it is (finish the rebase (\`git -C ${repo.root} rebase --continue\`) or abort it (\`git -C ${repo.root} rebase --abort\`), then run git merge --ff-only origin/main there)`,
    );
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    await execa("git", ["rebase", "--continue"], { cwd: repo.root, env: gitEnv(repo.home) });
    expect(await repo.git("merge", "--ff-only", "origin/main")).toContain("Fast-forward");
  });

  it("a PR merged into another base (develop) leaves the run's base main where it was", async () => {
    const { repo, origin, head, mainBefore } = await published();
    const git = `git -c user.name=GitHub -c user.email=noreply@github.com --git-dir='${origin}'`;
    await execa("sh", [
      "-c",
      `${git} update-ref refs/heads/develop "$(${git} commit-tree -p refs/heads/main -p refs/heads/${BRANCH} -m 'Merge pull request #7' 'refs/heads/${BRANCH}^{tree}')"`,
    ]);
    const gh = await installGh(repo.home, {
      rules: [
        authStatus(true),
        prView(
          BRANCH,
          pullRequest({
            headRefName: BRANCH,
            headRefOid: head,
            baseRefName: "develop",
            state: "MERGED",
            reviewDecision: "APPROVED",
            statusCheckRollup: [checkRun("build", "SUCCESS")],
          }),
        ),
        reviewThreadsAndDeployments([]),
      ],
    });
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("GitHub merged it into develop; main left as it is\n");
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
    expect(await repo.git("status", "--porcelain")).toBe("");
    expect(existsSync(path.join(repo.root, "feature.txt"))).toBe(false);
  });

  it("an old merged PR of a reused branch name is not this work's: merges locally instead", async () => {
    const { repo, origin, head, mainBefore } = await published();
    // An earlier run's PR of conductor/feature, merged long ago at a commit this branch lacks.
    const gh = await installGh(repo.home, scenarios.merged(BRANCH, "d".repeat(40)));
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).not.toContain("merged on GitHub already");
    expect(result.stdout).toContain("merged feature (merge): main");
    expect(await repo.git("rev-list", "--parents", "-1", "main")).toContain(head);
    expect(await repo.git("rev-parse", "main")).not.toBe(mainBefore);
    expect(await originRef(origin, "main")).toBe(mainBefore);
  });

  it("will not fast-forward through GitHub: ff with a PR is refused with the working choices", async () => {
    const { repo, head, mainBefore } = await published();
    const gh = await installGh(repo.home, greenPullRequest(head));
    const result = await repo.cli(["merge", "feature", "--method", "ff"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr).toContain(
      "feature: GitHub cannot fast-forward PR #7; nothing was merged",
    );
    expect(result.stderr).toContain("--method merge");
    expect(await repo.git("rev-parse", "main")).toBe(mainBefore);
  });

  it("without gh, merges locally", async () => {
    const { repo, head } = await published();
    const gh = await installGh(repo.home, undefined);
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("merged feature (merge): main");
    expect(await repo.git("rev-list", "--parents", "-1", "main")).toContain(head);
  });

  it("with gh logged out, merges locally and asks GitHub nothing more", async () => {
    const { repo, origin, head, mainBefore } = await published();
    const gh = await installGh(repo.home, scenarios.loggedOut());
    const result = await repo.cli(["merge", "feature"], { PATH: gh.path });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("merged feature (merge): main");
    expect((await gh.calls()).every((call) => call.args.join(" ") === "auth status")).toBe(true);
    expect(await repo.git("rev-list", "--parents", "-1", "main")).toContain(head);
    expect(await originRef(origin, "main")).toBe(mainBefore);
  });
});
