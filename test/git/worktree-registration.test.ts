import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { CheckoutHook } from "../../src/git/checkout-hook.js";
import {
  addWorktree,
  CHECKOUT_PENDING,
  listWorktrees,
  unlockMissingPendingCheckout,
} from "../../src/git/worktree.js";
import { worktreeLinkChanges } from "../../src/git/worktree-link.js";
import {
  canRegisterDirectly,
  registerWorktree,
  removeStagedFolder,
  WorktreeFolderTakenError,
} from "../../src/git/worktree-registration.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { addFirstWorkspace } from "../helpers/workspace-worktree.js";

/** The registration files of the worktree whose git folder is `admin`, as text. */
function registration(admin: string, worktree: string): Record<string, string> {
  const read = (file: string) => readFileSync(file, "utf8");
  return {
    HEAD: read(path.join(admin, "HEAD")),
    commondir: read(path.join(admin, "commondir")),
    gitdir: read(path.join(admin, "gitdir")),
    locked: read(path.join(admin, "locked")),
    ".git": read(path.join(worktree, ".git")),
  };
}

describe("a worktree's registration written directly, as git's add writes it", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("writes byte for byte what `git worktree add --no-checkout --lock` writes, and git takes it as its own", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    mkdirSync(ws);
    await repo.git(
      ...["worktree", "add", "--quiet", "--no-checkout", "--lock", "--reason", CHECKOUT_PENDING],
      ...["-b", "by-git", path.join(ws, "by-git")],
    );
    await repo.git("branch", "ours");
    const ours = path.join(ws, "ours");
    const admin = registerWorktree(common, ours, "refs/heads/ours", CHECKOUT_PENDING);

    expect(admin).toBe(path.join(common, "worktrees", "ours"));
    const byGit = registration(path.join(common, "worktrees", "by-git"), path.join(ws, "by-git"));
    const swap = (text: string) => text.replaceAll("by-git", "ours");
    expect(registration(admin, ours)).toEqual(
      Object.fromEntries(Object.entries(byGit).map(([file, text]) => [file, swap(text)])),
    );
    // git lists it locked for the checkout, on its branch; the link check finds it as git made it.
    const listed = (await listWorktrees(repo.root)).find((entry) => entry.path === ours);
    expect(listed).toEqual({
      path: ours,
      branch: "ours",
      prunable: false,
      locked: CHECKOUT_PENDING,
    });
    expect(worktreeLinkChanges(common, ours)).toEqual([]);
    await repo.git("-C", ours, "reset", "--hard", "--quiet");
    expect(await repo.git("-C", ours, "status", "--porcelain")).toBe("");
    await repo.git("worktree", "unlock", ours);
    await repo.git("worktree", "remove", ours);
    expect(existsSync(ours)).toBe(false);
    expect(existsSync(admin)).toBe(false);
  });

  it("records the real path of a worktree reached through a symlinked folder, as git does", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const real = path.join(path.dirname(repo.root), "real-ws");
    const linked = path.join(path.dirname(repo.root), "linked-ws");
    mkdirSync(real);
    symlinkSync(real, linked);
    await repo.git("branch", "one");
    const admin = registerWorktree(common, path.join(linked, "one"), "refs/heads/one", "x");
    expect(readFileSync(path.join(admin, "gitdir"), "utf8")).toBe(
      `${path.join(real, "one", ".git")}\n`,
    );
    expect(worktreeLinkChanges(common, path.join(linked, "one"))).toEqual([]);
  });

  it("takes the next free id when the folder's name is taken by another worktree, as git does", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    await repo.git("branch", "one");
    await repo.git("branch", "two");
    const first = path.join(path.dirname(repo.root), "a", "one");
    const second = path.join(path.dirname(repo.root), "b", "one");
    mkdirSync(path.dirname(first));
    mkdirSync(path.dirname(second));
    registerWorktree(common, first, "refs/heads/one", "x");
    const admin = registerWorktree(common, second, "refs/heads/two", "x");
    expect(path.basename(admin)).toBe("one1");
    expect(await repo.git("-C", second, "symbolic-ref", "HEAD")).toBe("refs/heads/two");
  });

  it("refuses a folder that exists, and a path git has a missing worktree registered at, making nothing", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    const taken = path.join(ws, "taken");
    mkdirSync(taken, { recursive: true });
    writeFileSync(path.join(taken, "theirs.txt"), "theirs\n");
    expect(() => registerWorktree(common, taken, "refs/heads/main", "x")).toThrow(
      WorktreeFolderTakenError,
    );
    expect(readdirSync(taken)).toEqual(["theirs.txt"]);

    // A worktree whose folder was removed by hand, still registered (git refuses the path too).
    const gone = path.join(ws, "gone");
    await repo.git("worktree", "add", "--quiet", "-b", "gone", gone);
    await repo.git("worktree", "lock", gone);
    await repo.git("branch", "again");
    rmSync(gone, { recursive: true });
    let refused = "";
    try {
      registerWorktree(common, gone, "refs/heads/again", "x");
    } catch (error) {
      refused = (error as Error).message;
    }
    expect(refused).toMatch(/missing but already registered worktree \(gone\)/);
    expect(existsSync(gone)).toBe(false);
    expect(readdirSync(path.join(common, "worktrees"))).toEqual(["gone"]);
    // Pasted from anywhere, its commands clear that record and no other: a worktree of the
    // user's, moved by hand, keeps its own.
    const mine = path.join(ws, "mine");
    await repo.git("worktree", "add", "--quiet", "-b", "mine", mine);
    renameSync(mine, `${mine}-moved`);
    for (const command of [...refused.matchAll(/`([^`]+)`/g)].map((match) => match[1])) {
      const pasted = await execa("sh", ["-c", command as string], { cwd: "/", reject: false });
      expect(pasted.exitCode, `${command}: ${pasted.stderr}`).toBe(0);
    }
    expect(readdirSync(path.join(common, "worktrees"))).toEqual(["mine"]);
  });

  it("names the unlock of a locked, missing registration as a command that works pasted, spaces and quotes included", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const gone = path.join(path.dirname(repo.root), "work spaces", "o'neil");
    await repo.git("worktree", "add", "--quiet", "-b", "gone", gone);
    await repo.git("worktree", "lock", gone);
    await repo.git("branch", "again");
    rmSync(gone, { recursive: true });
    let message = "";
    try {
      registerWorktree(common, gone, "refs/heads/again", "x");
    } catch (error) {
      message = (error as Error).message;
    }
    const commands = [...message.matchAll(/`(git [^`]+)`/g)].map((match) => match[1] as string);
    expect(commands, message).toHaveLength(2);
    expect(commands[0]).toContain(" worktree unlock ");
    for (const command of commands) {
      const pasted = spawnSync("sh", ["-c", command], { cwd: "/", encoding: "utf8" });
      expect(pasted.status, pasted.stderr).toBe(0);
    }
    expect(existsSync(path.join(common, "worktrees", "o'neil"))).toBe(false);
  });

  it("sees a registration git moved after conductor last looked at it, and passes over what is not one", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    const first = path.join(ws, "first");
    await repo.git("worktree", "add", "--quiet", "-b", "first", first);
    await repo.git("branch", "second");
    await repo.git("branch", "third");
    // Not a registration (git passes over it too).
    writeFileSync(path.join(common, "worktrees", ".DS_Store"), "");
    // Old enough to be kept in memory (see SETTLED_NS), then read while making `second`.
    await new Promise((resolve) => setTimeout(resolve, 100));
    registerWorktree(common, path.join(ws, "second"), "refs/heads/second", "x");

    // git rewrites first's gitdir in place, to a path of the same length: only its change time
    // tells; the folder is then removed by hand.
    const moved = path.join(ws, "fifth");
    await repo.git("worktree", "move", first, moved);
    await repo.git("worktree", "lock", moved);
    rmSync(moved, { recursive: true });
    expect(() => registerWorktree(common, moved, "refs/heads/third", "x")).toThrow(
      /missing but already registered worktree \(first\)/,
    );
    expect(existsSync(moved)).toBe(false);
  });

  it("leaves to git's own add what it would do more: names it changes, other ref storage, per-worktree config, sparse checkouts, relative paths, shared permissions", () => {
    const ws = "/somewhere/ws";
    expect(canRegisterDirectly(path.join(ws, "task-1.2_b"), [])).toBe(true);
    for (const name of ["a b", ".hidden", "ends.lock", "x..y", "trailing-"]) {
      expect(canRegisterDirectly(path.join(ws, name), [])).toBe(false);
    }
    const one = path.join(ws, "one");
    // As git's add writes it: the defaults, spelled as git accepts them.
    expect(
      canRegisterDirectly(one, [
        "extensions.refstorage files",
        "extensions.worktreeconfig false",
        "worktree.userelativepaths no",
        "core.sharedrepository umask",
        "core.sparsecheckout 0",
      ]),
    ).toBe(true);
    for (const setting of [
      "extensions.refstorage reftable",
      "extensions.worktreeconfig true",
      "extensions.relativeworktrees true",
      "worktree.userelativepaths true",
      "worktree.userelativepaths", // a key without a value is true
      "core.sharedrepository group",
      "core.sparsecheckout true",
    ]) {
      expect(canRegisterDirectly(one, [setting]), setting).toBe(false);
    }
  });

  it("makes the worktree's folder with the mode git gives it, and clears a folder a killed conductor was making", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    mkdirSync(ws);
    await repo.git("worktree", "add", "--quiet", "-b", "by-git", path.join(ws, "by-git"));
    await repo.git("branch", "ours");
    // What a kill before the rename left: the folder being made, holding only its .git.
    const ours = path.join(ws, "ours");
    mkdirSync(`${ours}.conductor-new`);
    writeFileSync(path.join(`${ours}.conductor-new`, ".git"), "gitdir: somewhere\n");
    registerWorktree(common, ours, "refs/heads/ours", "x");
    expect(statSync(ours).mode & 0o777).toBe(statSync(path.join(ws, "by-git")).mode & 0o777);
    expect(readdirSync(ws).sort()).toEqual(["by-git", "ours"]);

    // Registered, its folder never renamed into place: the resume's unlock clears what was made.
    await repo.git("branch", "cut");
    const cut = path.join(ws, "cut");
    registerWorktree(common, cut, "refs/heads/cut", CHECKOUT_PENDING);
    rmSync(cut, { recursive: true });
    mkdirSync(`${cut}.conductor-new`);
    writeFileSync(path.join(`${cut}.conductor-new`, ".git"), "gitdir: somewhere\n");
    expect(() => registerWorktree(common, cut, "refs/heads/cut", "x")).toThrow(
      `\`git --git-dir=${common} worktree unlock ${cut}\`, then \`git --git-dir=${common} worktree remove ${cut}\` clears its record`,
    );
    await unlockMissingPendingCheckout(repo.root, cut);
    await repo.git("worktree", "prune");
    expect(readdirSync(ws).sort()).toEqual(["by-git", "ours"]);
    expect((await listWorktrees(repo.root)).map((entry) => path.basename(entry.path))).toEqual([
      "repo",
      "by-git",
      "ours",
    ]);
    // A folder of that name holding anything else is not conductor's, and stays: other files,
    // or a repository of its own.
    mkdirSync(`${cut}.conductor-new`);
    writeFileSync(path.join(`${cut}.conductor-new`, "notes.txt"), "mine\n");
    await unlockMissingPendingCheckout(repo.root, cut);
    expect(readdirSync(`${cut}.conductor-new`)).toEqual(["notes.txt"]);
    rmSync(`${cut}.conductor-new`, { recursive: true });
    mkdirSync(path.join(`${cut}.conductor-new`, ".git"), { recursive: true });
    await unlockMissingPendingCheckout(repo.root, cut);
    expect(readdirSync(`${cut}.conductor-new`)).toEqual([".git"]);
  });

  it("beside another conductor making the same worktree, touches nothing of its and makes only one", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    mkdirSync(ws);
    await repo.git("branch", "one");
    const one = path.join(ws, "one");
    // The folder a live conductor is making for the same worktree (it holds only its .git).
    const other = spawn("sleep", ["30"]);
    const othersFolder = `${one}.conductor-new-${other.pid}`;
    try {
      mkdirSync(othersFolder);
      writeFileSync(path.join(othersFolder, ".git"), "gitdir: somewhere\n");
      registerWorktree(common, one, "refs/heads/one", "x");
      expect(readdirSync(othersFolder)).toEqual([".git"]);
      // Its rename into place now finds the worktree there, and fails: only one is made.
      expect(() => renameSync(othersFolder, one)).toThrow(/ENOTEMPTY|EEXIST/);
    } finally {
      other.kill();
    }
    await new Promise((resolve) => other.once("exit", resolve));
    // Once that conductor is gone (killed before its rename), what it left is cleared, as the
    // next registration or resume of this worktree does.
    removeStagedFolder(one);
    expect(readdirSync(ws)).toEqual(["one"]);
  });

  it("leaves no folder of its own beside the worktree, and none at all when the folder is taken", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    mkdirSync(ws);
    await repo.git("branch", "one");
    registerWorktree(common, path.join(ws, "one"), "refs/heads/one", "x");
    writeFileSync(path.join(ws, "link"), "");
    expect(() => registerWorktree(common, path.join(ws, "link"), "refs/heads/one", "x")).toThrow(
      WorktreeFolderTakenError,
    );
    expect(readdirSync(ws).sort()).toEqual(["link", "one"]);
    expect(readdirSync(path.join(common, "worktrees"))).toEqual(["one"]);
  });
});

describe("addWorktree on the direct path", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("makes nothing when the branch exists (another's), and removes its own branch when the folder is taken", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const ws = path.join(path.dirname(root), "ws");
    const hook = new CheckoutHook(root);
    await repo.git("branch", "conductor/theirs");
    const theirsAt = await repo.git("rev-parse", "conductor/theirs");
    await repo.write({ "more.txt": "more\n" });
    await repo.commitAll("more");
    const failure = await addWorktree(
      root,
      { branch: "conductor/theirs", path: path.join(ws, "theirs"), startPoint: "main" },
      { hook },
    ).then(
      () => "added",
      (error: Error) => error.message,
    );
    // Refused by git's checkout, which makes the branch: before it writes a file.
    expect(failure).toMatch(/a branch named 'conductor\/theirs' already exists/);
    expect(await repo.git("rev-parse", "conductor/theirs")).toBe(theirsAt);
    expect(existsSync(path.join(ws, "theirs"))).toBe(false);

    const taken = path.join(ws, "taken");
    mkdirSync(taken, { recursive: true });
    const refused = await addWorktree(
      root,
      { branch: "conductor/taken", path: taken, startPoint: "main" },
      { hook },
    ).then(
      () => "added",
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/already exists/);
    expect(await repo.git("branch", "--list", "conductor/taken")).toBe("");
    expect(existsSync(taken)).toBe(true);
    expect((await listWorktrees(root)).map((entry) => entry.path)).toEqual([root]);
  });

  it("in a repository with shared permissions, makes the worktree as git's add does (group-writable)", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    await repo.git("config", "core.sharedRepository", "group");
    const worktree = await addFirstWorkspace(root);
    expect(statSync(path.join(root, ".git", "worktrees")).mode & 0o070).toBe(0o070);
    expect(await repo.git("-C", worktree, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/one");
  });
});
