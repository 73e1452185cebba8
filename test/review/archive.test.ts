import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { gitEnv } from "../helpers/git-repo.js";
import { runAsPrinted } from "../lifecycle/hints.js";
import { type ReviewRepo, readOr, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function reservations(home: string): Promise<string[]> {
  const text = await readFile(path.join(home, ".conductor", "ports.json"), "utf8").catch(
    () => "{}",
  );
  const registry = JSON.parse(text) as { reservations?: { worktree: string }[] };
  return (registry.reservations ?? []).map((reservation) => reservation.worktree);
}

/** A repository whose workspaces get a copied env file and a context file, then one run. */
async function ranRepo(ids: string[]): Promise<ReviewRepo> {
  const current = await reviewRepo(
    ids.map((id) => ({ id })),
    {
      workspaces: { copy: [".env.local"], context: ["README.md"] },
      scripts: { archive: 'echo "archiving $CONDUCTOR_WORKSPACE_NAME on port $CONDUCTOR_PORT"' },
    },
  );
  await current.write({ ".env.local": "API_URL=http://localhost\n" });
  await runAll(current);
  for (const id of ids)
    expect(existsSync(path.join(current.worktree(id), ".env.local"))).toBe(true);
  return current;
}

describe("conductor archive", () => {
  it("refuses a worktree with uncommitted changes, lists them, and removes nothing", async () => {
    repo = await ranRepo(["dirty"]);
    const worktree = repo.worktree("dirty");
    await writeFile(path.join(worktree, "README.md"), "# edited by hand\n");
    await writeFile(path.join(worktree, "scratch.txt"), "notes\n");
    const result = await repo.cli(["archive", "dirty"]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("archiving would lose work; nothing was removed");
    expect(result.stderr).toMatch(
      /2 uncommitted files: (README\.md, scratch\.txt|scratch\.txt, README\.md)/,
    );
    // Copies from the main checkout are not work: neither the env file nor the context folder.
    expect(result.stderr).not.toContain(".env.local");
    expect(result.stderr).not.toContain(".context");
    expect(result.stderr).toContain("--force");
    expect(existsSync(path.join(worktree, "scratch.txt"))).toBe(true);
    expect(await repo.git("branch", "--list", "conductor/dirty")).toContain("conductor/dirty");
    expect(await reservations(repo.home)).toContain(worktree);
    expect(readOr(path.join(repo.runDir(), "workspaces", "dirty", "archive.log"))).toBe("");
    expect((await repo.cli(["status"])).stdout).toMatch(/^dirty\s+succeeded\s/m);
  });

  it("shows the escape sequences of a file the agent named with them, in checks, archive and merge, never sends them", async () => {
    // An OSC sets the window title (or, OSC 52, the clipboard); a CSI can paint over the refusal.
    repo = await reviewRepo([{ id: "escapes" }]);
    await runAll(repo);
    // Left uncommitted in the worktree after the run (the commit step would have taken it).
    await writeFile(path.join(repo.worktree("escapes"), "new\u001b]0;PWNED\u0007\u001b[2J"), "x");
    const shown = "new\\x1b]0;PWNED\\x07\\x1b[2J";
    const checks = await repo.cli(["checks", "escapes"]);
    expect(checks.stdout).toContain(shown);
    const archived = await repo.cli(["archive", "escapes"]);
    expect(archived.exitCode, archived.all).toBe(1);
    expect(archived.stderr).toContain(`1 uncommitted file: ${shown}`);
    const merged = await repo.cli(["merge", "escapes", "--force"]);
    expect(merged.exitCode, merged.all).toBe(1);
    expect(merged.stdout).toContain("escapes was merged but not archived");
    expect(merged.stdout).toContain(shown);
    for (const output of [checks.all, archived.all, merged.all]) {
      expect(output).not.toContain("\u001b");
      expect(output).not.toContain("\u0007");
    }
  });

  it("never runs the fsmonitor of a nested repository the agent committed, in checks or archive", async () => {
    const current = await reviewRepo([{ id: "nested" }]);
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    const worktree = current.worktree("nested");
    const sub = path.join(worktree, "sub");
    const mark = path.join(current.home, "sub-fsmonitor-ran");
    await writeFile(path.join(current.home, "mark.sh"), `#!/bin/sh\necho ran >> '${mark}'\n`, {
      mode: 0o755,
    });
    const identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"];
    await current.git("init", "-q", sub);
    await writeFile(path.join(sub, "s.txt"), "s\n");
    await current.git("-C", sub, "add", "s.txt");
    await current.git("-C", sub, ...identity, "commit", "-q", "-m", "s");
    await current.git("-C", sub, "config", "core.fsmonitor", path.join(current.home, "mark.sh"));
    // What an agent could commit on its branch: the nested repository as a gitlink.
    await current.git("-C", worktree, "add", "sub");
    await current.git("-C", worktree, ...identity, "commit", "-q", "-m", "add sub");

    const checks = await current.cli(["checks", "nested"]);
    expect(checks.all).toContain("nested");
    const archived = await current.cli(["archive", "nested"]);
    expect(archived.exitCode, archived.all).toBe(1);
    expect(archived.stderr).toContain("nested repository sub has 1 commit in none of its remotes");
    expect(existsSync(mark)).toBe(false);
  });

  it("archives a workspace whose seeded folder is a symlink without --force", async () => {
    repo = await reviewRepo([{ id: "seeded" }], {
      workspaces: { seed: [{ path: "node_modules", mode: "symlink" }] },
      scripts: { setup: "mkdir -p node_modules/pkg && echo 1 > node_modules/pkg/index.js" },
    });
    // `node_modules/` ignores a folder, not the symlink seeding puts in its place.
    await repo.write({
      "package-lock.json": '{"lockfileVersion":3}\n',
      ".gitignore": ".env.local\nnode_modules/\n",
    });
    await repo.commitAll("lockfile");
    await runAll(repo);
    const worktree = repo.worktree("seeded");
    expect(existsSync(path.join(worktree, "node_modules", "pkg", "index.js"))).toBe(true);

    const result = await repo.cli(["archive", "seeded"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(existsSync(worktree)).toBe(false);
  });

  it("with --delete-branch, refuses to drop commits that are on neither the base nor a remote", async () => {
    repo = await ranRepo(["local", "pushed"]);
    const refused = await repo.cli(["archive", "local", "pushed", "--delete-branch"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("1 commit not on main or any remote (branch conductor/local)");
    expect(refused.stderr).toContain(
      "1 commit not on main or any remote (branch conductor/pushed)",
    );
    expect(existsSync(repo.worktree("local"))).toBe(true);
    expect(existsSync(repo.worktree("pushed"))).toBe(true);

    // Once the branch is on a remote, its commits are safe there.
    const remote = path.join(repo.home, "origin.git");
    await execa("git", ["init", "-q", "--bare", remote]);
    await repo.git("remote", "add", "origin", remote);
    await repo.git("push", "-q", "origin", "conductor/pushed");
    const pushed = await repo.cli(["archive", "pushed", "--delete-branch"]);
    expect(pushed.exitCode, pushed.all).toBe(0);
    expect(pushed.stdout).toContain("deleted branch conductor/pushed");
    expect(await repo.git("branch", "--list", "conductor/pushed")).toBe("");
    expect(existsSync(repo.worktree("local"))).toBe(true);
  });

  it("archives anyway with --force: dirty worktree, unmerged branch and all", async () => {
    repo = await ranRepo(["doomed"]);
    await writeFile(path.join(repo.worktree("doomed"), "scratch.txt"), "notes\n");
    const result = await repo.cli(["archive", "doomed", "--delete-branch", "--force"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(existsSync(repo.worktree("doomed"))).toBe(false);
    expect(await repo.git("branch", "--list", "conductor/doomed")).toBe("");
    expect(await repo.git("worktree", "list")).not.toContain("doomed");
  });

  it("keeps the branch by default, frees the ports, runs the archive script and records the archive", async () => {
    repo = await ranRepo(["done", "other"]);
    const worktree = repo.worktree("done");
    const result = await repo.cli(["archive", "done"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(
      /^archived done: ran the archive script, removed .*done, freed ports \d+-\d+, kept branch conductor\/done$/m,
    );
    expect(existsSync(worktree)).toBe(false);
    expect(await repo.git("show", "conductor/done:done.txt")).toBe("done");
    expect(await reservations(repo.home)).not.toContain(worktree);
    expect(await reservations(repo.home)).toContain(repo.worktree("other"));
    expect(readOr(path.join(repo.runDir(), "workspaces", "done", "archive.log"))).toMatch(
      /archiving done on port \d+/,
    );
    const events = readOr(path.join(repo.runDir(), "events.jsonl")).trim().split("\n");
    expect(JSON.parse(events.at(-1) as string)).toMatchObject({
      type: "workspace.archived",
      workspace: "done",
      branchDeleted: false,
    });
    const status = await repo.cli(["status"]);
    expect(status.stdout).toMatch(/^done\s+archived\s.*conductor\/done\s+\(removed\)$/m);
    expect(status.stdout).toMatch(/^other\s+succeeded\s/m);
    // The main checkout is untouched.
    expect(await repo.git("status", "--porcelain")).toBe("");
    expect((await repo.cli(["archive", "done"])).stdout).toBe("done: already archived");
  });

  it("archives every workspace of the latest run with --all", async () => {
    repo = await ranRepo(["a1", "a2"]);
    const result = await repo.cli(["archive", "--all"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^archived a1: /m);
    expect(result.stdout).toMatch(/^archived a2: /m);
    expect(existsSync(repo.worktree("a1"))).toBe(false);
    expect(existsSync(repo.worktree("a2"))).toBe(false);
    expect(await reservations(repo.home)).toEqual([]);
    const both = await repo.cli(["archive", "a1", "--all"]);
    expect(both.exitCode).toBe(2);
  });

  it("stops before removing anything when the archive script fails, unless --force", async () => {
    repo = await reviewRepo([{ id: "stuck" }], {
      scripts: { archive: "echo cannot stop the database; exit 4" },
    });
    await runAll(repo);
    const failed = await repo.cli(["archive", "stuck"]);
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toContain(
      "the archive script of stuck exited with code 4; stuck was not archived",
    );
    expect(existsSync(repo.worktree("stuck"))).toBe(true);
    const forced = await repo.cli(["archive", "stuck", "--force"]);
    expect(forced.exitCode, forced.all).toBe(0);
    expect(forced.stdout).toContain("archive script failed (forced on)");
    expect(existsSync(repo.worktree("stuck"))).toBe(false);
  });

  it("names a command that keeps a detached HEAD's commits, quoted for a folder with a space", async () => {
    repo = await reviewRepo([{ id: "loose" }], { workspaces: { dir: "../work spaces" } });
    await runAll(repo);
    const worktree = path.join(path.dirname(repo.root), "work spaces", "loose");
    const git = (...args: string[]) =>
      execa("git", args, { cwd: worktree, env: gitEnv(repo?.home as string) });
    await git("checkout", "-q", "--detach");
    await writeFile(path.join(worktree, "d.txt"), "detached work\n");
    await git("add", "d.txt");
    await git("commit", "-qm", "work on a detached HEAD");
    const refused = await repo.cli(["archive", "loose"]);
    expect(refused.exitCode, refused.all).toBe(1);
    const hint = /`(git -C [^`]+)`/.exec(refused.stderr)?.[1];
    expect(hint, refused.stderr).toBeDefined();
    const kept = await runAsPrinted(hint as string, { cwd: repo.home, home: repo.home });
    expect(kept.exitCode, kept.all).toBe(0);
    // The commits are on a branch now: nothing is lost, so archive goes ahead.
    const archived = await repo.cli(["archive", "loose"]);
    expect(archived.exitCode, archived.all).toBe(0);
  });
});
