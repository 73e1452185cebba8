// End-to-end: the real `claude` binary of @anthropic-ai/claude-code, run through claudeAgent against
// the scripted Messages API server, in real temporary git repositories, with a private HOME,
// CLAUDE_CONFIG_DIR and TMPDIR, and no network.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { claudeAgent } from "../../src/agents/claude/agent.js";
import type { AgentActivity, AgentResult } from "../../src/agents/types.js";
import {
  type AnthropicServer,
  type ContentBlock,
  claudeOfflineEnv,
  markerScript,
  prepareClaudeHome,
  SCRIPTED_MODEL,
  type Script,
  sequenceScript,
  startAnthropicServer,
} from "../../src/model-server/anthropic.js";
import { groupAlive, liveProcessGroups } from "../../src/process/groups.js";
import type { AgentConfig } from "../../src/schema/config.js";
import { secretsInEnvironment } from "../../src/secrets/names.js";
import { Redactor } from "../../src/secrets/redact.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

const settings: AgentConfig = {
  kind: "claude",
  model: SCRIPTED_MODEL,
  sandbox: "workspace-write",
  args: [],
  config: {},
  command: undefined,
  timeoutMs: 60_000,
  connectTimeoutMs: 60_000,
  idleTimeoutMs: undefined,
};

/** Usage of one scripted reply in conductor's terms (cache reads count as input). */
const ONE_REPLY = { inputTokens: 120, cachedInputTokens: 20, outputTokens: 10, reasoningTokens: 0 };

interface Rig {
  repo: TestRepo;
  server: AnthropicServer;
  env: Record<string, string>;
  logFile: string;
}

const rigs: Rig[] = [];

/** A server following `script`, a repository (a new one unless given) and claude's environment. */
async function rig(script: Script, existing?: TestRepo): Promise<Rig> {
  const repo = existing ?? (await createTestRepo());
  const server = await startAnthropicServer({ script });
  const home = await prepareClaudeHome(path.join(repo.home, "claude"));
  const made = {
    repo,
    server,
    env: claudeOfflineEnv(server.url, home),
    logFile: path.join(repo.home, "agent.log"),
  };
  rigs.push(made);
  return made;
}

afterEach(async () => {
  for (const { server, repo } of rigs.splice(0)) {
    await server.close();
    await repo.remove();
  }
});

interface Run {
  result: AgentResult;
  activities: AgentActivity[];
  ms: number;
}

async function run(
  { repo, env, logFile }: Rig,
  prompt: string,
  more: { resumeSessionId?: string; signal?: AbortSignal; settings?: Partial<AgentConfig> } = {},
): Promise<Run> {
  const activities: AgentActivity[] = [];
  const started = Date.now();
  const result = await claudeAgent.run({
    cwd: repo.root,
    prompt,
    settings: { ...settings, ...more.settings },
    env,
    signal: more.signal ?? new AbortController().signal,
    logFile,
    redactor: new Redactor(secretsInEnvironment(env)),
    resumeSessionId: more.resumeSessionId,
    onActivity: (activity) => activities.push(activity),
  });
  return { result, activities, ms: Date.now() - started };
}

function blocksOf(content: string | readonly ContentBlock[]): readonly ContentBlock[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

describe("claude agent against the scripted Messages API", () => {
  it("runs a scripted Bash command that creates a file, then succeeds with the final message and usage", async () => {
    const r = await rig(
      sequenceScript([
        { kind: "bash", command: "echo made-by-claude > created.txt" },
        { kind: "message", text: "Created created.txt." },
      ]),
    );
    const { result, activities } = await run(r, "Create created.txt");

    expect(result.outcome).toEqual({ status: "succeeded" });
    expect(await readFile(path.join(r.repo.root, "created.txt"), "utf8")).toBe("made-by-claude\n");
    expect(result.finalMessage).toBe("Created created.txt.");
    expect(result.usage).toEqual({
      inputTokens: 2 * ONE_REPLY.inputTokens,
      cachedInputTokens: 2 * ONE_REPLY.cachedInputTokens,
      outputTokens: 2 * ONE_REPLY.outputTokens,
      reasoningTokens: 0,
    });
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.server.requests.map((request) => request.sessionId)).toEqual([
      result.sessionId,
      result.sessionId,
    ]);
    expect(r.server.requests[0]?.body.model).toBe(SCRIPTED_MODEL);
    expect(r.server.requests[1]?.toolResults).toEqual(["(Bash completed with no output)"]);
    expect(activities).toContainEqual({ kind: "session", sessionId: result.sessionId });
    const commands = activities.filter((activity) => activity.kind === "command");
    expect(commands).toEqual([
      { kind: "command", command: "echo made-by-claude > created.txt", exitCode: undefined },
      { kind: "command", command: "echo made-by-claude > created.txt", exitCode: 0 },
    ]);
    expect(activities).toContainEqual({ kind: "message", text: "Created created.txt." });
    expect(
      activities.filter((activity) => activity.kind === "warning" || activity.kind === "error"),
    ).toEqual([]);
  });

  it("reports a failing command with its exit code and a Write as a file change, and still succeeds", async () => {
    const repo = await createTestRepo();
    // The Write tool takes an absolute path.
    const notes = path.join(repo.root, "notes.txt");
    const r = await rig(
      sequenceScript([
        { kind: "bash", command: "exit 3" },
        { kind: "tool", name: "Write", input: { file_path: notes, content: "note\n" } },
        { kind: "message", text: "Done despite the failure." },
      ]),
      repo,
    );
    const { result, activities } = await run(r, "Fail, then write notes");

    expect(result.outcome).toEqual({ status: "succeeded" });
    expect(activities).toContainEqual({ kind: "command", command: "exit 3", exitCode: 3 });
    expect(activities).toContainEqual({ kind: "file-change", paths: ["notes.txt"] });
    expect(await readFile(notes, "utf8")).toBe("note\n");
    expect(result.finalMessage).toBe("Done despite the failure.");
  });

  it("fails with claude's own message, naming the status, when the server answers 401", async () => {
    const r = await rig(sequenceScript([{ kind: "http-error", status: 401 }]));
    const { result, activities, ms } = await run(r, "Anything");

    expect(result.outcome).toMatchObject({ status: "failed", reason: "agent-error" });
    const message = result.outcome.status === "failed" ? result.outcome.message : "";
    expect(message).toContain("Failed to authenticate");
    expect(message).toContain("401");
    expect(message).toContain("scripted status 401"); // the server's own error text
    expect(activities).toContainEqual({ kind: "error", message });
    expect(result.finalMessage).toBeUndefined();
    expect(ms).toBeLessThan(20_000); // no retries with back-off
  });

  it("adds the status to claude's message when its text does not name it", async () => {
    // What the real API answers for a bad key; claude then says "Invalid API key" without the status.
    const body = JSON.stringify({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
    const r = await rig(sequenceScript([{ kind: "http-error", status: 401, body }]));
    const { result } = await run(r, "Anything");

    expect(result.outcome).toMatchObject({
      status: "failed",
      reason: "agent-error",
      message: "Invalid API key · Fix external API key (HTTP 401)",
      exitCode: 1,
    });
  });

  it("fails with claude's own message when the server answers 500", async () => {
    const r = await rig(sequenceScript([{ kind: "http-error", status: 500 }]));
    const { result } = await run(r, "Anything");

    expect(result.outcome).toMatchObject({ status: "failed", reason: "agent-error" });
    expect(result.outcome.status === "failed" && result.outcome.message).toContain(
      "API Error: 500 scripted status 500",
    );
    expect(r.server.requests).toHaveLength(1); // CLAUDE_CODE_MAX_RETRIES=0
  });

  it("fails with claude's own message when the stream is malformed, after its non-streaming retry", async () => {
    const r = await rig(sequenceScript([{ kind: "malformed" }]));
    const { result } = await run(r, "Anything");

    expect(result.outcome).toMatchObject({ status: "failed", reason: "agent-error" });
    expect(result.outcome.status === "failed" && result.outcome.message).toContain(
      "API Error: Failed to parse JSON",
    );
    expect(r.server.requests.map((request) => request.body.stream)).toEqual([true, undefined]);
  });

  it("resumes the same session for a follow-up, and the server sees the earlier history", async () => {
    const r = await rig(
      markerScript({
        "FIRST-TURN": [
          { kind: "bash", command: "echo one > one.txt" },
          { kind: "message", text: "First turn done." },
        ],
        "SECOND-TURN": [{ kind: "message", text: "Second turn done." }],
      }),
    );
    const first = await run(r, "FIRST-TURN: make one.txt");
    expect(first.result.outcome).toEqual({ status: "succeeded" });
    const sessionId = first.result.sessionId;
    expect(sessionId).toBeDefined();

    const second = await run(r, "SECOND-TURN: anything else?", { resumeSessionId: sessionId });

    expect(second.result.outcome).toEqual({ status: "succeeded" });
    expect(second.result.sessionId).toBe(sessionId);
    expect(second.result.finalMessage).toBe("Second turn done.");
    // Claude reports usage per invocation: the follow-up's own single reply.
    expect(second.result.usage).toEqual(ONE_REPLY);
    const last = r.server.requests.at(-1);
    expect(last?.sessionId).toBe(sessionId);
    expect(last?.prompts).toEqual(["FIRST-TURN: make one.txt", "SECOND-TURN: anything else?"]);
    expect(last?.step).toBe(0);
    const history = (last?.body.messages ?? []).flatMap((message) => blocksOf(message.content));
    expect(history).toContainEqual(
      expect.objectContaining({
        type: "tool_use",
        name: "Bash",
        input: { command: "echo one > one.txt" },
      }),
    );
    expect(history).toContainEqual(
      expect.objectContaining({ type: "text", text: "First turn done." }),
    );
  });

  it("fails with claude's own message when the session to resume does not exist", async () => {
    const r = await rig(sequenceScript([{ kind: "message", text: "never asked" }]));
    const missing = randomUUID();
    const { result } = await run(r, "Continue", { resumeSessionId: missing });

    expect(result.outcome).toMatchObject({ status: "failed" });
    expect(result.outcome.status === "failed" && result.outcome.message).toContain(
      `No conversation found with session ID: ${missing}`,
    );
    expect(r.server.requests).toEqual([]);
  });

  it("ends claude promptly when cancelled mid-turn while the server hangs", async () => {
    let requested: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      requested = resolve;
    });
    const r = await rig(() => {
      requested();
      return { kind: "hang" };
    });
    const controller = new AbortController();
    const before = new Set(liveProcessGroups());
    const running = run(r, "Hang forever", { signal: controller.signal });
    await asked;
    const groups = liveProcessGroups().filter((pgid) => !before.has(pgid));
    // claude's group (a reaper, where one runs, is no group conductor signals).
    expect(groups).toHaveLength(1);

    const aborted = Date.now();
    controller.abort();
    const { result } = await running;

    expect(result.outcome).toEqual({ status: "cancelled" });
    expect(Date.now() - aborted).toBeLessThan(3_000);
    expect(groups.filter((pgid) => groupAlive(pgid))).toEqual([]);
  });

  it("passes a prompt over 100 KiB on stdin", async () => {
    const r = await rig(sequenceScript([{ kind: "message", text: "Read it all." }]));
    const prompt = `BIG-PROMPT ${"x".repeat(150 * 1024)} END`;
    const { result } = await run(r, prompt);

    expect(result.outcome).toEqual({ status: "succeeded" });
    expect(r.server.requests[0]?.prompt).toBe(prompt);
  });

  it("passes a prompt that starts with a dash as the prompt, not as an option", async () => {
    const r = await rig(sequenceScript([{ kind: "message", text: "ok" }]));
    const { result } = await run(r, "--help is not what I want");

    expect(result.outcome).toEqual({ status: "succeeded" });
    expect(r.server.requests[0]?.prompt).toBe("--help is not what I want");
  });

  it("reports claude's complaint from stderr when it rejects its arguments", async () => {
    const r = await rig(sequenceScript([{ kind: "message", text: "never asked" }]));
    const { result } = await run(r, "Anything", { settings: { args: ["--no-such-flag"] } });

    expect(result.outcome).toMatchObject({ status: "failed", reason: "agent-error" });
    expect(result.outcome.status === "failed" && result.outcome.message).toContain(
      "--no-such-flag",
    );
  });

  it("keeps claude's files under the private home and out of the worktree", async () => {
    const r = await rig(
      sequenceScript([
        { kind: "bash", command: "echo hi > hi.txt" },
        { kind: "message", text: "ok" },
      ]),
    );
    const { result } = await run(r, "Say hi");

    expect(result.outcome).toEqual({ status: "succeeded" });
    // Only the agent's own work shows up: no .claude/ or scratch files in the worktree.
    expect(await r.repo.git("status", "--porcelain", "--untracked-files=all")).toBe("?? hi.txt");
    const sessionFile = path.join(
      r.env.CLAUDE_CONFIG_DIR as string,
      "projects",
      r.repo.root.replace(/[^A-Za-z0-9]/g, "-"),
      `${result.sessionId}.jsonl`,
    );
    expect((await readFile(sessionFile, "utf8")).length).toBeGreaterThan(0);
  });

  it("lets claude only read in a read-only sandbox: a command is refused and reported", async () => {
    const r = await rig(
      sequenceScript([
        { kind: "bash", command: "echo no > refused.txt" },
        { kind: "message", text: "I was not allowed to." },
      ]),
    );
    const { result, activities } = await run(r, "Try to write", {
      settings: { sandbox: "read-only" },
    });

    expect(result.outcome).toEqual({ status: "succeeded" });
    expect(existsSync(path.join(r.repo.root, "refused.txt"))).toBe(false);
    expect(activities).toContainEqual(
      expect.objectContaining({
        kind: "warning",
        message: expect.stringContaining("denied permission to use Bash"),
      }),
    );
    expect(
      activities.filter(
        (activity) => activity.kind === "command" && activity.exitCode !== undefined,
      ),
    ).toEqual([]);
  });
});
