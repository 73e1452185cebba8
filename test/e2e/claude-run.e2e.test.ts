// End-to-end: `conductor run` and `conductor continue` with the real claude binary against the
// scripted Anthropic Messages server.
import { afterEach, describe, expect, it } from "vitest";
import {
  markerScript,
  SCRIPTED_MODEL,
  type ScriptedReply,
} from "../../src/model-server/anthropic.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import { useScriptedClaude } from "../helpers/scripted-agents.js";

const routes: Record<string, readonly ScriptedReply[]> = {};
const claude = useScriptedClaude((request) => markerScript(routes)(request));
let repo: TestRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("conductor with the real claude", () => {
  it("runs claude in the worktree, commits its work, and continues the same session as a follow-up", async () => {
    routes["[claude:notes]"] = [
      { kind: "bash", command: "echo 'first note' > notes.txt" },
      { kind: "message", text: "Wrote notes.txt." },
    ];
    routes["[claude:more]"] = [
      { kind: "bash", command: "echo 'second note' >> notes.txt" },
      { kind: "message", text: "Added a second note." },
    ];
    repo = await repoWithConfig({
      agent: { kind: "claude", model: SCRIPTED_MODEL, timeout: "2m" },
      scripts: { check: "grep -q note notes.txt" },
      tasks: [{ id: "notes", prompt: "Write notes.txt. [claude:notes]" }],
    });
    const env = await claude.env(repo.home);

    const first = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
      env,
    });
    expect(first.exitCode, first.all).toBe(0);
    expect(await repo.git("show", "conductor/notes:notes.txt")).toBe("first note");
    const afterFirst = latestSummary(repo.root).workspaces[0];
    expect(afterFirst?.tokens?.outputTokens).toBeGreaterThan(0);
    const firstSession = claude.server.requests.find((request) =>
      request.prompt.includes("[claude:notes]"),
    )?.sessionId;

    const second = await conductor(["continue", "notes", "Add a second note. [claude:more]"], {
      cwd: repo.root,
      home: repo.home,
      env,
    });
    expect(second.exitCode, second.all).toBe(0);
    const followUp = claude.server.requests.find((request) =>
      request.prompt.includes("[claude:more]"),
    );
    expect(followUp?.sessionId).toBe(firstSession);
    expect(await repo.git("show", "conductor/notes:notes.txt")).toBe("first note\nsecond note");
    const afterSecond = latestSummary(repo.root).workspaces[0];
    // claude reports each call's tokens; the workspace shows the session's total.
    expect(afterSecond?.tokens?.outputTokens).toBeGreaterThan(
      afterFirst?.tokens?.outputTokens ?? 0,
    );
  });

  it("fails the workspace with claude's own explanation when the API rejects the key", async () => {
    routes["[claude:denied]"] = [{ kind: "http-error", status: 401 }];
    repo = await repoWithConfig({
      agent: { kind: "claude", model: SCRIPTED_MODEL, timeout: "2m" },
      tasks: [{ id: "denied", prompt: "Try anything. [claude:denied]" }],
    });
    const env = await claude.env(repo.home);
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
      env,
    });
    expect(result.exitCode).toBe(1);
    const denied = latestSummary(repo.root).workspaces[0];
    expect(denied?.failure?.reason).toBe("agent-error");
    expect(denied?.failure?.message).toMatch(/401|API key/);
  });
});
