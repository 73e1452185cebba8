// End-to-end: best-of-N with the real codex binary, as agent and as judge, against the scripted
// model server: two attempts pass, the judge (codex exec --output-schema, read-only) picks one,
// and the dependent task starts from the winner's commit.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunState } from "../../src/executor/types.js";
import { type JudgeChoice, judgeRequestOf, withJudge } from "../../src/model-server/judge.js";
import { markerScript } from "../../src/model-server/server.js";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig, runIds } from "../helpers/run-repo.js";
import { useScriptedCodex } from "../helpers/scripted-agents.js";

let repo: TestRepo | undefined;
/** What the scripted judge answers; set per test. */
let choose: JudgeChoice = () => ({ winner: "", ranking: [], reasons: "" });

const routes = {
  // Attempt 1: a thorough fix, three lines; attempt 2: one line. Both pass `test -f fix.txt`.
  "[e2e:fix-1]": [
    {
      kind: "exec" as const,
      cmd: "printf 'handles empty\\nhandles one\\nhandles many\\n' > fix.txt",
    },
    { kind: "message" as const, text: "Fixed, with every case listed." },
  ],
  "[e2e:fix-2]": [
    { kind: "exec" as const, cmd: "echo quick > fix.txt" },
    { kind: "message" as const, text: "Fixed quickly." },
  ],
  "[e2e:docs]": [
    { kind: "exec" as const, cmd: "cp fix.txt docs.txt" },
    { kind: "message" as const, text: "Documented." },
  ],
};

const codex = useScriptedCodex(withJudge(markerScript(routes), (candidates) => choose(candidates)));
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

describe("best-of-N with the real codex as agent and judge", () => {
  it("asks codex to judge the tied attempts with --output-schema and starts the dependent from its pick", async () => {
    choose = (candidates) => {
      const thorough = candidates.find((candidate) => candidate.section.includes("+handles many"));
      return {
        winner: thorough?.name ?? "",
        ranking: [
          thorough?.name ?? "",
          ...candidates.map((c) => c.name).filter((n) => n !== thorough?.name),
        ],
        reasons: "It lists every case; the other only says quick.",
      };
    };
    repo = await repoWithConfig(
      {
        ...codex.config(),
        scripts: { check: "test -f fix.txt" },
        tasks: [
          { id: "fix", prompt: "Fix it. [e2e:fix-{{attempt}}]", attempts: 2 },
          { id: "docs", prompt: "Document it. [e2e:docs]", depends_on: ["fix"] },
        ],
      },
      { "README.md": "# e2e\n" },
    );

    const plan = await conductor(["plan"], { cwd: repo.root, home: repo.home });
    expect(plan.stdout).toMatch(
      /docs\s+conductor\/docs\s+codex\/scripted-model\s+after fix \(winner\)/,
    );
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });

    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      '[fix] winner: fix (branch conductor/fix) — passed check, 3 lines changed, judge: "It lists every case; the other only says quick."',
    );
    const judged = codex.server.requests.filter((request) => judgeRequestOf(request) !== undefined);
    expect(judged).toHaveLength(1);
    const judge = judgeRequestOf(judged[0] as (typeof judged)[number]);
    expect(judge?.candidates.map((candidate) => candidate.name)).toEqual(["fix", "fix-2"]);
    // codex passed the schema conductor wrote on to the model.
    expect(judge?.schema).toMatchObject({ required: ["winner", "ranking", "reasons"] });

    const ids = runIds(repo.root);
    const runDir = path.join(repo.root, ".conductor", "runs", ids[ids.length - 1] as string);
    const state = JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8")) as RunState;
    expect(state.selections?.fix).toMatchObject({
      winner: "fix",
      branch: "conductor/fix",
      judge: { status: "chose", asked: ["fix", "fix-2"] },
    });
    expect(state.selections?.fix?.ranking.decidedBy).toBe("judge");
    expect(
      readFileSync(path.join(runDir, "selections", "fix", "judge-answer.txt"), "utf8"),
    ).toContain('"winner":"fix"');
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe(
      "handles empty\nhandles one\nhandles many",
    );
    expect(await repo.git("rev-parse", "conductor/fix-2")).toBe(state.workspaces["fix-2"]?.commit);
    // The read-only judge left the main checkout as it was.
    expect(await repo.git("status", "--porcelain")).toBe("");
  });
});
