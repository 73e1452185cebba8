// Rewriting an agent's commits with plumbing, on real repositories: without given paths, and
// with other messages and identities.
import { afterEach, describe, expect, it } from "vitest";
import { withoutSecrets } from "../../src/executor/secret-messages.js";
import { replayCommits } from "../../src/git/commit-replay.js";
import { KnownSecrets } from "../../src/secrets/known-secrets.js";
import { createTestRepo, headCommit, type TestRepo } from "../helpers/git-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("replayCommits", () => {
  it("takes the paths out of every commit, restores what the start point tracked, and keeps untouched commits, merges, authors and messages", async () => {
    const test = await createTestRepo({ "README.md": "# r\n", ".context/guide.md": "guide\n" });
    repo = test;
    const start = await headCommit(test);
    // A clean commit first: it keeps its id.
    await test.write({ "clean.txt": "clean\n" });
    await test.commitAll("clean work");
    const clean = await headCommit(test);
    await test.write({
      ".env.local": "TOKEN=x\n",
      ".context/guide.md": "edited\n",
      "a.txt": "a\n",
    });
    await test.git("add", "-f", ".env.local", ".context/guide.md", "a.txt");
    await test.git(
      "commit",
      "-q",
      "--author=Agent <agent@example.com>",
      "-m",
      "agent work\n\nwith a body",
    );
    // A side line merged back in.
    await test.git("checkout", "-q", "-b", "side", clean);
    await test.write({ "side.txt": "side\n" });
    await test.commitAll("side work");
    await test.git("checkout", "-q", "main");
    await test.git("merge", "-q", "--no-edit", "side");
    const tip = await headCommit(test);

    const replayed = await replayCommits(test.root, {
      from: start,
      to: tip,
      paths: [".env.local", ".context"],
    });
    expect(replayed.rewritten).toBe(2); // the agent's commit and the merge above it
    const files = (await test.git("ls-tree", "-r", "--name-only", replayed.tip)).split("\n");
    expect(files).toEqual(
      expect.arrayContaining(["README.md", "a.txt", "clean.txt", "side.txt", ".context/guide.md"]),
    );
    expect(files).not.toContain(".env.local");
    expect(await test.git("show", `${replayed.tip}:.context/guide.md`)).toBe("guide");
    const history = await test.git("log", "--format=%an|%s|%b", replayed.tip);
    expect(history).toContain("Agent|agent work|with a body");
    expect(await test.git("log", "--format=%H", replayed.tip)).toContain(clean);
    expect((await test.git("log", "--format=%p", "-1", replayed.tip)).split(" ")).toHaveLength(2);
    const everyPath = await test.git("log", "--format=", "--name-only", replayed.tip);
    expect(everyPath).not.toContain(".env.local");
    // Nothing of the checkout moved: the replay is plumbing only.
    expect(await headCommit(test)).toBe(tip);
  });
});

describe("replayCommits with the metadata of withoutSecrets", () => {
  it("gives the commits whose metadata changes their new words, keeps their trees, and rebuilds only the commits after them", async () => {
    const test = await createTestRepo({ "README.md": "# r\n" });
    repo = test;
    const start = await headCommit(test);
    await test.write({ "one.txt": "1\n" });
    await test.commitAll("first, clean");
    const first = await headCommit(test);
    await test.write({ "two.txt": "2\n" });
    await test.git(
      "commit",
      "-q",
      "-a",
      "--allow-empty",
      "-m",
      "second holds SECRET-123x9\n\nbody",
    );
    await test.git("add", "two.txt");
    await test.git("commit", "-q", "--author=Bot SECRET-123x9 <bot@example.com>", "-m", "third");
    await test.write({ "four.txt": "4\n" });
    await test.commitAll("fourth, clean");
    const tip = await headCommit(test);

    const guard = new KnownSecrets([
      { name: "API_TOKEN", value: "SECRET-123x9", barredFromCommits: true },
    ]).commitGuard();
    const replayed = await replayCommits(test.root, {
      from: start,
      to: tip,
      metadata: withoutSecrets(guard),
    });
    expect(replayed.rewritten).toBe(3);
    const log = await test.git("log", "--format=%H|%s|%b|%an", replayed.tip);
    expect(log).not.toContain("SECRET-123x9");
    const lines = (await test.git("log", "--format=%s|%an|%T", replayed.tip, `^${start}`)).split(
      "\n",
    );
    const original = (await test.git("log", "--format=%s|%an|%T", tip, `^${start}`)).split("\n");
    expect(lines.map((line) => line.split("|")[0])).toEqual([
      "fourth, clean",
      "third",
      "second holds [redacted]",
      "first, clean",
    ]);
    expect(lines[1]?.split("|")[1]).toBe("Bot [redacted]");
    // The work is the same, commit by commit; the clean commit before the first change keeps its id.
    expect(lines.map((line) => line.split("|")[2])).toEqual(
      original.map((line) => line.split("|")[2]),
    );
    expect(await test.git("log", "--format=%H", replayed.tip)).toContain(first);
    expect(await headCommit(test)).toBe(tip);
  });
});
