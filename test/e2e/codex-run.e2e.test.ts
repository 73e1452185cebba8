// End-to-end: `conductor run` with the real codex binary against the scripted model server.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { markerScript, type ScriptedReply } from "../../src/model-server/server.js";
import type { RunSummary } from "../../src/report/summary.js";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig } from "../helpers/run-repo.js";
import { useScriptedCodex } from "../helpers/scripted-agents.js";
import { printedCommands, runAsPrinted } from "../lifecycle/hints.js";

/** Per-test routes of the shared server: each task's prompt carries its marker. */
const routes: Record<string, readonly ScriptedReply[]> = {};
// Routes are added by each test, so the script is built per request.
const codex = useScriptedCodex((request) => markerScript(routes)(request));
let repo: TestRepo;

afterEach(async () => {
  await repo?.remove();
});

interface TaskSpec {
  id: string;
  steps: ScriptedReply[];
  depends_on?: string[];
  /** Replaces the start of the prompt ("Do the <id> task."). */
  prompt?: string;
}

/** A repository whose conductor.yaml runs codex against the scripted server. */
async function codexRepo(
  tasks: TaskSpec[],
  extra: Record<string, unknown> = {},
): Promise<TestRepo> {
  const marker = `${Math.random().toString(36).slice(2)}`;
  for (const task of tasks) routes[`[${marker}:${task.id}]`] = task.steps;
  repo = await repoWithConfig(
    {
      ...codex.config(),
      ...extra,
      tasks: tasks.map((task) => ({
        id: task.id,
        prompt: `${task.prompt ?? `Do the ${task.id} task.`} [${marker}:${task.id}]`,
        ...(task.depends_on ? { depends_on: task.depends_on } : {}),
      })),
    },
    { "README.md": "# e2e\n", ".gitignore": ".env.local\n" },
  );
  return repo;
}

function workspaceOf(result: RunSummary, name: string) {
  const found = result.workspaces.find((workspace) => workspace.name === name);
  if (!found) throw new Error(`no workspace ${name} in the summary`);
  return found;
}

describe("conductor run with the real codex", () => {
  it("runs codex in each worktree, commits its edits and records its final message and tokens", async () => {
    const { root, home, git } = await codexRepo([
      {
        id: "hello",
        steps: [
          { kind: "exec", cmd: "echo 'hello from codex' > hello.txt" },
          { kind: "message", text: "Wrote hello.txt." },
        ],
      },
      {
        id: "builds-on-hello",
        depends_on: ["hello"],
        steps: [
          { kind: "exec", cmd: "cat hello.txt > copy.txt" },
          { kind: "message", text: "Copied." },
        ],
      },
    ]);
    const result = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(result.stderr).toBe("");
    expect(result.exitCode, result.all).toBe(0);
    expect(await git("show", "conductor/hello:hello.txt")).toBe("hello from codex");
    expect(await git("show", "conductor/builds-on-hello:copy.txt")).toBe("hello from codex");
    const report = latestSummary(root);
    const hello = workspaceOf(report, "hello");
    expect(hello.status).toBe("succeeded");
    expect(hello.tokens?.outputTokens).toBeGreaterThan(0);
    expect(hello.diff).toEqual({ files: 1, insertions: 1, deletions: 0 });
    expect(result.stdout).toContain("[hello] agent: running echo 'hello from codex' > hello.txt");
    const runDir = path.join(root, ".conductor", "runs", report.runId);
    expect(readFileSync(path.join(runDir, "workspaces", "hello", "final.md"), "utf8")).toBe(
      "Wrote hello.txt.\n",
    );
    expect(await git("status", "--porcelain")).toBe("");
  });

  it("hands codex a prompt that starts with a dash (a YAML list) as the prompt, not as an option", async () => {
    const { root, home, git } = await codexRepo([
      {
        id: "listed",
        prompt: "- write listed.txt\n- stop",
        steps: [
          { kind: "exec", cmd: "echo listed > listed.txt" },
          { kind: "message", text: "Listed." },
        ],
      },
    ]);
    const result = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(0);
    expect(await git("show", "conductor/listed:listed.txt")).toBe("listed");
    const request = codex.server.requests.find((candidate) =>
      candidate.prompt.includes(":listed]"),
    );
    expect(request?.prompt.startsWith("- write listed.txt")).toBe(true);
  });

  it("leaves pass or fail to the check script when a command inside the turn fails", async () => {
    const { root, home } = await codexRepo(
      [
        {
          id: "flaky",
          steps: [
            { kind: "exec", cmd: "exit 3" },
            { kind: "message", text: "The command failed." },
          ],
        },
      ],
      { scripts: { check: "test -f done.txt" } },
    );
    const result = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stdout).toContain("(exit 3)");
    const flaky = workspaceOf(latestSummary(root), "flaky");
    expect(flaky.status).toBe("failed");
    expect(flaky.failure?.step).toBe("check");
    expect(flaky.check).toBe("failed");
  });

  it.each([
    [
      { kind: "http-error", status: 401, body: '{"error":{"message":"bad key"}}' } as const,
      /401 Unauthorized/,
    ],
    [{ kind: "http-error", status: 500 } as const, /high demand|500/],
    [{ kind: "malformed" } as const, /stream disconnected/],
  ])(
    "fails the workspace with codex's own message when the model answers %o",
    async (reply, message) => {
      const { root, home } = await codexRepo([{ id: "broken", steps: [reply] }]);
      const result = await conductor(["run", "--output", "plain"], { cwd: root, home });
      expect(result.exitCode, result.all).toBe(1);
      const broken = workspaceOf(latestSummary(root), "broken");
      expect(broken.status).toBe("failed");
      expect(broken.failure?.reason).toBe("agent-error");
      expect(broken.failure?.message).toMatch(message);
      expect(result.stdout).toMatch(message);
    },
  );

  it("the doctor named when the provider rejects the key works as printed from outside with -C, on that config", async () => {
    const rejected = {
      kind: "http-error",
      status: 401,
      body: '{"error":{"message":"bad key"}}',
    } as const;
    const { root, home } = await codexRepo([{ id: "one", steps: [rejected] }]);
    const outside = { cwd: home, home };
    const ran = await runAsPrinted(`conductor -C ${root} run --output plain`, outside);
    expect(ran.exitCode, ran.all).toBe(1);
    const doctor = printedCommands(ran.stderr).find((command) => command.endsWith(" doctor"));
    expect(doctor, ran.stderr).toBe(`conductor -C ${root} doctor`);
    const checked = await runAsPrinted(doctor as string, outside);
    expect(checked.stdout).toContain(`${path.join(root, "conductor.yaml")}: 1 workspace`);
  });

  it("stops early when the provider rejects the key: the first 401 holds back the rest, and one line says why", async () => {
    const rejected = {
      kind: "http-error",
      status: 401,
      body: '{"error":{"message":"Incorrect API key provided"}}',
    } as const;
    const { root, home } = await codexRepo(
      ["one", "two", "three"].map((id) => ({ id, steps: [rejected] })),
      { concurrency: 1 },
    );
    const result = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(result.exitCode, result.all).toBe(1);
    const summary = latestSummary(root);
    const failed = summary.workspaces.filter((w) => w.status === "failed");
    const skipped = summary.workspaces.filter((w) => w.status === "skipped");
    // The same key would be refused in every workspace: only the first asked.
    expect(failed.map((w) => w.failure?.message)).toEqual([
      expect.stringContaining("401 Unauthorized"),
    ]);
    expect(skipped).toHaveLength(2);
    for (const workspace of skipped) {
      expect(workspace.failure?.message).toBe(
        "not started: the model provider rejected the credentials of every running workspace's agent",
      );
    }
    expect(result.stderr).toContain(
      `conductor: the model provider rejected the agent's credentials in the workspace; stopped early, 2 not started. Fix the key or log in again (\`conductor doctor\` shows the credentials in use), then \`conductor run --resume ${summary.runId}\` runs them again.`,
    );
    // Once the key works, the printed command runs them again, as it says.
    for (const [key, steps] of Object.entries(routes)) {
      if (steps[0] === rejected) routes[key] = [{ kind: "message", text: "Done." }];
    }
    const resumed = await conductor(["run", "--resume", summary.runId, "--output", "plain"], {
      cwd: root,
      home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(latestSummary(root).workspaces.map((w) => w.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
  });

  it("cancels codex mid-turn on SIGINT, kills its process group and exits 130", async () => {
    const { root, home } = await codexRepo([{ id: "slow", steps: [{ kind: "hang" }] }]);
    const child = startConductor(["run", "--output", "json"], { cwd: root, home });
    await waitFor(
      () => codex.server.requests.some((request) => request.prompt.includes(":slow]")),
      20_000,
    );
    child.kill("SIGINT");
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    const report = latestSummary(root);
    expect(workspaceOf(report, "slow").status).toBe("interrupted");
    expect(codexProcessesOf(report.runId)).toEqual([]);
    expect(result.stderr).toContain(`conductor run --resume ${report.runId}`);
  });

  it("continues the same codex thread with `conductor continue`, then checks and commits again", async () => {
    const { root, home, git } = await codexRepo(
      [
        {
          id: "draft",
          steps: [
            { kind: "exec", cmd: "echo one > one.txt" },
            { kind: "message", text: "First." },
          ],
        },
      ],
      { scripts: { check: "test -f one.txt" } },
    );
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const firstThread = codex.server.requests.find((request) =>
      request.prompt.includes(":draft]"),
    )?.threadId;
    routes["[follow-up]"] = [
      { kind: "exec", cmd: "echo two > two.txt" },
      { kind: "message", text: "Second." },
    ];

    const result = await conductor(["continue", "draft", "Now add two.txt [follow-up]"], {
      cwd: root,
      home,
    });
    expect(result.exitCode, result.all).toBe(0);
    const followUp = codex.server.requests.filter((request) =>
      request.prompt.includes("[follow-up]"),
    );
    expect(followUp[0]?.threadId).toBe(firstThread);
    expect(followUp[0]?.prompts.some((prompt) => prompt.includes(":draft]"))).toBe(true);
    expect(await git("log", "--format=%s", "conductor/draft")).toMatch(
      /^draft: now add two.txt .*\ndraft: do the draft task.*\nadd conductor.yaml/,
    );
    expect(await git("show", "conductor/draft:two.txt")).toBe("two");
    const report = latestSummary(root);
    expect(workspaceOf(report, "draft").status).toBe("succeeded");
    expect(
      readFileSync(
        path.join(root, ".conductor", "runs", report.runId, "workspaces", "draft", "final.md"),
        "utf8",
      ),
    ).toBe("Second.\n");
  });

  it("records `continue` as a follow-up: its own commit's stats, the commit kept when nothing is new, time summed", async () => {
    const { root, home, git } = await codexRepo(
      [
        {
          id: "draft",
          steps: [
            { kind: "exec", cmd: "printf 'a\\nb\\nc\\nd\\n' > one.txt" },
            { kind: "message", text: "Wrote one.txt." },
          ],
        },
      ],
      { scripts: { check: "test -f one.txt" } },
    );
    const run = await conductor(["run", "--output", "plain"], { cwd: root, home });
    expect(run.exitCode, run.all).toBe(0);
    routes["[change-b]"] = [
      { kind: "exec", cmd: "sed -i 's/^b$/B/' one.txt" },
      { kind: "message", text: "Changed b." },
    ];
    routes["[look-only]"] = [{ kind: "message", text: "Nothing to change." }];
    // Idle time between sessions is not time spent working on the run.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const change = await conductor(
      ["continue", "draft", "Change b to B [change-b]", "--output", "plain"],
      { cwd: root, home },
    );
    expect(change.exitCode, change.all).toBe(0);
    expect(change.stdout).toContain("conductor: follow-up of draft in run");
    expect(change.stdout).not.toMatch(/resumed/);
    // The commit line gives that commit's own change; the branch's total stays +4 −0.
    expect(change.stdout).toMatch(
      /\[draft\] commit done in \S+ — commit [0-9a-f]{10} \(1 file \+1 −1\)/,
    );
    const changed = (await git("rev-parse", "conductor/draft")).trim();

    await new Promise((resolve) => setTimeout(resolve, 1500));
    const look = await conductor(
      ["continue", "draft", "Check it again [look-only]", "--output", "plain"],
      { cwd: root, home },
    );
    expect(look.exitCode, look.all).toBe(0);
    expect(look.stdout).toContain(
      `nothing new to commit; the branch stays at ${changed.slice(0, 10)}`,
    );

    const report = latestSummary(root);
    const draft = workspaceOf(report, "draft");
    expect(draft.commit).toBe(changed);
    expect(draft.diff).toEqual({ files: 1, insertions: 4, deletions: 0 });
    expect(report.sessions.map((session) => [session.kind, session.workspace])).toEqual([
      ["run", null],
      ["follow-up", "draft"],
      ["follow-up", "draft"],
    ]);
    const events = readFileSync(
      path.join(root, ".conductor", "runs", report.runId, "events.jsonl"),
      "utf8",
    )
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; durationMs?: number });
    expect(events.filter((event) => event.type === "run.started")).toHaveLength(1);
    expect(events.filter((event) => event.type === "follow-up.started")).toHaveLength(2);
    // The workspace's time is its three sessions' time together, not the last one's.
    const tries = events.filter((event) => event.type === "workspace.finished");
    expect(tries).toHaveLength(3);
    expect(draft.durationMs).toBe(tries.reduce((sum, event) => sum + (event.durationMs ?? 0), 0));
    // The run's time is its sessions' time, not the span from its creation to the last follow-up.
    const sessions = report.sessions.reduce((sum, session) => sum + (session.durationMs ?? 0), 0);
    expect(report.totals.durationMs).toBe(sessions);
    const span = Date.parse(report.finishedAt ?? "") - Date.parse(report.createdAt);
    expect(report.totals.durationMs).toBeLessThan(span - 3000);
    expect(draft.steps.agent?.totalMs).toBeGreaterThan(draft.steps.agent?.durationMs ?? 0);
  });

  it("keeps the session's tokens on the record when a follow-up fails before codex reports usage", async () => {
    const { root, home } = await codexRepo([
      {
        id: "draft",
        steps: [
          { kind: "exec", cmd: "echo one > one.txt" },
          { kind: "message", text: "First." },
        ],
      },
    ]);
    expect((await conductor(["run", "--output", "plain"], { cwd: root, home })).exitCode).toBe(0);
    const before = workspaceOf(latestSummary(root), "draft").tokens;
    expect(before?.totalTokens).toBeGreaterThan(0);
    routes["[rejected]"] = [
      { kind: "http-error", status: 401, body: '{"error":{"message":"no"}}' },
    ];
    const result = await conductor(["continue", "draft", "More [rejected]", "--output", "plain"], {
      cwd: root,
      home,
    });
    expect(result.exitCode, result.all).toBe(1);
    const after = workspaceOf(latestSummary(root), "draft");
    expect(after.failure?.reason).toBe("agent-error");
    expect(after.tokens).toEqual(before);
  });

  it("never writes the API key or copied env values into logs, events or reports", async () => {
    const apiKey = "sk-test-0123456789abcdef";
    const envValue = "env-local-value-9876543210";
    const { root, home } = await codexRepo(
      [
        {
          id: "leaky",
          steps: [
            { kind: "exec", cmd: "cat .env.local; echo key=$OPENAI_API_KEY; env | grep -i api" },
            { kind: "message", text: "done" },
          ],
        },
      ],
      {
        workspaces: { copy: [".env.local"] },
        scripts: { setup: "cat .env.local", check: "echo $OPENAI_API_KEY" },
      },
    );
    await repo.write({ ".env.local": `LOCAL_SETTING=${envValue}\n` });
    const result = await conductor(["run", "--output", "json"], {
      cwd: root,
      home,
      env: { OPENAI_API_KEY: apiKey },
    });
    expect(result.exitCode, result.all).toBe(0);
    const everything = [
      result.stdout,
      result.stderr,
      ...filesUnder(path.join(root, ".conductor")).map(read),
    ];
    for (const text of everything) {
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(envValue);
    }
    expect(
      read(
        path.join(
          root,
          ".conductor",
          "runs",
          latestSummary(root).runId,
          "workspaces",
          "leaky",
          "setup.log",
        ),
      ),
    ).toContain("[redacted]");
  });
});

function read(file: string): string {
  return readFileSync(file, "utf8");
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => path.join(dir, entry))
    .filter((file) => statSync(file).isFile());
}

/** Pids of processes that still carry the run's id in their environment. */
function codexProcessesOf(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/environ`, "latin1")
          .split("\0")
          .includes(`CONDUCTOR_RUN_ID=${runId}`)
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // gone or not ours
    }
  }
  return pids;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
