import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";
import { type ReviewRepo, reviewRepo, runAll } from "../review/rig.js";
import { type CheckoutState, checkoutState } from "./rig.js";

let repo: ReviewRepo | undefined;
const groups: number[] = [];

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // ended, as it should have
    }
  }
  await repo?.remove();
  repo = undefined;
});

/** Enough files that writing them takes a while: the kill lands while the checkout changes. */
const MANY = 2000;

/** Starts conductor in a process group of its own, so that SIGKILL takes its git children too. */
function startInGroup(current: ReviewRepo, args: readonly string[]) {
  const child = execa("node", [CLI, ...args], {
    cwd: current.root,
    detached: true,
    reject: false,
    all: true,
    env: { ...gitEnv(current.home), CI: "1", NO_COLOR: "1" },
  });
  if (child.pid !== undefined) groups.push(child.pid);
  return child;
}

/**
 * Polls (every millisecond or two) until the marker records a change under way, waits `delayMs`
 * more (git is writing files by then), then SIGKILLs conductor's whole group.
 */
async function killDuringChange(
  current: ReviewRepo,
  child: ReturnType<typeof startInGroup>,
  delayMs = 0,
): Promise<boolean> {
  const marker = path.join(current.root, ".git", "conductor", "spotlight.json");
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  while (!exited) {
    let text = "";
    try {
      text = readFileSync(marker, "utf8");
    } catch {
      // not written yet
    }
    if (text.includes('"pending"')) {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      process.kill(-(child.pid as number), "SIGKILL");
      await child;
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [])).length;
}

async function ownChanges(current: ReviewRepo): Promise<void> {
  await current.write({
    "mine.txt": "mine\n",
    "README.md": "# my own edit\n",
    ".env.local": "A=1\n",
  });
  await current.git("add", "mine.txt");
}

async function expectRecoveryByOff(current: ReviewRepo, before: CheckoutState): Promise<void> {
  const status = await current.cli(["status"]);
  expect(status.stderr).toContain("Spotlight is on");
  expect(status.stderr).toContain("A change was cut off half way");
  const off = await current.cli(["spotlight", "--off"]);
  expect(off.exitCode, off.all).toBe(0);
  expect(await checkoutState(current)).toEqual(before);
  expect(existsSync(path.join(current.root, ".git", "conductor", "spotlight.json"))).toBe(false);
}

describe("Spotlight after a SIGKILL", () => {
  it("a conductor killed while it brings a workspace in leaves a checkout --off restores exactly", async () => {
    const current = await reviewRepo([
      {
        id: "big",
        agent: `mkdir -p many && for i in $(seq 1 ${MANY}); do echo $i > many/f$i.txt; done`,
      },
    ]);
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    await ownChanges(current);
    const before = await checkoutState(current);
    // Killed ever later after the change began, until one kill lands while git writes the files.
    let halfWritten = false;
    for (let delay = 0; delay <= 300 && !halfWritten; delay += 20) {
      const killed = await killDuringChange(
        current,
        startInGroup(current, ["spotlight", "big"]),
        delay,
      );
      const written = killed ? await countFiles(path.join(current.root, "many")) : 0;
      halfWritten = written > 0 && written < MANY;
      if (killed && !halfWritten) {
        // Not in the middle, but the recovery must be exact all the same.
        const off = await current.cli(["spotlight", "--off"]);
        expect(off.exitCode, off.all).toBe(0);
        expect(await checkoutState(current)).toEqual(before);
      } else if (!killed) {
        expect((await current.cli(["spotlight", "--off"])).exitCode).toBe(0);
      }
    }
    expect(halfWritten, "no kill landed while the files were being written").toBe(true);
    await expectRecoveryByOff(current, before);
  });

  it("a --watch killed during a sync can be finished by showing the workspace again, then ended exactly", async () => {
    const current = await reviewRepo([{ id: "grow" }]);
    repo = current;
    expect((await runAll(current)).exitCode).toBe(0);
    await ownChanges(current);
    const before = await checkoutState(current);
    const watch = startInGroup(current, ["spotlight", "grow", "--watch"]);
    let output = "";
    watch.all?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    while (!output.includes("Watching grow")) {
      if (watch.exitCode !== null) throw new Error(output);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const worktree = current.worktree("grow");
    await mkdir(path.join(worktree, "many"), { recursive: true });
    for (let i = 1; i <= MANY; i++)
      await writeFile(path.join(worktree, `many/f${i}.txt`), `${i}\n`);
    expect(await killDuringChange(current, watch), output).toBe(true);

    const status = await current.cli(["status"]);
    expect(status.stderr).toContain("A change was cut off half way");
    const finished = await current.cli(["spotlight", "grow"]);
    expect(finished.exitCode, finished.all).toBe(0);
    expect(readFileSync(path.join(current.root, `many/f${MANY}.txt`), "utf8")).toBe(`${MANY}\n`);
    const off = await current.cli(["spotlight", "--off"]);
    expect(off.exitCode, off.all).toBe(0);
    expect(await checkoutState(current)).toEqual(before);
  });
});
