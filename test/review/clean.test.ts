import { existsSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

async function reservedWorktrees(home: string): Promise<string[]> {
  const text = await readFile(path.join(home, ".conductor", "ports.json"), "utf8").catch(
    () => "{}",
  );
  return ((JSON.parse(text) as { reservations?: { worktree: string }[] }).reservations ?? []).map(
    (reservation) => reservation.worktree,
  );
}

describe("conductor clean", () => {
  it("removes what archived and vanished workspaces left behind, and keeps their branches", async () => {
    repo = await reviewRepo([{ id: "archived" }, { id: "vanished" }, { id: "kept" }]);
    await runAll(repo, ["archived", "vanished"]);
    await runAll(repo, ["kept"]);
    const [first, second] = repo.runIds() as [string, string];
    expect((await repo.cli(["archive", "archived", "--run", first])).exitCode).toBe(0);
    await rm(repo.worktree("vanished"), { recursive: true, force: true });

    // Without --all, clean tidies only the latest run; --all takes every run of the same file.
    const result = await repo.cli(["clean", "--all"]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      `pruned git's record of the missing worktree ${repo.worktree("vanished")}`,
      `marked vanished archived: its worktree ${repo.worktree("vanished")} is gone (branch conductor/vanished kept)`,
      expect.stringMatching(/^freed ports \d+-\d+ \(vanished\)$/),
      `removed run folder .conductor/runs/${first} (every workspace archived)`,
    ]);
    expect(repo.runIds()).toEqual([second]);
    expect(await repo.git("worktree", "list")).not.toContain("vanished");
    expect(await repo.git("branch", "--list", "conductor/*")).toMatch(
      /conductor\/archived[\s\S]*conductor\/kept[\s\S]*conductor\/vanished/,
    );
    expect(await reservedWorktrees(repo.home)).toEqual([repo.worktree("kept")]);
    expect(existsSync(repo.worktree("kept"))).toBe(true);

    const again = await repo.cli(["clean", "--all"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toBe("nothing to clean");
  });

  it("drops git's records of its own missing worktrees only, never one of the user's (archive neither)", async () => {
    repo = await reviewRepo([{ id: "gone" }, { id: "vanished" }]);
    await runAll(repo);
    // The user's own worktree, with a commit only its detached HEAD holds, moved by hand (or on
    // a disk not mounted now): its record is its HEAD, and what `git worktree repair` needs.
    const mine = path.join(repo.home, "mine");
    await repo.git("worktree", "add", "-q", "--detach", mine);
    await writeFile(path.join(mine, "mine.txt"), "mine\n");
    await repo.git("-C", mine, "add", "mine.txt");
    await repo.git("-C", mine, "commit", "-qm", "only on my detached HEAD");
    const detached = (await repo.git("-C", mine, "rev-parse", "HEAD")).trim();
    await rename(mine, `${mine}-moved`);
    await rm(repo.worktree("gone"), { recursive: true, force: true });
    await rm(repo.worktree("vanished"), { recursive: true, force: true });

    const archived = await repo.cli(["archive", "gone"]);
    expect(archived.exitCode, archived.all).toBe(0);
    const cleaned = await repo.cli(["clean"]);
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.stdout).toContain(
      `pruned git's record of the missing worktree ${repo.worktree("vanished")}`,
    );
    expect(cleaned.stdout).not.toContain(mine);
    const list = await repo.git("worktree", "list", "--porcelain");
    expect(list).toContain(`worktree ${mine}\nHEAD ${detached}`);
    expect(list).not.toContain(repo.worktree("gone"));
    expect(list).not.toContain(repo.worktree("vanished"));
    // So the moved worktree can still be put back.
    await repo.git("worktree", "repair", `${mine}-moved`);
    const subject = await repo.git("-C", `${mine}-moved`, "log", "-1", "--format=%s");
    expect(subject.trim()).toBe("only on my detached HEAD");
  });

  it("refuses to remove a worktree of an archived workspace that holds uncommitted work, unless --force", async () => {
    repo = await reviewRepo([{ id: "revived" }]);
    await runAll(repo);
    const runDir = repo.runDir();
    expect((await repo.cli(["archive", "revived"])).exitCode).toBe(0);
    // Someone checked the kept branch out again at the same place and started working there.
    await repo.git("worktree", "add", "-q", repo.worktree("revived"), "conductor/revived");
    await writeFile(path.join(repo.worktree("revived"), "scratch.txt"), "notes\n");

    const refused = await repo.cli(["clean"]);
    expect(refused.exitCode, refused.all).toBe(1);
    expect(refused.stderr).toContain("cleaning would lose work");
    expect(refused.stderr).toContain("1 uncommitted file: scratch.txt");
    expect(existsSync(path.join(repo.worktree("revived"), "scratch.txt"))).toBe(true);
    expect(existsSync(runDir)).toBe(true);

    const forced = await repo.cli(["clean", "--force"]);
    expect(forced.exitCode, forced.all).toBe(0);
    expect(forced.stdout).toContain(
      `removed worktree ${repo.worktree("revived")} (revived, archived)`,
    );
    expect(existsSync(repo.worktree("revived"))).toBe(false);
    expect(existsSync(runDir)).toBe(false);
    expect(await repo.git("branch", "--list", "conductor/revived")).toContain("conductor/revived");
  });
});
