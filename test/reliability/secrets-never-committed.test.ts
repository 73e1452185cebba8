// A secret the run knows never lands on a workspace branch, whoever writes it into a file: the
// agent is untrusted code with a shell, and `conductor pr` pushes the branch. A file holding a
// known credential (a secret-named variable of conductor's environment, a secret-named value of a
// copied env file), as printed or in a JSON spelling, is kept out of conductor's commit and taken
// out of the agent's own commits; it stays in the worktree and the workspace fails, naming the
// file and the variable, never the value. Each agent is the `command` agent.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, waitFor } from "../helpers/run-repo.js";
import {
  filesContaining,
  gitIn,
  hasStackTrace,
  killLeftovers,
  newestRunId,
  refusedWorkspace,
  removeTestRepo,
  workspaceOf,
  worktreeOf,
} from "./rig.js";

/** In the copied, gitignored .env.local, under a credential's name. */
const ENV_FILE_TOKEN = "tok-envlocal-Vx8Qm2Lp";
/** In conductor's environment: a quote and a backslash, so JSON spells it differently. */
const API_KEY = 'sk-live"quote\\back-zq9Wk7xy';
/**
 * Parts of the secrets that every spelling of them holds (printed, JSON-escaped, with `-` as
 * `\u002d`) and nothing else does: what the checks look for.
 */
const MARKS = ["Vx8Qm2Lp", "zq9Wk7xy"];

/** Conductor's environment: the API key, and values that are no credentials by name. */
const ENV = { DEPLOY_API_KEY: API_KEY, NODE_ENV: "development" };

/** Shell: the .env.local token, as the agent finds it. */
const TOKEN = `"$(sed -n 's/^API_TOKEN=//p' .env.local)"`;

/** Shell: writes `file` holding the API key as JSON, `-` spelled `\u002d` when `unicode`. */
function jsonWithKey(file: string, unicode = false): string {
  const replace = unicode ? `.replace(/-/g, "\\\\u002d")` : "";
  return `node -e 'require("fs").writeFileSync("${file}", JSON.stringify({ key: process.env.DEPLOY_API_KEY })${replace})'`;
}

let repo: TestRepo | undefined;
afterEach(async () => {
  await removeTestRepo(repo);
  repo = undefined;
});

/** A repository whose tasks run `command`s, with `.env.local` (gitignored) copied to each. */
async function secretsRepo(tasks: Record<string, string>, envLocal = ""): Promise<TestRepo> {
  const made = await repoWithConfig(
    {
      concurrency: 2,
      workspaces: { copy: [".env.local"] },
      agent: { kind: "command", command: "true" },
      tasks: Object.entries(tasks).map(([id, command]) => ({
        id,
        prompt: `work on ${id}`,
        agent: { command },
      })),
    },
    { ".gitignore": ".env.local\n" },
  );
  await made.write({ ".env.local": `API_TOKEN=${ENV_FILE_TOKEN}\n${envLocal}` });
  repo = made;
  return made;
}

function run(test: TestRepo) {
  return conductor(["run", "--output", "plain"], { cwd: test.root, home: test.home, env: ENV });
}

/** The branch's commits since main as `git log -p`, messages included. */
function historyPatch(test: TestRepo, branch: string): Promise<string> {
  return test.git("log", "-p", "--no-renames", "--format=%H%n%B", branch, "^main");
}

/** Which {@link MARKS} `text` holds. */
function marksIn(text: string): string[] {
  return MARKS.filter((mark) => text.includes(mark));
}

describe("a file the agent wrote a secret into is never committed", () => {
  it("commits nothing, fails the workspace naming the files and the variable, and leaves the files in the worktree", async () => {
    const test = await secretsRepo({
      write: [
        `echo ${TOKEN} > out.txt`,
        `printf '{"token": "%s"}\\n' ${TOKEN} > config.json`,
        `touch "named-"${TOKEN}".txt"`,
        "echo fine > normal.txt",
      ].join(" && "),
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "write", "commit");
    const message = workspace.failure?.message ?? "";
    expect(message).toContain("out.txt (API_TOKEN from .env.local)");
    expect(message).toContain("config.json (API_TOKEN from .env.local)");
    // Named after the secret: shown with it taken out.
    expect(message).toContain("named-[redacted].txt (API_TOKEN from .env.local)");
    expect(message).toContain("nothing was committed");
    expect(message).toMatch(/take the secret out of them/i);
    expect(marksIn(message)).toEqual([]);
    // As with a file over the size limit, nothing of the work is committed: the branch did not move.
    expect((await test.git("rev-parse", "conductor/write")).trim()).toBe(start);
    expect(workspace.commit).toBeNull();
    expect(marksIn(await test.git("log", "-p", "--all", "--format=%H%n%B"))).toEqual([]);
    // Nothing is lost: the files are in the worktree as the agent left them, nothing staged.
    const worktree = worktreeOf(test, "write");
    expect(readFileSync(path.join(worktree, "out.txt"), "utf8")).toContain(ENV_FILE_TOKEN);
    expect(readFileSync(path.join(worktree, "normal.txt"), "utf8")).toBe("fine\n");
    expect(existsSync(path.join(worktree, `named-${ENV_FILE_TOKEN}.txt`))).toBe(true);
    expect(await gitIn(test, worktree, "diff", "--cached", "--name-only")).toBe("");
  });
});

describe("a file the agent committed a secret in is taken out of its commits", () => {
  it("takes the files out of every commit the agent made, keeps the rest of its work and its messages, and fails the workspace naming them", async () => {
    const test = await secretsRepo({
      commit: [
        jsonWithKey("creds.json"),
        "echo keep > keep.txt",
        "git add creds.json keep.txt",
        'git commit -qm "agent adds creds and keep"',
        jsonWithKey("escaped.json", true),
        `printf '%s\\n' "$DEPLOY_API_KEY" > plain.txt`,
        "echo more >> keep.txt",
        "git add -A",
        'git commit -qm "agent adds more"',
        // And one file it leaves uncommitted, which no commit may hold either.
        "echo later > later.txt",
      ].join(" && "),
    });
    const workspace = refusedWorkspace(test, await run(test), "commit", "agent");
    const message = workspace.failure?.message ?? "";
    for (const file of ["creds.json", "escaped.json", "plain.txt"]) {
      expect(message).toContain(`${file} (DEPLOY_API_KEY)`);
    }
    expect(message).toContain("taken out of the 2 commits the agent made");
    expect(marksIn(message)).toEqual([]);
    // No commit of the branch holds the key, in any spelling; the rest of the work is there.
    const branch = "conductor/commit";
    expect(marksIn(await historyPatch(test, branch))).toEqual([]);
    expect(marksIn(await test.git("log", "-p", "--all", "--format=%H%n%B"))).toEqual([]);
    expect(await test.git("show", `${branch}:keep.txt`)).toBe("keep\nmore");
    const files = await test.git("ls-tree", "-r", "--name-only", branch);
    expect(files.split("\n")).not.toContain("creds.json");
    expect(files.split("\n")).not.toContain("plain.txt");
    expect((await test.git("log", "--format=%s", branch, "^main")).split("\n")).toEqual([
      "agent adds more",
      "agent adds creds and keep",
    ]);
    // The files stay in the worktree, untracked, for the key to be taken out of them.
    const worktree = worktreeOf(test, "commit");
    expect(readFileSync(path.join(worktree, "creds.json"), "utf8")).toBe(
      JSON.stringify({ key: API_KEY }),
    );
    expect(await gitIn(test, worktree, "ls-files", "creds.json", "escaped.json", "plain.txt")).toBe(
      "",
    );
    expect((await gitIn(test, worktree, "symbolic-ref", "HEAD")).trim()).toBe(
      `refs/heads/${branch}`,
    );
  });
});

describe("a secret the agent wrote about its commits is taken out of them", () => {
  it("makes its commits again with the secret in their messages, identities and headers replaced, keeping the work, and says so in the agent log", async () => {
    const test = await secretsRepo({
      message: [
        `t=${TOKEN}`,
        "echo work > work.txt && git add work.txt",
        'git commit -qm "use token $t" -m "and the key $DEPLOY_API_KEY"',
        "echo two > two.txt && git add two.txt",
        `git commit -q --author="bot-$t <bot@example.com>" -m "$(node -e 'console.log(JSON.stringify({ key: process.env.DEPLOY_API_KEY }))')"`,
        "echo three > three.txt && git add three.txt && git commit -qm 'clean words'",
        // A record separator, which a reader splitting git log's output on it would stop at.
        `git commit -q --allow-empty -m "$(printf 'separated\\036%s' "$t")"`,
        // A header of its own, which git log never shows.
        "tree=$(git write-tree) && parent=$(git rev-parse HEAD)",
        `c=$(printf 'tree %s\\nparent %s\\nauthor A <a@example.com> 1700000000 +0000\\ncommitter A <a@example.com> 1700000000 +0000\\nx-note %s\\n\\nheaders\\n' "$tree" "$parent" "$t" | git hash-object -t commit -w --stdin --literally)`,
        'git update-ref HEAD "$c"',
      ].join(" && "),
    });
    const result = await run(test);
    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(0);
    const workspace = workspaceOf(latestSummary(test.root), "message");
    expect(workspace.status).toBe("succeeded");
    const branch = "conductor/message";
    const everything = "%H%n%an%n%ae%n%cn%n%ce%n%B";
    expect(marksIn(await test.git("log", "-p", "--all", `--format=${everything}`))).toEqual([]);
    // The same commits, in the same order, with the same work; only the secrets are gone.
    const commits = (await test.git("log", "-z", "--format=%s|%b|%an", branch, "^main"))
      .split("\0")
      .filter(Boolean)
      .map((commit) => commit.replace(/\s*\n\|/, "|"));
    const author = (await test.git("log", "-1", "--format=%an", "main")).trim();
    expect(commits).toEqual([
      "headers||A",
      `separated\x1e[redacted]||${author}`,
      `clean words||${author}`,
      '{"key":"[redacted]"}||bot-[redacted]',
      `use token [redacted]|and the key [redacted]|${author}`,
    ]);
    for (const file of ["work.txt", "two.txt", "three.txt"]) {
      expect(await test.git("show", `${branch}:${file}`)).not.toBe("");
    }
    // Nor does any commit object of the branch as stored (its headers included).
    for (const commit of (await test.git("rev-list", branch, "^main")).split("\n")) {
      expect(marksIn(await test.git("cat-file", "commit", commit))).toEqual([]);
    }
    const { runId } = latestSummary(test.root);
    const runDir = path.join(test.root, ".conductor", "runs", runId);
    const log = readFileSync(path.join(runDir, "workspaces", "message", "agent.log"), "utf8");
    expect(log).toMatch(/API_TOKEN from \.env\.local/);
    expect(log).toContain("DEPLOY_API_KEY");
    expect(log).toContain("into the words of 4 commits the agent made");
    expect(marksIn(log)).toEqual([]);
  });
});

describe("commits holding a secret that cannot be made again", () => {
  it("are set aside: the branch goes back to where the step began and the workspace fails", async () => {
    // git makes no commit without an author's name, so this one cannot be made again without
    // the file; it must not stay on the branch, where no later step would look at it.
    const test = await secretsRepo({
      nameless: [
        "echo keep > keep.txt",
        `printf '%s\\n' ${TOKEN} > token.txt`,
        "git add keep.txt token.txt",
        "tree=$(git write-tree) && parent=$(git rev-parse HEAD)",
        `c=$(printf 'tree %s\\nparent %s\\nauthor <a@example.com> 1700000000 +0000\\ncommitter <a@example.com> 1700000000 +0000\\n\\nno name\\n' "$tree" "$parent" | git hash-object -t commit -w --stdin --literally)`,
        'git update-ref HEAD "$c"',
      ].join(" && "),
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "nameless", "agent");
    const message = workspace.failure?.message ?? "";
    expect(message).toContain("could not take secrets out of the commits the agent made");
    expect(message).toContain(`conductor/nameless was put back to ${start.slice(0, 10)}`);
    expect(marksIn(message)).toEqual([]);
    expect((await test.git("rev-parse", "conductor/nameless")).trim()).toBe(start);
    const saved = await test.git("for-each-ref", "--format=%(refname)", "refs/conductor/saved/");
    expect(saved).toMatch(/secret-commits/);
  });
});

describe("a follow-up's commits are looked at like the first turn's", () => {
  it("takes the file out of the follow-up's commits only, so the branch keeps its earlier clean version", async () => {
    const test = await secretsRepo({
      config: `if [ ! -f "$HOME/first-done" ]; then touch "$HOME/first-done"; echo '{"debug": false}' > config.json; else ${jsonWithKey("config.json")} && git commit -qam "agent puts the key in"; fi`,
    });
    const first = await run(test);
    expect(first.exitCode, first.all).toBe(0);
    const branch = "conductor/config";
    const before = (await test.git("rev-parse", branch)).trim();
    const followUp = await conductor(["continue", "config", "add the key"], {
      cwd: test.root,
      home: test.home,
      env: ENV,
    });
    expect(hasStackTrace(followUp.all), followUp.all).toBe(false);
    expect(followUp.exitCode, followUp.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "config");
    expect(workspace.failure?.step).toBe("agent");
    expect(workspace.failure?.message).toContain("config.json (DEPLOY_API_KEY)");
    // The commit of the first turn is untouched; the follow-up's commit no longer changes the file.
    expect(await test.git("show", `${branch}:config.json`)).toBe('{"debug": false}');
    expect(await test.git("merge-base", "--is-ancestor", before, branch)).toBe("");
    expect(marksIn(await test.git("log", "-p", "--all", "--format=%H%n%B"))).toEqual([]);
    expect(readFileSync(path.join(worktreeOf(test, "config"), "config.json"), "utf8")).toBe(
      JSON.stringify({ key: API_KEY }),
    );
  });
});

describe("refusing a secret leaks nothing itself", () => {
  it("keeps the values out of the failure messages, events.jsonl, run.json, logs and reports", async () => {
    const test = await secretsRepo({
      write: `echo ${TOKEN} > out.txt && ${jsonWithKey("key.json")}`,
      commit: `${jsonWithKey("creds.json", true)} && git add creds.json && git commit -qm creds`,
    });
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(test.root);
    expect(workspaceOf(summary, "write").failure?.message).toContain("key.json (DEPLOY_API_KEY)");
    expect(workspaceOf(summary, "commit").failure?.message).toContain(
      "creds.json (DEPLOY_API_KEY)",
    );
    const outputs: Record<string, string> = { "conductor run": result.all };
    for (const args of [["status"], ["report"], ["logs", "write"], ["logs", "commit"]]) {
      const shown = await conductor(args, { cwd: test.root, home: test.home, env: ENV });
      outputs[`conductor ${args.join(" ")}`] = shown.all;
    }
    const runDir = path.join(test.root, ".conductor", "runs", summary.runId);
    for (const file of ["events.jsonl", "run.json", "summary.json"]) {
      outputs[file] = readFileSync(path.join(runDir, file), "utf8");
    }
    // The refusals are written where people look: the state and the agent log.
    expect(outputs["run.json"]).toContain("out.txt (API_TOKEN from .env.local)");
    expect(outputs["events.jsonl"]).toContain("creds.json (DEPLOY_API_KEY)");
    expect(readFileSync(path.join(runDir, "workspaces", "commit", "agent.log"), "utf8")).toContain(
      "creds.json (DEPLOY_API_KEY)",
    );
    const leaks = Object.entries(outputs).filter(([, text]) => marksIn(text).length > 0);
    expect(leaks.map(([where]) => where)).toEqual([]);
    for (const mark of MARKS) {
      expect(filesContaining(path.join(test.root, ".conductor"), mark)).toEqual([]);
    }
  });
});

describe("work without secrets in it is committed as before", () => {
  it("commits files that hold no credential, values of the env file no credential's name marks, passwords too short or too ordinary to refuse, and a key's armour", async () => {
    const test = await secretsRepo(
      {
        plain: [
          "echo 'NODE_ENV is development, the API is at http://localhost:4000' > notes.txt",
          "echo 'the database password is hunter2' >> notes.txt",
          // The stock settings of CI services and compose files: ordinary words of every such
          // project, and a PEM key's armour, which every file that handles keys says.
          "echo 'We use postgres; the login form has a password field' >> notes.txt",
          "echo '-----BEGIN PRIVATE KEY-----' >> notes.txt",
          "echo one > one.txt && git add one.txt && git commit -qm 'agent adds one'",
          // Staged by the agent and left so: read from the index, and clean.
          "echo two > two.txt && git add two.txt",
        ].join(" && "),
      },
      [
        "API_URL=http://localhost:4000",
        "DB_PASSWORD=hunter2",
        "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
        "POSTGRES_PASSWORD=password",
        'APP_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----',
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        '-----END PRIVATE KEY-----"',
        "",
      ].join("\n"),
    );
    const result = await run(test);
    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(0);
    const workspace = workspaceOf(latestSummary(test.root), "plain");
    expect(workspace.status, result.all).toBe("succeeded");
    const branch = "conductor/plain";
    expect(workspace.commit).toBe((await test.git("rev-parse", branch)).trim());
    expect(await test.git("show", `${branch}:notes.txt`)).toContain("http://localhost:4000");
    expect(await test.git("show", `${branch}:one.txt`)).toBe("one");
    expect(await test.git("show", `${branch}:two.txt`)).toBe("two");
    expect((await test.git("log", "--format=%s", branch, "^main")).split("\n")).toHaveLength(2);
  });
});

describe("an agent that games how git sees its work still commits no secret", () => {
  it("refuses to finish a merge the agent left open, whose other side brought a secret", async () => {
    const test = await secretsRepo({
      merge: [
        "here=$(git symbolic-ref --short HEAD)",
        "git checkout -q --detach",
        `printf '%s\\n' "$DEPLOY_API_KEY" > side.txt`,
        "git add side.txt && git commit -qm 'side holds the key'",
        "git rm -q side.txt && git commit -qm 'side drops it'",
        "side=$(git rev-parse HEAD)",
        'git checkout -q "$here"',
        'git merge -q --no-commit -s ours "$side"',
        "echo y > y.txt",
      ].join(" && "),
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "merge", "commit");
    expect(workspace.failure?.message).toContain("a merge was left unfinished");
    // The abort it names works as printed, wherever the user's shell is.
    const abort = /`(git -C \S+ merge --abort)`/.exec(workspace.failure?.message ?? "")?.[1];
    expect(abort, workspace.failure?.message).toBeDefined();
    const aborted = await execa("sh", ["-c", abort as string], { cwd: "/", reject: false });
    expect(aborted.exitCode, aborted.stderr).toBe(0);
    expect((await test.git("rev-parse", "conductor/merge")).trim()).toBe(start);
    expect(marksIn(await historyPatch(test, "conductor/merge"))).toEqual([]);
  });

  it("reads what the index holds for a file the agent staged, not what the disk shows", async () => {
    const test = await secretsRepo({
      hidden: [
        // A blob staged for a file the disk does not hold, hidden from git add by --skip-worktree.
        `blob=$(printf '%s\\n' "$DEPLOY_API_KEY" | git hash-object -w --stdin)`,
        'git update-index --add --cacheinfo "100644,$blob,leak.txt"',
        "git update-index --skip-worktree leak.txt",
        // A file staged with the key, marked unchanged, then made harmless on disk.
        `printf '%s\\n' "$DEPLOY_API_KEY" > shown.txt && git add shown.txt`,
        "git update-index --assume-unchanged shown.txt && echo harmless > shown.txt",
      ].join(" && "),
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "hidden", "commit");
    expect(workspace.failure?.message).toContain("leak.txt (DEPLOY_API_KEY)");
    expect(workspace.failure?.message).toContain("shown.txt (DEPLOY_API_KEY)");
    expect((await test.git("rev-parse", "conductor/hidden")).trim()).toBe(start);
    expect(marksIn(await test.git("log", "-p", "--all", "--format=%H%n%B"))).toEqual([]);
  });

  it("refuses to finish a cherry-pick the agent left open, whose commit would take the picked commit's author", async () => {
    const test = await secretsRepo({
      pick: [
        "here=$(git symbolic-ref --short HEAD)",
        "git checkout -q --detach",
        "echo a > c.txt && git add c.txt",
        "git -c user.name=picked-author -c user.email=p@example.com commit -qm 'picked'",
        "picked=$(git rev-parse HEAD)",
        'git checkout -q "$here"',
        "echo b > c.txt && git add c.txt && git commit -qm 'mine'",
        '(git cherry-pick "$picked" >/dev/null 2>&1 || true)',
        "echo merged > c.txt && git add c.txt",
      ].join(" && "),
    });
    const workspace = refusedWorkspace(test, await run(test), "pick", "commit");
    expect(workspace.failure?.message).toContain("a cherry-pick was left unfinished");
    expect(await test.git("log", "--format=%an", "conductor/pick")).not.toContain("picked-author");
  });

  it("refuses a staged blob too large to be looked into, though the disk holds a small file", async () => {
    const test = await secretsRepo({
      big: [
        `blob=$( (printf '%s\\n' "$DEPLOY_API_KEY"; head -c 11000000 /dev/zero | tr '\\0' x) | git hash-object -w --stdin)`,
        'git update-index --add --cacheinfo "100644,$blob,big.txt"',
        "git update-index --skip-worktree big.txt",
        "echo small > small.txt",
      ].join(" && "),
    });
    const start = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "big", "commit");
    expect(workspace.failure?.message).toMatch(
      /big\.txt \(.*\) is larger than workspaces\.max_file_size/,
    );
    expect((await test.git("rev-parse", "conductor/big")).trim()).toBe(start);
  });

  it("commits the removal of a file named after a secret", async () => {
    const test = await secretsRepo({ remove: 'git rm -q "named-"*.txt' });
    await test.write({ [`named-${ENV_FILE_TOKEN}.txt`]: "an old mistake\n" });
    await test.commitAll("a file named after the token");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    const files = await test.git("ls-tree", "-r", "--name-only", "conductor/remove");
    expect(files).not.toContain(ENV_FILE_TOKEN);
  });

  it("looks at a file whichever side of a conflict the status shows, since git add stages what is on disk", async () => {
    const test = await secretsRepo({
      conflict: [
        "echo base > notes.md && git add notes.md && git commit -qm 'notes'",
        `printf '%s\\n' "$DEPLOY_API_KEY" >> notes.md`,
        "git stash -q",
        "git rm -q notes.md && git commit -qm 'no notes'",
        "(git stash apply -q 2>/dev/null || true)",
        "git stash drop -q",
      ].join(" && "),
    });
    const workspace = refusedWorkspace(test, await run(test), "conflict", "commit");
    expect(workspace.failure?.message).toContain("notes.md (DEPLOY_API_KEY)");
    expect(marksIn(await historyPatch(test, "conductor/conflict"))).toEqual([]);
  });

  it("finds a secret in a root commit the agent merged in, whatever log settings the agent wrote into the global git config", async () => {
    const test = await secretsRepo({
      orphan: [
        "git config --global log.showRoot false",
        "git config --global log.diffMerges first-parent",
        "here=$(git symbolic-ref --short HEAD)",
        "git checkout -q --orphan stray",
        "git rm -rq --cached . && git clean -fdq -e .env.local",
        `printf '%s\\n' "$DEPLOY_API_KEY" > stray.txt`,
        "git add stray.txt && git commit -qm 'stray root'",
        "git rm -q stray.txt && echo ok > ok.txt && git add ok.txt && git commit -qm 'stray drops it'",
        'git checkout -q -f "$here"',
        "git merge -q --allow-unrelated-histories -m 'merge stray' stray",
        "git branch -q -D stray",
      ].join(" && "),
    });
    const result = await run(test);
    expect(hasStackTrace(result.all), result.all).toBe(false);
    expect(result.exitCode, result.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "orphan");
    expect(workspace.failure?.step, result.all).toBe("agent");
    expect(workspace.failure?.message).toContain("stray.txt (DEPLOY_API_KEY)");
    expect(marksIn(await historyPatch(test, "conductor/orphan"))).toEqual([]);
  });

  it("looks at the commits of a try cut off by a killed conductor from the start point when the run resumes", async () => {
    const test = await secretsRepo({
      killed: `if [ -e "$HOME/agent-started" ]; then echo ok > ok.txt; exit 0; fi
printf '%s\\n' "$DEPLOY_API_KEY" > s.txt && git add s.txt && git commit -qm 'holds the key'
touch "$HOME/agent-started"; sleep 300`,
    });
    const child = startConductor(["run", "--output", "plain"], {
      cwd: test.root,
      home: test.home,
      env: ENV,
    });
    await waitFor(() => existsSync(path.join(test.home, "agent-started")), 30_000, "the agent");
    child.kill("SIGKILL");
    await child;
    killLeftovers(newestRunId(test.root));
    const resumed = await conductor(["run", "--resume", "--output", "plain"], {
      cwd: test.root,
      home: test.home,
      env: ENV,
    });
    expect(hasStackTrace(resumed.all), resumed.all).toBe(false);
    expect(resumed.exitCode, resumed.all).toBe(1);
    const workspace = workspaceOf(latestSummary(test.root), "killed");
    expect(workspace.failure?.message).toContain("s.txt (DEPLOY_API_KEY)");
    expect(marksIn(await historyPatch(test, "conductor/killed"))).toEqual([]);
  });
});
