// The check script runs the agent's code (its tests), with a shell in the same repository: what it
// does there is verified as the agent's own step is, but for the repository's git config, which
// honest checks write. A check that commits a secret or moves another branch is refused, its
// doing put back where that is safe, and nothing is committed. Each agent and check is played by
// shell commands.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import { refusedWorkspace, removeTestRepo, repoWithAgentAndCheck, workspaceOf } from "./rig.js";

const SECRET = "sk-live-checkscript-4f8a1c9e";

let repo: TestRepo | undefined;
afterEach(async () => {
  await removeTestRepo(repo);
  repo = undefined;
});

/** One task whose agent runs `agent` and leaves `check` as check.sh, which the check script runs. */
async function checkRepo(agent: string, check: string): Promise<TestRepo> {
  const made = await repoWithAgentAndCheck("tested", agent, check, SECRET);
  repo = made;
  return made;
}

function run(test: TestRepo) {
  return conductor(["run", "--output", "plain"], { cwd: test.root, home: test.home });
}

describe("a check script that changes the repository", () => {
  it("is refused when it commits a secret and moves another branch: the secret is taken out, the branch put back, nothing committed", async () => {
    const test = await checkRepo(
      "echo work > work.txt",
      [
        "sed -n 's/^API_TOKEN=//p' .env.local > leak.txt",
        "git add leak.txt && git commit -qm 'test fixture'",
        "git update-ref refs/heads/main HEAD",
      ].join("\n"),
    );
    const main = (await test.git("rev-parse", "main")).trim();
    const workspace = refusedWorkspace(test, await run(test), "tested", "check");
    const message = workspace.failure?.message ?? "";
    expect(message).toContain("the check script committed leak.txt (API_TOKEN from .env.local)");
    expect(message).toMatch(/refs\/heads\/main moved from .*; it was moved back/);
    expect(message).not.toContain(SECRET);
    // main is where it was; neither it nor the workspace branch holds the secret.
    expect((await test.git("rev-parse", "main")).trim()).toBe(main);
    const branches = await test.git("log", "-p", "--format=%H%n%B", "main", "conductor/tested");
    expect(branches).not.toContain(SECRET);
    // Nothing of the work was committed by conductor: the check was refused, not failed.
    expect(await test.git("ls-tree", "-r", "--name-only", "conductor/tested")).not.toContain(
      "work.txt",
    );
    expect(workspace.commit).toBeNull();
    const log = readFileSync(workspace.failure?.logPath ?? "", "utf8");
    expect(log).toContain("conductor: refused: the check script committed leak.txt");
  });

  it("is not refused for writing the repository's git config, as husky's first install does", async () => {
    const test = await checkRepo("echo work > work.txt", "git config core.hooksPath .husky/_");
    const result = await run(test);
    expect(result.exitCode, result.all).toBe(0);
    expect(workspaceOf(latestSummary(test.root), "tested").status).toBe("succeeded");
    expect(await test.git("show", "conductor/tested:work.txt")).toBe("work");
    expect((await test.git("config", "core.hooksPath")).trim()).toBe(".husky/_");
  });

  it("cannot choose whom conductor's commit is by: it is by the identity git gave when the run started", async () => {
    const test = await checkRepo(
      "echo work > work.txt",
      [
        `git config user.name "$(sed -n 's/^API_TOKEN=//p' .env.local)"`,
        "git config user.email leak@example.com",
        `git config i18n.commitEncoding "$(sed -n 's/^API_TOKEN=//p' .env.local)"`,
      ].join("\n"),
    );
    const configured = await test.git("config", "user.email");
    // Git's identity from the repository's config, not the test helper's environment.
    const result = await conductor(["run", "--output", "plain"], {
      cwd: test.root,
      home: test.home,
      env: {
        GIT_AUTHOR_NAME: undefined,
        GIT_AUTHOR_EMAIL: undefined,
        GIT_COMMITTER_NAME: undefined,
        GIT_COMMITTER_EMAIL: undefined,
      },
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(workspaceOf(latestSummary(test.root), "tested").status).toBe("succeeded");
    expect(await test.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "conductor/tested")).toBe(
      `Test <${configured.trim()}>|Test <${configured.trim()}>`,
    );
    expect(await test.git("cat-file", "commit", "conductor/tested")).not.toContain(SECRET);
  });

  it("is not refused when another workspace's verification found the git config it wrote", async () => {
    // The check of "hooks" writes the config, then runs on while the agent of "slow" ends: that
    // agent's verification puts the config back and fails it (it cannot tell who wrote it), and
    // must not fail the check that did, which is not held to the git files.
    const made = await repoWithConfig({
      concurrency: 2,
      scripts: { check: "sh check.sh" },
      agent: { kind: "command", command: "true" },
      tasks: [
        {
          id: "hooks",
          prompt: "work, with a check that installs hooks",
          agent: {
            command: `echo h > h.txt\nprintf 'git config core.hooksPath .husky/_\\nsleep 3\\n' > check.sh`,
          },
        },
        {
          id: "slow",
          prompt: "slow work",
          agent: { command: "sleep 1.5; echo s > s.txt; echo true > check.sh" },
        },
      ],
    });
    repo = made;
    const result = await run(made);
    const summary = latestSummary(made.root);
    expect(workspaceOf(summary, "hooks").status, result.all).toBe("succeeded");
    const slow = workspaceOf(summary, "slow");
    expect(slow.status).toBe("failed");
    expect(slow.failure?.message).toContain(".git/config changed");
  });
});
