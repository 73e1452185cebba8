// An agent can make git show a history other than the stored one: a replace ref (`git replace`)
// or a line in .git/info/grafts names other parents or another commit for an object, everywhere in
// the repository. Conductor judges a branch by its history as stored (what a push sends), and
// takes both away, keeping what stood there. Each agent is played by shell commands.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { gitEnv, type TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";
import { refusedWorkspace, removeTestRepo, repoWithAgentAndCheck } from "./rig.js";

const SECRET = "sk-live-shallowmerge-77c2e0b1";

let repo: TestRepo | undefined;
afterEach(async () => {
  await removeTestRepo(repo);
  repo = undefined;
});

/**
 * S holds the secret, C removes it and adds the work, and the merge M of C and the start keeps
 * the start in the branch. With C shallow (shown without parents, so as adding its files),
 * start..M lists M and C, never S, and no commit listed adds the secret.
 */
const SHALLOW_MERGE = [
  "start=$(git rev-parse HEAD)",
  "cp .env.local leak.txt && git add leak.txt && git commit -qm 'notes'",
  "git rm -q leak.txt && echo work > work.txt && git add work.txt",
  "git commit -qm 'work'",
  "c=$(git rev-parse HEAD)",
  "m=$(git commit-tree $(git write-tree) -p $c -p $start -m 'merge')",
  "git reset -q --hard $m",
  'echo $c >> "$(git rev-parse --git-common-dir)/shallow"',
].join("\n");

/** Makes a commit of the agent's work with no parent and puts the branch there, as a rewrite. */
const DROP_HISTORY = [
  "start=$(git rev-parse HEAD)",
  "echo work > work.txt && git add work.txt",
  "orphan=$(git commit-tree $(git write-tree) -m 'the whole history, rewritten')",
  "git reset -q --hard $orphan",
].join("\n");

async function agentRepo(command: string): Promise<TestRepo> {
  const made = await repoWithConfig({
    agent: { kind: "command", command: "true" },
    tasks: [{ id: "disguised", prompt: "work", agent: { command } }],
  });
  repo = made;
  return made;
}

/**
 * One task, "disguised", whose agent runs `command` in a repository with a secret in the copied
 * `.env.local`; with `inCheck`, the agent writes `command` as check.sh, which the check runs.
 */
async function secretRepo(command: string, inCheck = false): Promise<TestRepo> {
  const [agent, check] = inCheck ? ["true", command] : [command, "true"];
  const made = await repoWithAgentAndCheck("disguised", agent, check, SECRET);
  repo = made;
  return made;
}

function run(test: TestRepo) {
  return conductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
}

/** The refs of the repository, by name. */
async function refs(test: TestRepo): Promise<Map<string, string>> {
  const listed = await test.git("for-each-ref", "--format=%(refname) %(objectname)");
  return new Map(
    listed
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(" ") as [string, string]),
  );
}

/**
 * The branch's history with its changes as stored: the shallow line the agent left stays (git's
 * own fetches write that file), and would hide the very commits looked for.
 */
async function storedLog(test: TestRepo, branch: string): Promise<string> {
  const args = ["log", "-p", "--format=%H%n%B", branch];
  const env = { ...gitEnv(test.home), GIT_SHALLOW_FILE: "/dev/null" };
  return (await execa("git", args, { cwd: test.root, env })).stdout;
}

describe("an agent that disguises the history", () => {
  it("with a replace ref: the rewrite is seen and undone, the replace ref taken away and kept", async () => {
    const test = await agentRepo(`${DROP_HISTORY}\ngit replace --graft $orphan $start`);
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "disguised", "agent");
    const message = workspace.failure?.message ?? "";
    expect(message).toContain(`conductor/disguised no longer contains its start point`);
    expect(message).toMatch(
      /refs\/replace\/[0-9a-f]{40} was created \(at [0-9a-f]+\); it was removed, the agent's value is kept as refs\/conductor\/saved\/\S+-moved\/refs\/replace\/[0-9a-f]{40}/,
    );
    // The branch is back at its start, as stored; no replace ref is left to show it otherwise.
    const after = await refs(test);
    expect(after.get("refs/heads/conductor/disguised")).toBe(start);
    expect([...after.keys()].filter((ref) => ref.startsWith("refs/replace/"))).toEqual([]);
    // The agent's rewritten branch and its replacement are both kept.
    const saved = [...after.keys()].filter((ref) => ref.startsWith("refs/conductor/saved/"));
    expect(saved.some((ref) => ref.endsWith("-branch"))).toBe(true);
    expect(saved.some((ref) => ref.includes("-moved/refs/replace/"))).toBe(true);
  });

  it("with .git/info/grafts: the rewrite is seen and undone, the grafts file taken away and kept", async () => {
    const test = await agentRepo(
      `${DROP_HISTORY}\necho "$orphan $start" >> "$(git rev-parse --git-common-dir)/info/grafts"`,
    );
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "disguised", "agent");
    const message = workspace.failure?.message ?? "";
    expect(message).toContain(`conductor/disguised no longer contains its start point`);
    expect(message).toContain(
      "the repository's git files .git/info/grafts changed (git runs them as code or shows history through them); put back as the run found them",
    );
    expect((await refs(test)).get("refs/heads/conductor/disguised")).toBe(start);
    expect(existsSync(path.join(test.root, ".git", "info", "grafts"))).toBe(false);
    // What the agent wrote is kept beside the workspace's logs.
    const logs = path.dirname(workspace.failure?.logPath ?? "");
    const kept = readdirSync(logs).find((entry) => entry.startsWith("git-files-"));
    expect(kept, readdirSync(logs).join(", ")).toBeDefined();
    expect(readFileSync(path.join(logs, kept ?? "", "info", "grafts"), "utf8")).toMatch(
      /^[0-9a-f]{40} [0-9a-f]{40}\n$/,
    );
  });

  it.each([
    ["agent", "the agent"],
    ["check", "the check script"],
  ])(
    "with .git/shallow behind a merge (%s): the commit holding a secret is still seen, and taken out",
    async (step, who) => {
      const made = await secretRepo(SHALLOW_MERGE, step === "check");
      const workspace = refusedWorkspace(made, await run(made), "disguised", step);
      expect(workspace.failure?.message).toContain(
        `${who} committed leak.txt (API_TOKEN from .env.local)`,
      );
      const history = await storedLog(made, "conductor/disguised");
      expect(history).not.toContain(SECRET);
      if (step === "agent") expect(history).toContain("work");
    },
  );

  it.each([
    ["agent", "the agent", ""],
    // The repository's config is not put back around a check, and git 2.39 lets it beat
    // GIT_NO_REPLACE_OBJECTS.
    ["check", "the check script", "git config core.useReplaceRefs true"],
  ])(
    "with a replace ref that shows the committed secret file as a tree (%s): the file is still found",
    async (step, who, more) => {
      const disguise = [
        "cp .env.local leak.txt && git add leak.txt && git commit -qm 'notes'",
        "blob=$(git rev-parse HEAD:leak.txt)",
        "git rm -q leak.txt && echo work > work.txt && git add work.txt",
        "git commit -qm 'work'",
        "git update-ref refs/replace/$blob $(git mktree </dev/null)",
        more,
      ].join("\n");
      const made = await secretRepo(disguise, step === "check");
      const workspace = refusedWorkspace(made, await run(made), "disguised", step);
      expect(workspace.failure?.message).toContain(
        `${who} committed leak.txt (API_TOKEN from .env.local)`,
      );
      const history = await made.git("log", "-p", "--format=%H%n%B", "conductor/disguised");
      expect(history).toContain("work");
      expect(history).not.toContain(SECRET);
    },
  );

  it("leaves the .git/shallow of a shallow fetch as it is, and the workspace passes", async () => {
    // Another repository of two commits, fetched one deep: git marks its tip shallow, whose
    // parent it does not have. Putting the file back would leave that tip's parent missing.
    const made = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: [{ id: "fetches", prompt: "work", agent: { command: "PLACEHOLDER" } }],
    });
    repo = made;
    const upstream = path.join(made.home, "upstream");
    await execa("git", ["init", "-q", "-b", "main", upstream]);
    for (const n of [1, 2]) {
      writeFileSync(path.join(upstream, "f.txt"), `${n}\n`);
      await execa("git", ["-C", upstream, "add", "f.txt"], { env: gitEnv(made.home) });
      await execa("git", ["-C", upstream, "commit", "-qm", `c${n}`], { env: gitEnv(made.home) });
    }
    const config = path.join(made.root, "conductor.yaml");
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace(
        "PLACEHOLDER",
        `git fetch -q --depth 1 file://${upstream} main && echo work > work.txt`,
      ),
    );
    await made.git("commit", "-qam", "the fetching task");
    const result = await run(made);
    expect(result.exitCode, result.all).toBe(0);
    const shallow = readFileSync(path.join(made.root, ".git", "shallow"), "utf8");
    const tip = (await execa("git", ["-C", upstream, "rev-parse", "main"])).stdout.trim();
    expect(shallow).toBe(`${tip}\n`);
    expect(await made.git("show", "conductor/fetches:work.txt")).toBe("work");
  });

  it("still reads a shallow clone (a CI checkout of depth 1) and keeps the agent's own commits", async () => {
    const made = await repoWithConfig({
      agent: { kind: "command", command: "true" },
      tasks: [
        {
          id: "commits",
          prompt: "work",
          agent: {
            command: [
              "echo one > one.txt && git add one.txt && git commit -qm one",
              "echo two > two.txt && git add two.txt && git commit -qm two",
            ].join("\n"),
          },
        },
      ],
    });
    repo = made;
    await made.write({ "more.txt": "history below the clone's depth\n" });
    await made.commitAll("more");
    const clone = path.join(made.home, "clone");
    const env = gitEnv(made.home);
    await execa("git", ["clone", "-q", "--depth", "1", `file://${made.root}`, clone], { env });
    expect(existsSync(path.join(clone, ".git", "shallow"))).toBe(true);
    const result = await conductor(["run", "--output", "plain"], { cwd: clone, home: made.home });
    expect(result.exitCode, result.all).toBe(0);
    // The agent committed everything: conductor's commit step had nothing left to commit.
    const log = await execa("git", ["log", "--format=%s", "conductor/commits"], {
      cwd: clone,
      env,
    });
    expect(log.stdout.split("\n")).toEqual(["two", "one", "more"]);
  });

  it("with a replace ref for main's own commit: main shows its own files again", async () => {
    // A commit like main's tip with one more file, shown in place of main's tip everywhere.
    const test = await agentRepo(
      [
        "echo planted > planted.txt && git add planted.txt",
        "fake=$(git commit-tree $(git write-tree) -p $(git rev-parse main^{commit}) -m 'main, as the agent would have it')",
        "git reset -q --hard HEAD && rm -f planted.txt",
        "git replace $(git rev-parse main) $fake",
        "echo work > work.txt",
      ].join("\n"),
    );
    const main = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "disguised", "agent");
    expect(workspace.failure?.message).toContain(`refs/replace/${main} was created`);
    expect((await refs(test)).has(`refs/replace/${main}`)).toBe(false);
    // git reads main's tip as stored again: its files are the user's.
    expect(await test.git("ls-tree", "-r", "--name-only", "main")).not.toContain("planted.txt");
  });
});
