import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CheckoutHook } from "../../src/git/checkout-hook.js";
import {
  addWorktree,
  CHECKOUT_PENDING,
  finishCutOffCheckout,
  GitMetadataQueue,
  isBranchTaken,
  listWorktrees,
  unlockMissingPendingCheckout,
  WorktreeCheckoutError,
} from "../../src/git/worktree.js";
import { registerWorktree } from "../../src/git/worktree-registration.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { addFirstWorkspace } from "../helpers/workspace-worktree.js";

const NO_COMMIT = "0".repeat(40);

/** An executable hook script at `file` (folders made). */
function writeHook(file: string, body: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

/** A worktree as a conductor killed after its metadata leaves it: no checkout, locked as pending. */
async function addPending(repo: TestRepo, branch: string, worktree: string): Promise<void> {
  await repo.git(
    ...["worktree", "add", "--quiet", "--no-checkout", "--lock", "--reason", CHECKOUT_PENDING],
    ...["-b", branch, worktree],
  );
}

describe("adding a worktree: metadata one at a time, checkout and hook as git's add does them", () => {
  let repo: TestRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("checks out every worktree of adds started together, each clean and on its branch", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`src/file-${i}.txt`] = `content ${i}\n`;
    repo = await createTestRepo(files);
    const root = repo.root;
    const queue = new GitMetadataQueue();
    const hook = new CheckoutHook(root);
    const names = Array.from({ length: 8 }, (_, i) => `task-${i}`);
    await Promise.all(
      names.map((name) =>
        addWorktree(
          root,
          {
            branch: `conductor/${name}`,
            path: path.join(path.dirname(root), "ws", name),
            startPoint: "main",
          },
          { hook, serialize: (add) => queue.run(add) },
        ),
      ),
    );
    const main = (await repo.git("rev-parse", "main")).trim();
    for (const name of names) {
      const worktree = path.join(path.dirname(root), "ws", name);
      expect(await repo.git("-C", worktree, "status", "--porcelain")).toBe("");
      expect(await repo.git("-C", worktree, "symbolic-ref", "HEAD")).toBe(
        `refs/heads/conductor/${name}`,
      );
      expect((await repo.git("-C", worktree, "rev-parse", "HEAD")).trim()).toBe(main);
      expect(readFileSync(path.join(worktree, "src", "file-39.txt"), "utf8")).toBe("content 39\n");
    }
    expect(await listWorktrees(root)).toHaveLength(names.length + 1);
    // Each was locked until its checkout was done, and unlocked then.
    expect(await repo.git("worktree", "list", "--porcelain")).not.toContain("locked");
  });

  it("makes the branch in the checkout, with the reflog git's add writes, refusing one that exists", async () => {
    repo = await createTestRepo({ "README.md": "# test\n", "a.txt": "a\n" });
    const root = repo.root;
    const worktree = await addFirstWorkspace(root);
    expect(await repo.git("reflog", "show", "--format=%gs", "conductor/one")).toBe(
      "branch: Created from main",
    );
    expect(readFileSync(path.join(worktree, "a.txt"), "utf8")).toBe("a\n");

    // A branch another process made meanwhile is refused by the same checkout, before it writes
    // a file, as an error that names a taken branch (see worktree-registration.test.ts).
    await repo.git("branch", "conductor/two");
    const refused = await addWorktree(
      root,
      {
        branch: "conductor/two",
        path: path.join(path.dirname(root), "ws", "two"),
        startPoint: "main",
      },
      { hook: new CheckoutHook(root) },
    ).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(isBranchTaken(refused)).toBe(true);
    expect(refused).not.toBeInstanceOf(WorktreeCheckoutError);
  });

  it("makes the branch first, with the repository's hooks, where a reference-transaction hook would see it", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const seen = path.join(repo.home, "transactions");
    writeHook(
      path.join(root, ".git", "hooks", "reference-transaction"),
      `[ "$1" = committed ] && cat >> "${seen}"; exit 0`,
    );
    const worktree = await addFirstWorkspace(root);
    const main = (await repo.git("rev-parse", "main")).trim();
    expect(readFileSync(seen, "utf8")).toContain(`${NO_COMMIT} ${main} refs/heads/conductor/one`);
    expect(await repo.git("-C", worktree, "status", "--porcelain")).toBe("");
    expect(await repo.git("worktree", "list", "--porcelain")).not.toContain("locked");
  });

  it("runs the post-checkout hook in the new worktree with the arguments git's add gives it", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const seen = path.join(repo.home, "seen");
    writeHook(path.join(root, ".git", "hooks", "post-checkout"), `echo "$(pwd) $*" >> "${seen}"`);
    const worktree = await addFirstWorkspace(root);
    const main = (await repo.git("rev-parse", "main")).trim();
    expect(readFileSync(seen, "utf8")).toBe(`${worktree} ${NO_COMMIT} ${main} 1\n`);
  });

  it("gives the hook git's exec path first on PATH, as git does (`. git-sh-setup` works)", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const seen = path.join(repo.home, "seen");
    writeHook(
      path.join(root, ".git", "hooks", "post-checkout"),
      `. git-sh-setup && echo "$GIT_EXEC_PATH" >> "${seen}"`,
    );
    await addWorktree(
      root,
      {
        branch: "conductor/one",
        path: path.join(path.dirname(root), "ws", "one"),
        startPoint: "main",
      },
      { hook: new CheckoutHook(root) },
    );
    expect(readFileSync(seen, "utf8").trim()).toBe((await repo.git("--exec-path")).trim());
  });

  it("takes a relative core.hooksPath from the main checkout and unsets GIT_DIR, as git's add does", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const seen = path.join(repo.home, "seen");
    // Husky's layout: hooks under a folder of the repository, helpers beside them git-ignored
    // (so only in the main checkout). Git's add runs the main checkout's copy; the worktree's
    // committed one would fail on the missing helper.
    writeHook(path.join(root, ".hooks", "post-checkout"), 'echo committed >> "$HOME/unused"');
    await repo.commitAll("hooks");
    writeHook(
      path.join(root, ".hooks", "post-checkout"),
      `. "$(dirname -- "$0")/_/helper.sh"; echo "main checkout \${GIT_DIR-unset}" >> "${seen}"`,
    );
    mkdirSync(path.join(root, ".hooks", "_"));
    writeFileSync(path.join(root, ".hooks", "_", "helper.sh"), ":\n");
    await repo.git("config", "core.hooksPath", ".hooks");
    await addFirstWorkspace(root);
    expect(readFileSync(seen, "utf8")).toBe("main checkout unset\n");
  });

  it.each([
    ["a failing post-checkout hook", "echo hook refused >&2; exit 3", /hook refused/],
    // After the metadata the branch is certainly this add's, whatever git's message names.
    [
      "a failure whose message names the branch's lock",
      "echo \"cannot lock 'refs/heads/conductor/one'\" >&2; exit 1",
      /cannot lock/,
    ],
  ])("fails on %s and leaves no worktree or branch behind", async (_, hookBody, message) => {
    repo = await createTestRepo();
    const root = repo.root;
    writeHook(path.join(root, ".git", "hooks", "post-checkout"), hookBody);
    const worktree = path.join(path.dirname(root), "ws", "one");
    await expect(
      addWorktree(
        root,
        { branch: "conductor/one", path: worktree, startPoint: "main" },
        { hook: new CheckoutHook(root) },
      ),
    ).rejects.toThrow(message);
    expect(existsSync(worktree)).toBe(false);
    expect(await listWorktrees(root)).toHaveLength(1);
    expect(await repo.git("branch", "--list", "conductor/one")).toBe("");
  });

  it("finishes the checkout of a worktree whose conductor died before it, and only that", async () => {
    repo = await createTestRepo({ "README.md": "# test\n", "a.txt": "a\n" });
    const root = repo.root;
    const around = { hook: new CheckoutHook(root) };
    const seen = path.join(repo.home, "seen");
    writeHook(path.join(root, ".git", "hooks", "post-checkout"), `echo ran >> "${seen}"`);
    // What a conductor killed between the two parts leaves: metadata and branch, no index, the
    // worktree locked as pending.
    const cut = path.join(path.dirname(root), "ws", "cut");
    await addPending(repo, "conductor/cut", cut);
    expect(await repo.git("-C", cut, "status", "--porcelain")).toContain("D  a.txt");
    await finishCutOffCheckout(
      root,
      { branch: "conductor/cut", path: cut, startPoint: "main" },
      around,
    );
    expect(await repo.git("-C", cut, "status", "--porcelain")).toBe("");
    expect(readFileSync(path.join(cut, "a.txt"), "utf8")).toBe("a\n");
    expect(readFileSync(seen, "utf8")).toBe("ran\n");
    expect(await repo.git("worktree", "list", "--porcelain")).not.toContain("locked");

    // Killed after the reset, before the hook: the hook still runs.
    const reset = path.join(path.dirname(root), "ws", "reset");
    await addPending(repo, "conductor/reset", reset);
    await repo.git("-C", reset, "reset", "--hard", "--quiet");
    await finishCutOffCheckout(
      root,
      { branch: "conductor/reset", path: reset, startPoint: "main" },
      around,
    );
    expect(readFileSync(seen, "utf8")).toBe("ran\nran\n");

    // A worktree whose checkout was done, or that someone else locked, keeps its changes.
    const done = path.join(path.dirname(root), "ws", "done");
    await repo.git("worktree", "add", "--quiet", "-b", "conductor/done", done);
    const theirs = path.join(path.dirname(root), "ws", "theirs");
    await repo.git("worktree", "add", "--quiet", "--lock", "-b", "conductor/theirs", theirs);
    for (const [name, worktree] of [
      ["conductor/done", done],
      ["conductor/theirs", theirs],
    ] as const) {
      writeFileSync(path.join(worktree, "a.txt"), "changed\n");
      await finishCutOffCheckout(
        root,
        { branch: name, path: worktree, startPoint: "main" },
        around,
      );
      expect(readFileSync(path.join(worktree, "a.txt"), "utf8")).toBe("changed\n");
    }
    expect(readFileSync(seen, "utf8")).toBe("ran\nran\nran\nran\n"); // the two adds' own
  });

  it("finishes a worktree cut off before its checkout made the branch: makes the branch there, checks out, runs the hook", async () => {
    repo = await createTestRepo({ "README.md": "# test\n", "a.txt": "a\n" });
    const root = repo.root;
    const seen = path.join(repo.home, "seen");
    writeHook(path.join(root, ".git", "hooks", "post-checkout"), `echo "$1 $3" >> "${seen}"`);
    // What a conductor killed between the registration and the checkout leaves.
    const cut = path.join(path.dirname(root), "ws", "cut");
    mkdirSync(path.dirname(cut), { recursive: true });
    registerWorktree(path.join(root, ".git"), cut, "refs/heads/conductor/cut", CHECKOUT_PENDING);
    expect(await repo.git("branch", "--list", "conductor/cut")).toBe("");
    await finishCutOffCheckout(
      root,
      { branch: "conductor/cut", path: cut, startPoint: "main" },
      { hook: new CheckoutHook(root) },
    );
    const main = (await repo.git("rev-parse", "main")).trim();
    expect((await repo.git("rev-parse", "conductor/cut")).trim()).toBe(main);
    expect(await repo.git("-C", cut, "symbolic-ref", "HEAD")).toBe("refs/heads/conductor/cut");
    expect(await repo.git("-C", cut, "status", "--porcelain")).toBe("");
    expect(readFileSync(path.join(cut, "a.txt"), "utf8")).toBe("a\n");
    expect(readFileSync(seen, "utf8")).toBe(`${NO_COMMIT} 1\n`);
    expect(await repo.git("worktree", "list", "--porcelain")).not.toContain("locked");
  });

  it("unlocks a pending worktree whose folder was removed by hand, so that it can be added again", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const cut = path.join(path.dirname(root), "ws", "cut");
    await addPending(repo, "conductor/cut", cut);
    const theirs = path.join(path.dirname(root), "ws", "theirs");
    await repo.git("worktree", "add", "--quiet", "--lock", "-b", "conductor/theirs", theirs);
    rmSync(cut, { recursive: true });
    rmSync(theirs, { recursive: true });
    await unlockMissingPendingCheckout(root, cut);
    await unlockMissingPendingCheckout(root, theirs);
    await repo.git("worktree", "prune");
    // Only conductor's pending one was unlocked, pruned and can be made again from its branch.
    await repo.git("worktree", "add", "--quiet", cut, "conductor/cut");
    expect(existsSync(path.join(cut, "README.md"))).toBe(true);
    expect(await repo.git("worktree", "list", "--porcelain")).toContain(`worktree ${theirs}`);
  });

  it("removes a cut-off worktree and its branch when finishing its checkout fails", async () => {
    repo = await createTestRepo();
    const root = repo.root;
    const cut = path.join(path.dirname(root), "ws", "cut");
    await addPending(repo, "conductor/cut", cut);
    writeHook(path.join(root, ".git", "hooks", "post-checkout"), "echo hook refused >&2; exit 3");
    await expect(
      finishCutOffCheckout(
        root,
        { branch: "conductor/cut", path: cut, startPoint: "main" },
        { hook: new CheckoutHook(root) },
      ),
    ).rejects.toThrow(/hook refused/);
    expect(existsSync(cut)).toBe(false);
    expect(await listWorktrees(root)).toHaveLength(1);
    expect(await repo.git("branch", "--list", "conductor/cut")).toBe("");
  });
});
