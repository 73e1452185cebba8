import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, readOr, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const PROMPT = "Add a feature flag for dark mode\n\nUse the existing settings store.";

/**
 * A PATH holding only node and git (and, when given, a `gh` script): on this PATH, gh is
 * absent whatever the machine has installed.
 */
async function pathWith(home: string, gh?: string): Promise<string> {
  const bin = path.join(home, "bin");
  await mkdir(bin, { recursive: true });
  const git = (await execa("sh", ["-c", "command -v git"])).stdout.trim();
  await symlink(process.execPath, path.join(bin, "node"));
  await symlink(git, path.join(bin, "git"));
  if (gh !== undefined) {
    await writeFile(path.join(bin, "gh"), gh);
    await chmod(path.join(bin, "gh"), 0o755);
  }
  return bin;
}

/**
 * A stand-in for the GitHub CLI (shell builtins only: the PATH has nothing else): records each call's arguments (one per line), keeps the body
 * file, answers `auth status` with `authExit` and `pr create` with a pull request URL.
 */
function fakeGh(authExit: number): string {
  return `#!/bin/sh
{ for arg in "$@"; do printf '%s\\n' "$arg"; done; echo ---; } >> "$HOME/gh-calls"
if [ "$1 $2" = "auth status" ]; then exit ${authExit}; fi
if [ "$1 $2" = "pr create" ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" = "--body-file" ]; then
      while IFS= read -r line; do printf '%s\\n' "$line"; done < "$2" > "$HOME/pr-body.md"
    fi
    shift
  done
  echo "Creating pull request..." >&2
  echo "https://github.com/acme/widgets/pull/7"
fi
`;
}

async function bareOrigin(current: ReviewRepo): Promise<string> {
  const remote = path.join(current.home, "origin.git");
  await execa("git", ["init", "-q", "--bare", remote]);
  await current.git("remote", "add", "origin", remote);
  return remote;
}

async function remoteBranches(remote: string): Promise<string> {
  return (await execa("git", ["--git-dir", remote, "for-each-ref", "--format=%(refname)"])).stdout;
}

describe("conductor pr", () => {
  it("without gh, prints the push and compare commands and pushes nothing", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
    const bin = await pathWith(repo.home);
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("gh (the GitHub CLI) is not installed, so nothing was pushed");
    expect(result.stdout).toContain("feature: Add a feature flag for dark mode\n");
    expect(result.stdout).toContain("\n  git push -u origin conductor/feature\n");
    expect(result.stdout).toContain(
      "https://github.com/acme/widgets/compare/main...conductor/feature?expand=1",
    );
    expect(await repo.git("for-each-ref", "refs/remotes")).toBe("");
    expect(await repo.git("config", "--get-regexp", "^branch\\.").catch(() => "")).toBe("");
    // The description is ready for whoever opens the pull request.
    const body = readOr(path.join(repo.runDir(), "workspaces", "feature", "pr.md"));
    expect(body).toContain("Use the existing settings store.");
    expect(body).toContain("wrote feature.txt");
    expect(body).toContain("✅ passed: `true`");
  });

  it("without gh and with a remote that is not on GitHub, pushes nothing and names the branches", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain("git push -u origin conductor/feature");
    expect(result.stdout).toContain(
      `then open a pull request from conductor/feature into main on ${remote}`,
    );
    expect(await remoteBranches(remote)).toBe("");
  });

  it("with no origin remote, says so and prints what to run", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const result = await repo.cli(["pr", "feature"], { PATH: await pathWith(repo.home) });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("the repository has no origin remote, so nothing was pushed");
    expect(result.stdout).toContain("git remote add origin <url of the repository>");
    expect(result.stdout).toContain("git push -u origin conductor/feature");
  });

  it("with gh logged in, pushes the branch and opens the pull request from the task", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }], { scripts: { check: "true" } });
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const bin = await pathWith(repo.home, fakeGh(0));
    const result = await repo.cli(["pr", "feature", "--draft"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe(
      "feature: pushed conductor/feature, opened https://github.com/acme/widgets/pull/7",
    );
    expect(await remoteBranches(remote)).toBe("refs/heads/conductor/feature");
    expect(await repo.git("rev-parse", "conductor/feature")).toBe(
      (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"])).stdout,
    );
    expect(await repo.git("config", "branch.conductor/feature.remote")).toBe("origin");
    const calls = readOr(path.join(repo.home, "gh-calls")).split("---\n");
    expect(calls[0]).toBe("auth\nstatus\n");
    expect(calls[1]?.split("\n")).toEqual([
      "pr",
      "create",
      "--head",
      "conductor/feature",
      "--base",
      "main",
      "--title",
      "Add a feature flag for dark mode",
      "--body-file",
      path.join(repo.runDir(), "workspaces", "feature", "pr.md"),
      "--draft",
      "",
    ]);
    const body = readOr(path.join(repo.home, "pr-body.md"));
    expect(body).toContain(
      "### Task\n\nAdd a feature flag for dark mode\n\nUse the existing settings store.",
    );
    expect(body).toContain("### Agent's final message\n\nwrote feature.txt");
    expect(body).toContain("### Check\n\n✅ passed: `true`");
  });

  it("never force-pushes: a rejected push opens nothing and leaves the remote as it was", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    // Someone else pushed a different conductor/feature first.
    const other = await repo.git("commit-tree", "main^{tree}", "-p", "main", "-m", "their work");
    await repo.git("push", "-q", "origin", `${other}:refs/heads/conductor/feature`);
    const theirs = (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"]))
      .stdout;
    const bin = await pathWith(repo.home, fakeGh(0));
    const result = await repo.cli(["pr", "feature"], { PATH: bin });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("git push of conductor/feature failed");
    expect(result.stderr).toContain("conductor never force-pushes");
    expect(
      (await execa("git", ["--git-dir", remote, "rev-parse", "conductor/feature"])).stdout,
    ).toBe(theirs);
    expect(readOr(path.join(repo.home, "gh-calls"))).not.toContain("create");
  });

  it("with gh not logged in, falls back to printing the commands", async () => {
    repo = await reviewRepo([{ id: "feature", prompt: PROMPT }]);
    await runAll(repo);
    const remote = await bareOrigin(repo);
    const result = await repo.cli(["pr", "feature"], {
      PATH: await pathWith(repo.home, fakeGh(1)),
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "gh is not logged in (run `gh auth login`), so nothing was pushed",
    );
    expect(await remoteBranches(remote)).toBe("");
  });

  it("refuses a workspace that did not succeed unless --force", async () => {
    repo = await reviewRepo([{ id: "broken", prompt: PROMPT, check: "exit 1" }]);
    await runAll(repo);
    await repo.git("remote", "add", "origin", "https://github.com/acme/widgets.git");
    const bin = await pathWith(repo.home);
    const refused = await repo.cli(["pr", "broken"], { PATH: bin });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("broken did not succeed (failed: check failed (exit 1))");
    const forced = await repo.cli(["pr", "broken", "--force"], { PATH: bin });
    expect(forced.exitCode, forced.all).toBe(0);
    expect(forced.stdout).toContain("git push -u origin conductor/broken");
    expect(readOr(path.join(repo.runDir(), "workspaces", "broken", "pr.md"))).toContain(
      "❌ failed: `exit 1`",
    );
  });
});
