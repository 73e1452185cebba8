import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CheckoutHook } from "../../src/git/checkout-hook.js";
import {
  addWorktree,
  CHECKOUT_PENDING,
  listWorktrees,
  removeUnbornRegistration,
} from "../../src/git/worktree.js";
import { worktreeLinkChanges } from "../../src/git/worktree-link.js";
import {
  canRegisterDirectly,
  registerWorktree,
  WorktreeFolderTakenError,
} from "../../src/git/worktree-registration.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

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
    expect(() => registerWorktree(common, gone, "refs/heads/again", "x")).toThrow(
      /missing but already registered worktree \(gone\)/,
    );
    expect(existsSync(gone)).toBe(false);
    expect(readdirSync(path.join(common, "worktrees"))).toEqual(["gone"]);
  });

  it("leaves to git's own add what it would do more: names it changes, per-worktree config, sparse checkouts", async () => {
    repo = await createTestRepo();
    const common = path.join(repo.root, ".git");
    const ws = path.join(path.dirname(repo.root), "ws");
    expect(canRegisterDirectly(common, path.join(ws, "task-1.2_b"))).toBe(true);
    for (const name of ["a b", ".hidden", "ends.lock", "x..y", "trailing-"]) {
      expect(canRegisterDirectly(common, path.join(ws, name))).toBe(false);
    }
    writeFileSync(path.join(common, "config.worktree"), "");
    expect(canRegisterDirectly(common, path.join(ws, "one"))).toBe(false);
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

  it("after a conductor killed before the checkout made the branch, removes only that registration, and the add works again", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const common = path.join(root, ".git");
    const ws = path.join(path.dirname(root), "ws");
    mkdirSync(ws);
    // What the kill leaves: the registration, locked as pending, HEAD on a branch not made.
    const cut = path.join(ws, "cut");
    registerWorktree(common, cut, "refs/heads/conductor/cut", CHECKOUT_PENDING);
    // Not this: a pending registration whose branch exists (the resume finishes its checkout),
    // and one locked for another reason.
    await repo.git("branch", "conductor/made");
    const made = path.join(ws, "made");
    registerWorktree(common, made, "refs/heads/conductor/made", CHECKOUT_PENDING);
    const theirs = path.join(ws, "theirs");
    registerWorktree(common, theirs, "refs/heads/conductor/theirs", "someone's reason");

    expect(await removeUnbornRegistration(root, common, made, "conductor/made")).toBe(false);
    expect(await removeUnbornRegistration(root, common, theirs, "conductor/theirs")).toBe(false);
    expect(await removeUnbornRegistration(root, common, cut, "conductor/other")).toBe(false);
    expect(existsSync(cut)).toBe(true);
    expect(await removeUnbornRegistration(root, common, cut, "conductor/cut")).toBe(true);
    expect(existsSync(cut)).toBe(false);
    expect((await listWorktrees(root)).map((entry) => entry.path)).toEqual([root, made, theirs]);
    // Its folder removed by hand: found from the repository's side all the same.
    const gone = path.join(ws, "gone");
    registerWorktree(common, gone, "refs/heads/conductor/gone", CHECKOUT_PENDING);
    rmSync(gone, { recursive: true });
    expect(await removeUnbornRegistration(root, common, gone, "conductor/gone")).toBe(true);
    expect((await listWorktrees(root)).map((entry) => entry.path)).toEqual([root, made, theirs]);

    await addWorktree(
      root,
      { branch: "conductor/cut", path: cut, startPoint: "main" },
      { hook: new CheckoutHook(root) },
    );
    expect(await repo.git("-C", cut, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/cut");
    expect(await repo.git("-C", cut, "status", "--porcelain")).toBe("");
  });
});
