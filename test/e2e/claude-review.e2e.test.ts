// End-to-end: `conductor review` with the real claude binary (plan mode, read-only tools)
// against the scripted Anthropic Messages server.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  markerScript,
  SCRIPTED_MODEL,
  type ScriptedReply,
} from "../../src/model-server/anthropic.js";
import type { ReviewRecord } from "../../src/reviewing/record.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, runIds } from "../helpers/run-repo.js";
import { useScriptedClaude } from "../helpers/scripted-agents.js";

const routes: Record<string, readonly ScriptedReply[]> = {};
const claude = useScriptedClaude((request) => markerScript(routes)(request));
let repo: TestRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("conductor review with the real claude", () => {
  it("reviews read-only in plan mode and reads the JSON of its final answer", async () => {
    routes["[claude:write]"] = [
      { kind: "bash", command: "echo 'a note' > notes.txt" },
      { kind: "message", text: "Wrote notes.txt." },
    ];
    // The review request carries the repository's guidance, and with it this marker.
    routes["[claude:review]"] = [
      { kind: "bash", command: "echo reviewer-was-here >> notes.txt" },
      {
        kind: "message",
        text: `Here is the review:\n\`\`\`json\n${JSON.stringify({
          findings: [
            {
              title: "[P2] The note says little",
              body: "Say what the note is for.",
              priority: 2,
              confidence_score: 0.5,
              code_location: {
                absolute_file_path: "notes.txt",
                line_range: { start: 1, end: 1 },
              },
            },
          ],
          overall_correctness: "patch is correct",
          overall_explanation: "A note was added.",
        })}\n\`\`\``,
      },
    ];
    repo = await repoWithConfig({
      agent: { kind: "claude", model: SCRIPTED_MODEL, timeout: "2m" },
      review: { instructions: "Be brief. [claude:review]" },
      tasks: [{ id: "notes", prompt: "Write notes.txt. [claude:write]" }],
    });
    const env = await claude.env(repo.home);
    const options = {
      cwd: repo.root,
      home: repo.home,
      env,
    };
    expect((await conductor(["run", "--output", "plain"], options)).exitCode).toBe(0);

    const result = await conductor(["review", "notes"], options);
    expect(result.exitCode, result.all).toBe(0);
    const request = claude.server.requests.find((candidate) =>
      candidate.prompt.includes("[claude:review]"),
    );
    expect(request?.prompt).toMatch(/^# Review guidelines:/);
    const worktree = path.join(repo.home, "workspaces", "notes");
    // Bash beyond git's read-only commands is not allowed: the note stays as the agent wrote it.
    expect(readFileSync(path.join(worktree, "notes.txt"), "utf8")).toBe("a note\n");
    const runId = runIds(repo.root).at(-1) as string;
    const record = JSON.parse(
      readFileSync(
        path.join(repo.root, ".conductor", "runs", runId, "workspaces", "notes", "review.json"),
        "utf8",
      ),
    ) as ReviewRecord;
    expect(record).toMatchObject({
      status: "completed",
      reviewer: "claude",
      verdict: "correct",
      counts: [0, 0, 1, 0],
      findings: [{ priority: 2, title: "The note says little", file: "notes.txt" }],
    });
  });
});
