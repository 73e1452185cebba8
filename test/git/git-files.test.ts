// The repository's git config and hooks as conductor's agent checks see them: what counts as a
// change, and how a changed one is put back.
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitFilesChanged, lookAtGitFiles, restoreGitFiles } from "../../src/git/git-files.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { tempDirForTest } from "../helpers/temp-homes.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function repoWithHook(): Promise<{ root: string; hooks: string }> {
  repo = await createTestRepo();
  const hooks = path.join(repo.root, ".git", "hooks");
  writeFileSync(path.join(hooks, "good.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  writeFileSync(path.join(hooks, "evil.sh"), "#!/bin/sh\ntouch /tmp/pwned\n", { mode: 0o755 });
  symlinkSync("good.sh", path.join(hooks, "pre-commit"));
  return { root: repo.root, hooks };
}

describe("git files", () => {
  it("sees a hook link pointed elsewhere, and a config replaced by a link to the same text", async () => {
    const { root, hooks } = await repoWithHook();
    const before = lookAtGitFiles(path.join(root, ".git"));
    unlinkSync(path.join(hooks, "pre-commit"));
    symlinkSync("evil.sh", path.join(hooks, "pre-commit"));
    const config = path.join(root, ".git", "config");
    const copy = path.join(tempDirForTest("git-files-"), "config");
    writeFileSync(copy, readFileSync(config));
    unlinkSync(config);
    symlinkSync(copy, config);
    expect(gitFilesChanged(before, lookAtGitFiles(path.join(root, ".git")))).toEqual([
      "config",
      "hooks/pre-commit",
    ]);
  });

  it("puts back a hook link replaced by a file, and a config with its own mode, keeping what stood there", async () => {
    const { root, hooks } = await repoWithHook();
    const config = path.join(root, ".git", "config");
    chmodSync(config, 0o600);
    const trusted = lookAtGitFiles(path.join(root, ".git"));
    unlinkSync(path.join(hooks, "pre-commit"));
    writeFileSync(path.join(hooks, "pre-commit"), "#!/bin/sh\necho planted\n", { mode: 0o755 });
    writeFileSync(config, `${readFileSync(config, "utf8")}[core]\n\tfsmonitor = /tmp/x.sh\n`);
    chmodSync(config, 0o644);
    const found = lookAtGitFiles(path.join(root, ".git"));
    const changed = gitFilesChanged(trusted, found);
    expect(changed).toEqual(["config", "hooks/pre-commit"]);
    const under = tempDirForTest("git-files-kept-");
    const { restored, keptIn } = restoreGitFiles(trusted, found, changed, under);
    expect(restored).toEqual(changed);
    expect(gitFilesChanged(trusted, lookAtGitFiles(path.join(root, ".git")))).toEqual([]);
    expect(readlinkSync(path.join(hooks, "pre-commit"))).toBe("good.sh");
    expect(lstatSync(config).mode & 0o777).toBe(0o600);
    expect(path.dirname(keptIn ?? "")).toBe(under);
    expect(readFileSync(path.join(keptIn ?? "", "config"), "utf8")).toContain("fsmonitor");
    expect(readFileSync(path.join(keptIn ?? "", "hooks", "pre-commit"), "utf8")).toContain(
      "planted",
    );
  });

  it("keeps what it moves aside in a new folder: a link planted where it keeps things is not followed", async () => {
    const { root, hooks } = await repoWithHook();
    const trusted = lookAtGitFiles(path.join(root, ".git"));
    writeFileSync(path.join(hooks, "post-checkout"), "#!/bin/sh\necho planted\n", { mode: 0o755 });
    const found = lookAtGitFiles(path.join(root, ".git"));
    // An agent that guesses where its run folder keeps things points that place at .git itself.
    const under = tempDirForTest("git-files-kept-");
    symlinkSync(path.join(root, ".git"), path.join(under, "git-files-1"));
    const { restored } = restoreGitFiles(trusted, found, ["hooks/post-checkout"], under);
    expect(restored).toEqual(["hooks/post-checkout"]);
    expect(existsSync(path.join(hooks, "post-checkout"))).toBe(false);
  });

  it("leaves a file that changed again since it was found", async () => {
    const { root } = await repoWithHook();
    const config = path.join(root, ".git", "config");
    const trusted = lookAtGitFiles(path.join(root, ".git"));
    writeFileSync(config, `${readFileSync(config, "utf8")}# agent\n`);
    const found = lookAtGitFiles(path.join(root, ".git"));
    writeFileSync(config, `${readFileSync(config, "utf8")}# someone else, since\n`);
    const under = tempDirForTest("git-files-kept-");
    expect(restoreGitFiles(trusted, found, ["config"], under)).toEqual({
      restored: [],
      keptIn: undefined,
    });
    expect(readFileSync(config, "utf8")).toContain("someone else, since");
  });

  it("watches config.worktree files, each worktree's only where git reads them", async () => {
    repo = await createTestRepo();
    const dir = path.join(repo.root, ".git");
    const worktree = path.join(repo.home, "ws", "one");
    await repo.git("worktree", "add", "-q", "-b", "one", worktree);
    const own = path.join(dir, "worktrees", "one", "config.worktree");
    writeFileSync(own, "[core]\n\tfsmonitor = /tmp/x.sh\n");
    // Without extensions.worktreeConfig git reads no worktree's config.worktree: not looked at.
    expect(lookAtGitFiles(dir).worktreeConfigs?.has("worktrees/one/config.worktree")).toBe(false);
    await repo.git("config", "extensions.worktreeConfig", "true");
    unlinkSync(own);
    const trusted = lookAtGitFiles(dir);
    writeFileSync(own, "[core]\n\tfsmonitor = /tmp/x.sh\n");
    writeFileSync(path.join(dir, "config.worktree"), "[core]\n\tfsmonitor = /tmp/x.sh\n");
    const found = lookAtGitFiles(dir);
    const changed = gitFilesChanged(trusted, found);
    expect(changed).toEqual(["config.worktree", "worktrees/one/config.worktree"]);
    const keep = tempDirForTest("git-files-keep-");
    const { restored, keptIn } = restoreGitFiles(trusted, found, changed, keep);
    expect(restored).toEqual(changed);
    expect(existsSync(own)).toBe(false);
    expect(existsSync(path.join(dir, "config.worktree"))).toBe(false);
    expect(
      readFileSync(path.join(keptIn ?? "", "worktrees", "one", "config.worktree"), "utf8"),
    ).toContain("fsmonitor");
    expect(gitFilesChanged(trusted, lookAtGitFiles(dir))).toEqual([]);
  });

  it("watches info/exclude and info/attributes, and puts back the one changed and takes away the one made", async () => {
    repo = await createTestRepo();
    const dir = path.join(repo.root, ".git");
    const exclude = path.join(dir, "info", "exclude");
    const before = readFileSync(exclude, "utf8");
    const trusted = lookAtGitFiles(dir);
    appendFileSync(exclude, "evil.test.js\n");
    writeFileSync(path.join(dir, "info", "attributes"), "* filter=planted\n");
    const found = lookAtGitFiles(dir);
    const changed = gitFilesChanged(trusted, found);
    expect(changed).toEqual(["info/exclude", "info/attributes"]);
    const { restored, keptIn } = restoreGitFiles(
      trusted,
      found,
      changed,
      tempDirForTest("git-files-keep-"),
    );
    expect(restored).toEqual(changed);
    expect(readFileSync(exclude, "utf8")).toBe(before);
    expect(existsSync(path.join(dir, "info", "attributes"))).toBe(false);
    expect(readFileSync(path.join(keptIn ?? "", "info", "exclude"), "utf8")).toContain("evil");
    expect(readFileSync(path.join(keptIn ?? "", "info", "attributes"), "utf8")).toContain(
      "planted",
    );
    expect(gitFilesChanged(trusted, lookAtGitFiles(dir))).toEqual([]);
  });

  it("makes the info folder again where it was taken away, with its files; takes one away where there was none", async () => {
    repo = await createTestRepo();
    const dir = path.join(repo.root, ".git");
    const info = path.join(dir, "info");
    const before = readFileSync(path.join(info, "exclude"), "utf8");
    const trusted = lookAtGitFiles(dir);
    rmSync(info, { recursive: true });
    const found = lookAtGitFiles(dir);
    const changed = gitFilesChanged(trusted, found);
    expect(changed).toEqual(["info", "info/exclude"]);
    const keep = tempDirForTest("git-files-keep-");
    expect(restoreGitFiles(trusted, found, changed, keep).restored).toEqual(changed);
    expect(readFileSync(path.join(info, "exclude"), "utf8")).toBe(before);

    rmSync(info, { recursive: true });
    const none = lookAtGitFiles(dir);
    mkdirSync(info);
    writeFileSync(path.join(info, "sparse-checkout"), "/nothing\n");
    const made = lookAtGitFiles(dir);
    const added = gitFilesChanged(none, made);
    expect(added).toEqual(["info", "info/sparse-checkout"]);
    expect(restoreGitFiles(none, made, added, keep).restored).toEqual(added);
    expect(existsSync(info)).toBe(false);
  });

  it("never writes through an info folder replaced by a link", async () => {
    repo = await createTestRepo();
    const dir = path.join(repo.root, ".git");
    const info = path.join(dir, "info");
    const trusted = lookAtGitFiles(dir);
    const elsewhere = path.join(tempDirForTest("git-files-elsewhere-"), "info");
    renameSync(info, elsewhere);
    appendFileSync(path.join(elsewhere, "exclude"), "evil.test.js\n");
    const planted = readFileSync(path.join(elsewhere, "exclude"), "utf8");
    symlinkSync(elsewhere, info);
    const found = lookAtGitFiles(dir);
    const changed = gitFilesChanged(trusted, found);
    expect(changed).toEqual(["info", "info/exclude"]);
    const keep = tempDirForTest("git-files-keep-");
    expect(restoreGitFiles(trusted, found, changed, keep).restored).toEqual([]);
    expect(readFileSync(path.join(elsewhere, "exclude"), "utf8")).toBe(planted);
  });
});
