// `conductor pr --describe`: the real codex drafts the description in a read-only turn.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelRequest, ScriptedReply } from "../../src/model-server/server.js";
import { conductor } from "../helpers/cli.js";
import { installGh, scenarios } from "../helpers/gh-stand-in.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";
import { useScriptedCodex } from "../helpers/scripted-agents.js";

const DESCRIBE = "Write the title and description of a pull request";
let repo: TestRepo | undefined;
/** What the describe turn answers, per test. */
let describeReplies: ScriptedReply[] = [];
const describeRequests: ModelRequest[] = [];

const codex = useScriptedCodex((request) => {
  if (request.prompt.includes(DESCRIBE)) {
    describeRequests.push(request);
    return describeReplies[request.step] ?? { kind: "message", text: "(no more steps)" };
  }
  const task: ScriptedReply[] = [
    { kind: "exec", cmd: "printf 'hello\\n' > hello.txt" },
    { kind: "message", text: "I wrote hello.txt." },
  ];
  return task[request.step] ?? { kind: "http-error", status: 500, body: "no more steps" };
});
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
  describeRequests.length = 0;
});

async function ranGreeting(): Promise<TestRepo> {
  repo = await repoWithConfig(
    {
      ...codex.config(),
      scripts: { check: "test -f hello.txt" },
      tasks: [{ id: "greeting", prompt: "Add a greeting file" }],
    },
    { "README.md": "# e2e\n" },
  );
  await repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git");
  const run = await conductor(["run", "--output", "plain"], { cwd: repo.root, home: repo.home });
  expect(run.exitCode, run.all).toBe(0);
  return repo;
}

describe("conductor pr --describe", () => {
  it("asks the agent's own session for a read-only turn and uses its title and body", async () => {
    const current = await ranGreeting();
    describeReplies = [
      {
        kind: "message",
        text: "Add hello.txt with a greeting\n\nAdds `hello.txt`, which says hello.\n\nChecked with `test -f hello.txt`.",
      },
    ];
    const gh = await installGh(current.home, scenarios.loggedOut());
    const result = await conductor(["pr", "greeting", "--describe"], {
      cwd: current.root,
      home: current.home,
      env: { PATH: `${gh.bin}${path.delimiter}${process.env.PATH ?? ""}` },
    });
    // gh is logged out: nothing was pushed (exit 1), the drafted description is printed.
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("greeting: Add hello.txt with a greeting\n");
    const runs = path.join(current.root, ".conductor", "runs");
    const body = readFileSync(
      path.join(runs, readdirSync(runs)[0] as string, "workspaces", "greeting", "pr.md"),
      "utf8",
    );
    expect(body).toMatch(
      /^Adds `hello.txt`, which says hello.\n\nChecked with `test -f hello.txt`.\n\n---\n<sub>Made with conductor: workspace `greeting`/,
    );
    // One turn, in the task's own thread (its first prompt is the task), with conductor's record
    // as material. (That the turn is read-only, the next test shows.)
    expect(describeRequests).toHaveLength(1);
    const [request] = describeRequests;
    expect(request?.prompts[0]).toContain("Add a greeting file");
    expect(request?.prompt).toContain("### Changes");
    expect(request?.prompt).toContain("hello.txt | 1 +");
  });

  it("cannot write in the worktree, and a failed draft pushes nothing", async () => {
    const current = await ranGreeting();
    describeReplies = [
      { kind: "exec", cmd: "touch drafted-here.txt" },
      { kind: "http-error", status: 400, body: "scripted refusal" },
    ];
    const result = await conductor(["pr", "greeting", "--describe"], {
      cwd: current.root,
      home: current.home,
      env: {
        PATH:
          (await installGh(current.home, undefined)).path +
          path.delimiter +
          (process.env.PATH ?? ""),
      },
    });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain("greeting: the agent did not draft the description");
    expect(existsSync(path.join(current.home, "workspaces", "greeting", "drafted-here.txt"))).toBe(
      false,
    );
  });
});
