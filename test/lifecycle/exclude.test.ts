// What conductor hides from git: only its own run state, never the Conductor app's settings.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";

let repo: ReviewRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

function excludeFile(root: string): string {
  return readFileSync(path.join(root, ".git", "info", "exclude"), "utf8");
}

describe(".git/info/exclude", () => {
  it("gets only /.conductor/runs/, so .conductor/settings.toml can be committed", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    await runAll(repo);
    const lines = excludeFile(repo.root).split("\n");
    expect(lines).toContain("/.conductor/runs/");
    expect(lines).not.toContain("/.conductor/");
    await repo.write({ ".conductor/settings.toml": '[scripts]\nsetup = "npm ci"\n' });
    // The app's settings show up to be added; the run state does not.
    expect(await repo.git("status", "--porcelain", "--untracked-files=all")).toBe(
      "?? .conductor/settings.toml",
    );
    await repo.git("add", ".conductor/settings.toml");
    expect(await repo.git("diff", "--cached", "--name-only")).toBe(".conductor/settings.toml");
  });

  it("migrates the /.conductor/ line an older version wrote, and leaves the user's lines alone", async () => {
    repo = await reviewRepo([{ id: "hello" }, { id: "world" }]);
    const file = path.join(repo.root, ".git", "info", "exclude");
    const userLines = "# git ls-files --others --exclude-from=.git/info/exclude\n*.swp\n";
    await repo.write({ ".git/info/exclude": `${userLines}# added by conductor\n/.conductor/\n` });
    await runAll(repo, ["hello"]);
    expect(readFileSync(file, "utf8")).toBe(
      `${userLines}# added by conductor\n/.conductor/runs/\n`,
    );
    await runAll(repo, ["world"]); // a second run adds nothing
    expect(readFileSync(file, "utf8")).toBe(
      `${userLines}# added by conductor\n/.conductor/runs/\n`,
    );
  });

  it("writes into the git folder git names when .git is a file (--separate-git-dir)", async () => {
    repo = await reviewRepo([{ id: "hello" }]);
    const gitDir = path.join(repo.home, "separate.git");
    await repo.git("init", "-q", `--separate-git-dir=${gitDir}`);
    await runAll(repo);
    expect(readFileSync(path.join(gitDir, "info", "exclude"), "utf8").split("\n")).toContain(
      "/.conductor/runs/",
    );
    expect(await repo.git("status", "--porcelain", "--untracked-files=all")).toBe("");
  });
});
