import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { createTestRepo, gitEnv, type TestRepo } from "../helpers/git-repo.js";

/** Files every test repository starts with (committed), besides .gitignore. */
export const BASE_FILES: Record<string, string> = {
  "README.md": "# spotlight\n",
  "src/app.js": "console.log('app');\n",
  "src/util.js": "export const one = 1;\n",
  "src/deep/nested.txt": "nested\n",
  "docs/guide.md": "guide\n",
  "scripts/build.sh": "#!/bin/sh\necho build\n",
  "data/a.txt": "a\n",
  "data/b.txt": "b\n",
  "data/c.txt": "c\n",
  "notes.txt": "notes\n",
};

/** A main checkout with a workspace worktree beside it (a branch with commits and uncommitted edits). */
export interface SpotlightRepo extends TestRepo {
  worktree: string;
  /** The commit the workspace started from. */
  start: string;
  /** Runs git in the worktree. */
  wtGit(...args: string[]): Promise<string>;
}

/**
 * A repository whose main checkout has BASE_FILES, ignored `node_modules/` and `.env.local`, and
 * a workspace worktree `ws` whose changes touch only `feature/` and `src/app.js` (committed) plus
 * `feature/draft.txt` (uncommitted, untracked) and `notes.txt` deleted (uncommitted).
 */
export async function spotlightRepo(): Promise<SpotlightRepo> {
  const repo = await createTestRepo({
    ...BASE_FILES,
    ".gitignore": "node_modules/\n.env.local\n",
  });
  await chmod(path.join(repo.root, "scripts/build.sh"), 0o755);
  await repo.git("add", "-A");
  await repo.git("commit", "-q", "-m", "executable build script");
  const start = (await repo.git("rev-parse", "HEAD")).trim();
  const worktree = path.join(repo.home, "ws");
  await repo.git("worktree", "add", "-q", "-b", "ws", worktree, start);
  const wtGit = async (...args: string[]) =>
    (await execa("git", args, { cwd: worktree, env: gitEnv(repo.home) })).stdout;
  await mkdir(path.join(worktree, "feature"), { recursive: true });
  await writeFile(path.join(worktree, "feature/one.txt"), "feature one\n");
  await writeFile(path.join(worktree, "src/app.js"), "console.log('app with feature');\n");
  await wtGit("add", "-A");
  await wtGit("commit", "-q", "-m", "feature");
  await writeFile(path.join(worktree, "feature/draft.txt"), "draft, not committed\n");
  await rm(path.join(worktree, "notes.txt"));
  // Ignored files of the workspace stay out of Spotlight.
  await mkdir(path.join(worktree, "node_modules"), { recursive: true });
  await writeFile(path.join(worktree, "node_modules/ws-only.js"), "ignored in the workspace\n");
  return { ...repo, worktree, start, wtGit };
}

/** Everything of a checkout Spotlight must give back: files (ignored ones too), index, HEAD, refs. */
export interface CheckoutState {
  files: Record<string, string>;
  index: string;
  head: string;
  refs: string;
}

/** Reads the full state of the main checkout, byte for byte (but conductor's run folders). */
export async function checkoutState(repo: TestRepo): Promise<CheckoutState> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(repo.root, dir))) {
      const relative = dir === "" ? entry : `${dir}/${entry}`;
      // conductor's own run state changes by design (archive records itself there).
      if (relative === ".git" || relative === ".conductor/runs") continue;
      const full = path.join(repo.root, relative);
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) files[relative] = `link -> ${readlinkSync(full)}`;
      else if (stats.isDirectory()) {
        files[`${relative}/`] = "dir";
        walk(relative);
      } else {
        const mode = (stats.mode & 0o111) !== 0 ? "x" : "-";
        files[relative] = `${mode} ${readFileSync(full).toString("base64")}`;
      }
    }
  };
  walk("");
  return {
    files,
    index: readFileSync(path.join(repo.root, ".git", "index")).toString("base64"),
    head: `${await repo.git("symbolic-ref", "-q", "HEAD")} ${await repo.git("rev-parse", "HEAD")}`,
    refs: (await repo.git("for-each-ref", "--format=%(refname) %(objectname)"))
      .split("\n")
      .filter((line) => !line.startsWith("refs/conductor/spotlight/"))
      .join("\n"),
  };
}

/** A small seeded random generator (mulberry32): the same seed gives the same states. */
export function randomSource(seed: number): {
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
} {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max) => Math.floor(next() * max),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (p) => next() < p,
  };
}

/** Puts the main checkout back to its committed state (ignored files gone too). */
export async function resetMain(repo: TestRepo): Promise<void> {
  await repo.git("reset", "-q", "--hard", "HEAD");
  await repo.git("clean", "-q", "-fdx");
}

/**
 * Makes a random uncommitted state of the main checkout: tracked edits (some staged, some staged
 * then edited again), untracked files (some in new folders), staged new files, deletions (plain
 * and staged), renames (git mv and plain), executable bits flipped, symlinks, binary content,
 * and ignored files (which Spotlight must never touch). Returns what it did, for failure messages.
 */
export async function randomMainState(
  repo: TestRepo,
  random: ReturnType<typeof randomSource>,
): Promise<string[]> {
  const done: string[] = [];
  const tracked = Object.keys(BASE_FILES);
  const content = () =>
    random.chance(0.15)
      ? Buffer.from(Array.from({ length: 1 + random.int(64) }, () => random.int(256)))
      : `line ${random.int(1000)}\n`.repeat(1 + random.int(4));
  const exists = (file: string) => {
    try {
      lstatSync(path.join(repo.root, file));
      return true;
    } catch {
      return false;
    }
  };
  const steps = 1 + random.int(7);
  for (let step = 0; step < steps; step++) {
    const file = random.pick(tracked);
    const full = path.join(repo.root, file);
    switch (random.int(11)) {
      case 0:
      case 1:
        if (!exists(file)) break;
        await writeFile(full, content());
        done.push(`edit ${file}`);
        break;
      case 2:
        if (!exists(file)) break;
        await writeFile(full, content());
        await repo.git("add", "--", file);
        done.push(`edit+stage ${file}`);
        if (random.chance(0.5)) {
          await writeFile(full, content());
          done.push(`edit again ${file}`);
        }
        break;
      case 3: {
        const name = `${random.pick(["", "new/", "src/", "data/more/"])}untracked-${random.int(100)}.txt`;
        await mkdir(path.dirname(path.join(repo.root, name)), { recursive: true });
        await writeFile(path.join(repo.root, name), content());
        if (random.chance(0.4)) {
          await repo.git("add", "--", name);
          done.push(`new+stage ${name}`);
        } else done.push(`new ${name}`);
        break;
      }
      case 4:
        if (!exists(file)) break;
        if (random.chance(0.5)) {
          await rm(full);
          done.push(`delete ${file}`);
        } else {
          await repo.git("rm", "-q", "--cached", "--", file).catch(() => {});
          await rm(full, { force: true });
          done.push(`git rm ${file}`);
        }
        break;
      case 5: {
        if (!exists(file) || lstatSync(full).isDirectory()) break;
        const to = `${file}.renamed`;
        if (random.chance(0.5)) {
          await repo.git("mv", "--", file, to).catch(() => {});
          done.push(`git mv ${file}`);
        } else {
          await execa("mv", [full, path.join(repo.root, to)]);
          done.push(`mv ${file}`);
        }
        break;
      }
      case 6: {
        if (!exists(file) || !lstatSync(full).isFile()) break;
        const executable = (lstatSync(full).mode & 0o111) !== 0;
        await chmod(full, executable ? 0o644 : 0o755);
        if (random.chance(0.3)) await repo.git("add", "--", file);
        done.push(`chmod ${file}`);
        break;
      }
      case 7: {
        const link = `link-${random.int(10)}`;
        if (exists(link)) break;
        await symlink(random.pick(tracked), path.join(repo.root, link));
        done.push(`symlink ${link}`);
        break;
      }
      case 8: {
        const name = random.pick(["node_modules/dep/index.js", ".env.local", "node_modules/x.js"]);
        await mkdir(path.dirname(path.join(repo.root, name)), { recursive: true });
        await writeFile(path.join(repo.root, name), content());
        done.push(`ignored ${name}`);
        break;
      }
      case 9: {
        const name = `intent-${random.int(10)}.txt`;
        if (exists(name)) break;
        await writeFile(path.join(repo.root, name), content());
        await repo.git("add", "-N", "--", name);
        done.push(`add -N ${name}`);
        break;
      }
      default:
        // The same file the workspace changes: a conflict, unless the content happens to agree.
        if (random.chance(0.3)) {
          await writeFile(path.join(repo.root, "src/app.js"), content());
          done.push("edit src/app.js (the workspace's file)");
        }
        break;
    }
  }
  return done;
}
