// A worktree's link to its repository (its .git file, git's commondir and gitdir) is put back as
// git made it when an agent changed it, against real worktrees made by git.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkoutLinkChanges,
  repairWorktreeLink,
  WorktreeLinkError,
  worktreeLinkChanges,
} from "../../src/git/worktree-link.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo;
let commonDir: string;
let worktree: string;
let keep: string;

beforeEach(async () => {
  repo = await createTestRepo();
  commonDir = path.join(repo.root, ".git");
  worktree = path.join(repo.home, "ws", "one");
  keep = path.join(repo.home, "keep");
  await repo.git("worktree", "add", "-q", "-b", "one", worktree);
  await repo.git("worktree", "add", "-q", "-b", "two", path.join(repo.home, "ws", "two"));
});
afterEach(async () => {
  await repo.remove();
});

/** What git in the worktree takes for its git folder and common folder. */
function gitFolders(): string[] {
  return execFileSync(
    "git",
    ["rev-parse", "--path-format=absolute", "--absolute-git-dir", "--git-common-dir"],
    { cwd: worktree, encoding: "utf8" },
  )
    .trim()
    .split("\n");
}

const ownAdmin = () => path.join(commonDir, "worktrees", "one");
const dotGit = () => path.join(worktree, ".git");

describe("repairWorktreeLink", () => {
  it("changes nothing in a worktree as git made it", () => {
    const before = readFileSync(dotGit(), "utf8");
    expect(repairWorktreeLink(commonDir, worktree, keep)).toEqual([]);
    expect(readFileSync(dotGit(), "utf8")).toBe(before);
    expect(existsSync(keep)).toBe(false);
  });

  it("puts back a .git file naming another repository, and keeps what the agent wrote", () => {
    const fake = path.join(repo.home, "fake");
    execFileSync("git", ["init", "-q", fake]);
    writeFileSync(dotGit(), `gitdir: ${fake}/.git\n`);
    const repairs = repairWorktreeLink(commonDir, worktree, keep);
    expect(repairs).toHaveLength(1);
    expect(repairs[0]).toContain(
      `the agent pointed the worktree's .git at "${fake}/.git" instead of`,
    );
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
    const kept = /kept in (\S+)$/.exec(repairs[0] ?? "")?.[1] ?? "";
    expect(readFileSync(kept, "utf8")).toBe(`gitdir: ${fake}/.git\n`);
  });

  it("puts back a .git naming another workspace's git folder", () => {
    writeFileSync(dotGit(), `gitdir: ${path.join(commonDir, "worktrees", "two")}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
    expect(
      execFileSync("git", ["branch", "--show-current"], { cwd: worktree, encoding: "utf8" }),
    ).toBe("one\n");
  });

  it("puts back a .git that is a link to another workspace's .git file", () => {
    rmSync(dotGit());
    symlinkSync(path.join(repo.home, "ws", "two", ".git"), dotGit());
    expect(gitFolders()[0]).toBe(path.join(commonDir, "worktrees", "two"));
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });

  it("moves aside a .git folder (a repository of the agent's own), a link or a FIFO", () => {
    for (const plant of [
      () => execFileSync("git", ["init", "-q", worktree]),
      () => symlinkSync(path.join(commonDir, "worktrees", "two"), dotGit()),
      () => execFileSync("mkfifo", [dotGit()]),
    ]) {
      rmSync(dotGit(), { recursive: true, force: true });
      plant();
      const repairs = repairWorktreeLink(commonDir, worktree, keep);
      expect(repairs).toHaveLength(1);
      const kept = /kept in (\S+)$/.exec(repairs[0] ?? "")?.[1] ?? "";
      expect(existsSync(kept) || lstatSync(kept).isSymbolicLink()).toBe(true);
      expect(lstatSync(dotGit()).isFile()).toBe(true);
      expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
    }
  });

  it("writes a missing .git back", () => {
    rmSync(dotGit());
    expect(repairWorktreeLink(commonDir, worktree, keep)[0]).toContain(
      "the agent removed the worktree's .git file",
    );
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });

  it("puts back a commondir naming another repository", () => {
    const fake = path.join(repo.home, "fake");
    execFileSync("git", ["init", "-q", "--bare", fake]);
    writeFileSync(path.join(ownAdmin(), "commondir"), `${fake}\n`);
    const repairs = repairWorktreeLink(commonDir, worktree, keep);
    expect(repairs).toHaveLength(1);
    expect(repairs[0]).toContain(
      `the agent pointed the worktree's commondir at "${fake}" instead of`,
    );
    expect(readFileSync(path.join(ownAdmin(), "commondir"), "utf8")).toBe("../..\n");
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });

  it("refuses when no git folder names the worktree any more, and writes nothing", () => {
    writeFileSync(
      path.join(ownAdmin(), "gitdir"),
      `${path.join(repo.home, "elsewhere", ".git")}\n`,
    );
    writeFileSync(dotGit(), "gitdir: /nowhere\n");
    expect(() => repairWorktreeLink(commonDir, worktree, keep)).toThrow(WorktreeLinkError);
    expect(readFileSync(dotGit(), "utf8")).toBe("gitdir: /nowhere\n");
    expect(existsSync(keep)).toBe(false);
  });

  it("prints a repair that works pasted anywhere when only the git folder's side is broken", () => {
    // The worktree's .git still names its folder, whose gitdir names another place: git repairs
    // that from the worktree's side, run from anywhere with the repository named.
    const own = readFileSync(dotGit(), "utf8");
    writeFileSync(
      path.join(ownAdmin(), "gitdir"),
      `${path.join(repo.home, "elsewhere", ".git")}\n`,
    );
    let message = "";
    try {
      repairWorktreeLink(commonDir, worktree, keep);
    } catch (error) {
      message = (error as Error).message;
    }
    const printed = /`(git --git-dir=[^`]+ worktree repair [^`]+)`/.exec(message)?.[1];
    expect(printed, message).toBeDefined();
    execFileSync("sh", ["-c", printed as string], { cwd: "/" });
    expect(readFileSync(path.join(ownAdmin(), "gitdir"), "utf8")).toBe(`${dotGit()}\n`);
    expect(readFileSync(dotGit(), "utf8")).toBe(own);
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });

  it("finds the worktree's own folder by its gitdir when the .git file names a folder outside", () => {
    mkdirSync(path.join(repo.home, "outside", "worktrees", "one"), { recursive: true });
    writeFileSync(path.join(repo.home, "outside", "worktrees", "one", "gitdir"), `${dotGit()}\n`);
    writeFileSync(dotGit(), `gitdir: ${path.join(repo.home, "outside", "worktrees", "one")}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });
});

describe("repairWorktreeLink accepts only the bytes git writes", () => {
  // Each .git below makes git read a repository the agent made, while a path library reads the
  // worktree's own folder: found by a review, each once passed unrepaired.
  const gitDirSeen = () => gitFolders()[0];
  const plantRepo = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    execFileSync("git", ["init", "-q", "--bare", dir]);
  };

  it("a second space after gitdir: (git reads a path relative to the worktree)", () => {
    plantRepo(path.join(worktree, ` ${ownAdmin()}`));
    writeFileSync(dotGit(), `gitdir:  ${ownAdmin()}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitDirSeen()).toBe(ownAdmin());
  });

  it("a NUL byte (git stops reading there)", () => {
    plantRepo(path.join(worktree, "x"));
    writeFileSync(dotGit(), `gitdir: x\0/../${path.relative(worktree, ownAdmin())}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitDirSeen()).toBe(ownAdmin());
  });

  it("a link followed by .. (git resolves it on disk, a path library on paper)", () => {
    const relative = path.relative(worktree, ownAdmin());
    mkdirSync(path.join(worktree, "a", "b", "c"), { recursive: true });
    symlinkSync(path.join(worktree, "a", "b", "c"), path.join(worktree, "l"));
    plantRepo(path.resolve(worktree, "a", "b", relative));
    writeFileSync(dotGit(), `gitdir: l/../${relative}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitDirSeen()).toBe(ownAdmin());
  });

  it("a space before the common folder in commondir", () => {
    plantRepo(path.join(ownAdmin(), ` ${commonDir}`));
    writeFileSync(path.join(ownAdmin(), "commondir"), ` ${commonDir}\n`);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toHaveLength(1);
    expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
  });

  it("keeps a relative .git, as git writes with worktree.useRelativePaths", () => {
    const relative = `gitdir: ${path.relative(worktree, ownAdmin())}\n`;
    writeFileSync(dotGit(), relative);
    expect(repairWorktreeLink(commonDir, worktree, keep)).toEqual([]);
    expect(readFileSync(dotGit(), "utf8")).toBe(relative);
  });

  it("quotes what the agent wrote, control characters escaped", () => {
    writeFileSync(dotGit(), "gitdir: /x/\u001b[2J\n");
    const [repair] = repairWorktreeLink(commonDir, worktree, keep);
    expect(repair).toContain('at "/x/\\u001b[2J" instead of');
    expect(repair).not.toContain("\u001b");
  });
});

/** /dev/shm is a file system of its own on Linux: keeping there is keeping across file systems. */
const otherFileSystem = "/dev/shm";
const acrossFileSystems =
  existsSync(otherFileSystem) && statSync(otherFileSystem).dev !== statSync(os.tmpdir()).dev;

describe.skipIf(!acrossFileSystems)("repairWorktreeLink keeping across file systems", () => {
  it("copies what stood there (a file, a folder, a link), then removes it; a FIFO is removed", () => {
    const keepElsewhere = mkdtempSync(path.join(otherFileSystem, "conductor-test-keep-"));
    try {
      // A folder holding a FIFO (which cannot be copied): kept without it.
      rmSync(dotGit());
      execFileSync("git", ["init", "-q", worktree]);
      execFileSync("mkfifo", [path.join(dotGit(), "pipe")]);
      const [withFifo] = repairWorktreeLink(commonDir, worktree, keepElsewhere);
      expect(withFifo).toContain("kept in");
      expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
      const keptFile = (repair: string) => /kept in (\S+)$/.exec(repair)?.[1] ?? "";
      for (const [plant, check] of [
        [
          () => writeFileSync(dotGit(), "gitdir: /elsewhere\n"),
          (repair: string) =>
            expect(readFileSync(keptFile(repair), "utf8")).toBe("gitdir: /elsewhere\n"),
        ],
        [
          () => execFileSync("git", ["init", "-q", worktree]),
          (repair: string) => expect(existsSync(path.join(keptFile(repair), "HEAD"))).toBe(true),
        ],
        [
          () => symlinkSync("/elsewhere", dotGit()),
          (repair: string) => expect(readlinkSync(keptFile(repair))).toBe("/elsewhere"),
        ],
        [
          () => execFileSync("mkfifo", [dotGit()]),
          (repair: string) => expect(repair).not.toContain("kept in"),
        ],
      ] as const) {
        rmSync(dotGit(), { recursive: true, force: true });
        plant();
        const repairs = repairWorktreeLink(commonDir, worktree, keepElsewhere);
        expect(repairs).toHaveLength(1);
        check(repairs[0] ?? "");
        expect(gitFolders()).toEqual([ownAdmin(), commonDir]);
      }
    } finally {
      rmSync(keepElsewhere, { recursive: true, force: true });
    }
  });
});

describe("repairWorktreeLink leaves honest setups alone", () => {
  it("a worktree under a linked folder, with the relative links git 2.48 writes", async () => {
    const real = path.join(repo.home, "real-ws");
    mkdirSync(real);
    symlinkSync(real, path.join(repo.home, "ws-link"));
    const linked = path.join(repo.home, "ws-link", "three");
    await repo.git("worktree", "add", "-q", "-b", "three", linked);
    const admin = path.join(commonDir, "worktrees", "three");
    expect(repairWorktreeLink(commonDir, linked, keep)).toEqual([]);
    const realWorktree = realpathSync(linked);
    writeFileSync(path.join(linked, ".git"), `gitdir: ${path.relative(realWorktree, admin)}\n`);
    writeFileSync(path.join(admin, "gitdir"), `${path.relative(admin, realWorktree)}/.git\n`);
    expect(repairWorktreeLink(commonDir, linked, keep)).toEqual([]);
  });

  it("a repository whose .git is a link to its git folder", async () => {
    const store = path.join(repo.home, "store.git");
    renameSync(commonDir, store);
    symlinkSync(store, commonDir);
    const other = path.join(repo.home, "ws", "four");
    await repo.git("worktree", "add", "-q", "-b", "four", other);
    const asked = execFileSync("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], {
      cwd: repo.root,
      encoding: "utf8",
    }).trim();
    expect(repairWorktreeLink(asked, other, keep)).toEqual([]);
    expect(repairWorktreeLink(commonDir, other, keep)).toEqual([]);
  });
});

describe("worktreeLinkChanges and checkoutLinkChanges", () => {
  it("say what is not as git made it and change nothing", async () => {
    expect(worktreeLinkChanges(commonDir, worktree)).toEqual([]);
    const other = path.join(repo.home, "other");
    await repo.git("init", "-q", other);
    writeFileSync(dotGit(), `gitdir: ${other}/.git\n`);
    writeFileSync(path.join(ownAdmin(), "commondir"), `${other}/.git\n`);
    expect(worktreeLinkChanges(commonDir, worktree)).toEqual([
      `the worktree's .git points at "${other}/.git" instead of ${ownAdmin()}`,
      `the worktree's commondir points at "${other}/.git" instead of ${commonDir}`,
    ]);
    expect(readFileSync(dotGit(), "utf8")).toBe(`gitdir: ${other}/.git\n`);
    expect(await checkoutLinkChanges(repo.root, worktree)).toHaveLength(2);
    // The main checkout's .git is the repository itself: nothing to compare.
    expect(await checkoutLinkChanges(repo.root, repo.root)).toEqual([]);
  });
});
