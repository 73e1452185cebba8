// Best-of-N with the command agent in real repositories: the winner is picked (check, judge,
// diff size), takes the task's plain branch, and the tasks that depend on it start from it.
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunState } from "../../src/executor/types.js";
import { conductor, startConductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { latestSummary, repoWithConfig, runIds, waitFor } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/**
 * The agent of both tasks: `fix` writes fix.txt (attempt 1 three lines, attempt 2 one line) and
 * breaks the check in the attempts listed in $BROKEN; `docs` copies fix.txt, so its branch shows
 * which candidate it started from (and takes away a hand-picked loser's broken.txt).
 */
const AGENT = [
  'case "$CONDUCTOR_TASK_ID" in',
  '  fix) if [ "$CONDUCTOR_ATTEMPT" = 1 ]; then printf "one\\ntwo\\nthree\\n" > fix.txt; else echo "attempt 2" > fix.txt; fi',
  '       case " $BROKEN " in *" $CONDUCTOR_ATTEMPT "*) touch broken.txt ;; esac ;;',
  "  docs) cp fix.txt docs.txt; rm -f broken.txt ;;",
  "esac",
].join("\n");

function config(broken: string, agent: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    env: { BROKEN: broken },
    agent: { kind: "command", command: AGENT, ...agent },
    scripts: { check: "test ! -f broken.txt" },
    tasks: [
      { id: "fix", prompt: "Fix the thing. [task:fix]", attempts: 2 },
      { id: "docs", prompt: "Document the fix.", depends_on: ["fix"] },
    ],
  };
}

async function run(r: TestRepo, args: string[] = []) {
  return conductor(["run", "--output", "plain", ...args], { cwd: r.root, home: r.home });
}

function runFolder(r: TestRepo): string {
  const ids = runIds(r.root);
  return path.join(r.root, ".conductor", "runs", ids[ids.length - 1] as string);
}

function state(r: TestRepo): RunState {
  return JSON.parse(readFileSync(path.join(runFolder(r), "run.json"), "utf8")) as RunState;
}

async function status(r: TestRepo): Promise<string> {
  const result = await conductor(["status"], { cwd: r.root, home: r.home });
  return result.stdout;
}

describe("best-of-N with a dependent task", () => {
  it("picks the one candidate that passed, gives it the plain branch and starts the dependent from it", async () => {
    repo = await repoWithConfig(config("1"));
    const result = await run(repo);

    // The losing attempt failed its check; the task has a winner, so the run succeeds.
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(
      "[fix] winner: fix-2 (branch conductor/fix) — passed check, 1 line changed",
    );
    const after = state(repo);
    expect(after.selections?.fix).toMatchObject({
      winner: "fix-2",
      branch: "conductor/fix",
      manual: false,
    });
    expect(after.selections?.fix?.ranking.decidedBy).toBe("check");
    expect(after.selections?.fix?.judge).toBeUndefined();
    // The winner's branch took the plain name (its worktree follows); the loser keeps its own.
    expect(await repo.git("rev-parse", "conductor/fix")).toBe(after.workspaces["fix-2"]?.commit);
    expect(await repo.git("rev-parse", "conductor/fix-1")).toBe(after.workspaces.fix?.commit);
    expect(await repo.git("branch", "--list", "conductor/fix-2")).toBe("");
    expect(
      await repo.git("-C", path.join(repo.home, "workspaces", "fix-2"), "branch", "--show-current"),
    ).toBe("conductor/fix");
    // The dependent started from the winner's commit.
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 2");
    await repo.git("merge-base", "--is-ancestor", "conductor/fix", "conductor/docs");
    expect(after.plan.workspaces.find((w) => w.name === "fix-2")?.branch).toBe("conductor/fix");

    expect(await status(repo)).toContain(
      "fix: winner: fix-2 (branch conductor/fix) — passed check, 1 line changed",
    );
    const summary = latestSummary(repo.root);
    expect(summary.status).toBe("succeeded");
    expect(summary.selections).toEqual([
      expect.objectContaining({
        task: "fix",
        winner: "fix-2",
        branch: "conductor/fix",
        decidedBy: "check",
        candidates: ["fix", "fix-2"],
      }),
    ]);
    const ranking = JSON.parse(
      readFileSync(path.join(runFolder(repo), "selections", "fix", "ranking.json"), "utf8"),
    );
    expect(ranking.ranking.candidates.map((c: { name: string }) => c.name)).toEqual([
      "fix-2",
      "fix",
    ]);
  });

  it("has no winner when no candidate passes: the dependent is skipped saying why, exit 1", async () => {
    repo = await repoWithConfig(config("1 2"));
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(1);
    const after = state(repo);
    expect(after.selections?.fix?.winner).toBeUndefined();
    expect(after.selections?.fix?.note).toBe("no candidate passed");
    expect(after.workspaces.docs?.status).toBe("skipped");
    expect(after.workspaces.docs?.failure?.message).toBe(
      "not started: no candidate of fix passed, so it has no winner to start from",
    );
    expect(await repo.git("branch", "--list", "conductor/fix")).toBe("");
    expect(await repo.git("branch", "--list", "conductor/docs")).toBe("");
    const shown = await status(repo);
    expect(shown).toContain(
      "fix: no winner: no candidate passed (fix-2 failed check, 1 line changed; fix failed check, 3 lines changed)",
    );
    expect(shown).toContain(
      `docs   skipped:       starts from a winner of fix: pick one with \`conductor pick fix <workspace>\`, then \`conductor run --resume ${after.runId}\``,
    );
  });

  it("asks the judge command when both pass, saving its prompt and answer, and follows it", async () => {
    const judge =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'first="${CONDUCTOR_JUDGE_CANDIDATES%% *}"; echo "judging"; printf \'{"winner":"%s","ranking":["%s"],"reasons":"attempt one lists every case"}\\n\' "$first" "$first"';
    repo = await repoWithConfig(config("", { judge_command: judge }));
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0);
    const after = state(repo);
    // Both passed and no review ran: the judge decides, overruling the smaller diff of fix-2.
    expect(after.selections?.fix?.ranking.decidedBy).toBe("judge");
    expect(after.selections?.fix?.winner).toBe("fix");
    expect(after.selections?.fix?.judge).toMatchObject({
      status: "chose",
      asked: ["fix", "fix-2"],
      reasons: "attempt one lists every case",
      promptFile: "selections/fix/judge-prompt.md",
      answerFile: "selections/fix/judge-answer.txt",
    });
    const prompt = readFileSync(
      path.join(runFolder(repo), "selections", "fix", "judge-prompt.md"),
      "utf8",
    );
    expect(prompt).toContain("Fix the thing. [task:fix]");
    expect(prompt).toContain("## Candidate fix\n");
    expect(prompt).toContain("## Candidate fix-2\n");
    expect(prompt).toContain("+attempt 2");
    expect(prompt).toContain("+three");
    expect(
      readFileSync(path.join(runFolder(repo), "selections", "fix", "judge-answer.txt"), "utf8"),
    ).toContain('"winner":"fix"');
    expect(await status(repo)).toContain(
      'fix: winner: fix (branch conductor/fix) — passed check, 3 lines changed, judge: "attempt one lists every case"',
    );
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("one\ntwo\nthree");
    expect(await repo.git("rev-parse", "conductor/fix-2")).toBe(after.workspaces["fix-2"]?.commit);
  });

  it("does not blame an agent running meanwhile for the winner's new branch name", async () => {
    // `slow` is still working when the winner of `fix` takes the plain branch name: conductor
    // moved those refs, not slow's agent (nor docs', which may start from a look taken before).
    const base = config("");
    const tasks = [
      ...(base.tasks as Record<string, unknown>[]),
      { id: "slow", prompt: "Take your time." },
    ];
    const slowAgent = `if [ "$CONDUCTOR_TASK_ID" = slow ]; then sleep 1; echo slow > slow.txt; fi\n${AGENT}`;
    repo = await repoWithConfig({
      ...base,
      concurrency: 3,
      agent: { kind: "command", command: slowAgent },
      tasks,
    });
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0);
    const after = state(repo);
    expect(after.selections?.fix).toMatchObject({ winner: "fix-2", branch: "conductor/fix" });
    expect(after.workspaces.slow?.status).toBe("succeeded");
    expect(after.workspaces.docs?.status).toBe("succeeded");
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 2");
  });

  it("does not blame an agent that started after the winner finished for the winner's new branch name", async () => {
    // fix (attempt 1) passes at once and frees its slot; slow starts, then fix-2 fails its check
    // and fix wins: its branch takes the plain name while slow works. fix was not running during
    // slow's turn, so only conductor's own record of the move can account for it.
    const base = config("2");
    const tasks = [
      ...(base.tasks as Record<string, unknown>[]),
      { id: "slow", prompt: "Take your time." },
    ];
    const agent = [
      'if [ "$CONDUCTOR_TASK_ID" = slow ]; then sleep 3; echo slow > slow.txt; fi',
      'if [ "$CONDUCTOR_TASK_ID" = fix ] && [ "$CONDUCTOR_ATTEMPT" = 2 ]; then sleep 1.5; fi',
      AGENT,
    ].join("\n");
    repo = await repoWithConfig({
      ...base,
      concurrency: 2,
      agent: { kind: "command", command: agent },
      scripts: {
        ...(base.scripts as Record<string, string>),
        // slow takes fix's slot as fix's commit starts: its agent starts once fix is done.
        setup: 'if [ "$CONDUCTOR_TASK_ID" = slow ]; then sleep 0.5; fi',
      },
      tasks,
    });
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0); // the task has its winner
    const after = state(repo);
    expect(after.selections?.fix).toMatchObject({ winner: "fix", branch: "conductor/fix" });
    // slow's agent started after fix had finished, and fix-2 ended while it worked.
    const agentStarted = Date.parse(after.workspaces.slow?.steps.agent?.startedAt ?? "");
    expect(agentStarted).toBeGreaterThanOrEqual(Date.parse(after.workspaces.fix?.finishedAt ?? ""));
    expect(Date.parse(after.workspaces["fix-2"]?.finishedAt ?? "")).toBeGreaterThan(agentStarted);
    expect(after.workspaces.slow?.status, result.all).toBe("succeeded");
    expect(after.workspaces.docs?.status).toBe("succeeded");
  });

  it("picks the winner of a task nothing depends on, its candidates the last to finish", async () => {
    const { tasks, ...base } = config("");
    repo = await repoWithConfig({ ...base, tasks: (tasks as unknown[]).slice(0, 1) });
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0);
    expect(state(repo).selections?.fix).toMatchObject({ winner: "fix-2", branch: "conductor/fix" });
    expect(await repo.git("show", "conductor/fix:fix.txt")).toBe("attempt 2");
  });

  it("runs the judge in a private folder, not the main checkout", async () => {
    const judge =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'touch judge-was-here; first="${CONDUCTOR_JUDGE_CANDIDATES%% *}"; printf \'{"winner":"%s","ranking":["%s"],"reasons":"r"}\\n\' "$first" "$first"';
    repo = await repoWithConfig(config("", { judge_command: judge }));
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0);
    expect(state(repo).selections?.fix?.ranking.decidedBy).toBe("judge");
    // A judge that writes files does so outside the user's checkout.
    expect(existsSync(path.join(repo.root, "judge-was-here"))).toBe(false);
  });

  it("redacts a secret the judge quotes in its reasons from ranking.json and the answer file", async () => {
    const secret = "s3cr3t-judge-token-9f1";
    const judge =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'first="${CONDUCTOR_JUDGE_CANDIDATES%% *}"; printf \'{"winner":"%s","ranking":["%s"],"reasons":"it uses %s"}\\n\' "$first" "$first" "$DEPLOY_TOKEN"';
    repo = await repoWithConfig(config("", { judge_command: judge }));
    const result = await conductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
      env: { DEPLOY_TOKEN: secret },
    });

    expect(result.exitCode, result.all).toBe(0);
    const dir = path.join(runFolder(repo), "selections", "fix");
    const ranking = readFileSync(path.join(dir, "ranking.json"), "utf8");
    expect(ranking).toContain('"decidedBy": "judge"');
    expect(ranking).toContain("it uses [redacted]");
    for (const file of ["ranking.json", "judge-answer.txt", "judge-prompt.md", "judge.log"])
      expect(readFileSync(path.join(dir, file), "utf8")).not.toContain(secret);
  });

  it.each([
    [
      "returns no JSON",
      'echo "fix is best, trust me"',
      "invalid",
      "the answer is not a JSON object",
    ],
    [
      "names no candidate",
      'echo \'{"winner":"fix-9","ranking":[],"reasons":"x"}\'',
      "invalid",
      'winner "fix-9" is not one of fix, fix-2',
    ],
    ["fails", "echo busy >&2; exit 3", "failed", "the judge failed"],
  ])(
    "falls back to the smaller diff when the judge %s, recording why",
    async (_what, judge, judgeStatus, problem) => {
      // Attempt 1 is judged the winner by nobody; the smaller diff (attempt 2, one line) wins.
      repo = await repoWithConfig(config("", { judge_command: judge }));
      const result = await run(repo);

      expect(result.exitCode, result.all).toBe(0);
      const record = state(repo).selections?.fix;
      expect(record?.winner).toBe("fix-2");
      expect(record?.ranking.decidedBy).toBe("diff");
      expect(record?.judge?.status).toBe(judgeStatus);
      expect(record?.judge?.problem).toContain(problem);
      expect(await status(repo)).toContain(`judge ${judgeStatus}: ${problem}`);
    },
  );

  it("picks the winner only after an interrupted candidate was resumed", async () => {
    const agent = `if [ "$CONDUCTOR_TASK_ID" = fix ] && [ "$CONDUCTOR_ATTEMPT" = 2 ] && [ ! -f "$CONDUCTOR_ROOT_PATH/.conductor/go" ]; then sleep 300; fi\n${AGENT}`;
    repo = await repoWithConfig({ ...config(""), agent: { kind: "command", command: agent } });
    const child = startConductor(["run", "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    await waitFor(
      () => {
        if (!existsSync(path.join(repo?.root as string, ".conductor", "runs"))) return false;
        // Not yet a run: its folder is made a moment after the runs folder that holds it.
        if (runIds(repo?.root as string).length === 0) return false;
        const events = path.join(runFolder(repo as TestRepo), "events.jsonl");
        if (!existsSync(events)) return false;
        const text = readFileSync(events, "utf8");
        return (
          text.includes('"workspace":"fix","status":"succeeded"') &&
          text.includes('"type":"step.started","workspace":"fix-2","step":"agent"')
        );
      },
      20_000,
      "fix to succeed while fix-2's agent runs",
    );
    child.kill("SIGINT");
    expect((await child).exitCode).toBe(130);
    const interrupted = state(repo);
    expect(interrupted.selections?.fix).toBeUndefined();
    expect(interrupted.workspaces.docs?.status).toBe("pending");
    expect(await status(repo)).toContain("fix: select best of 2 candidates: not picked yet");

    await repo.write({ ".conductor/go": "" });
    const resumed = await run(repo, ["--resume"]);

    expect(resumed.exitCode, resumed.all).toBe(0);
    const after = state(repo);
    // No judge_command: the judge is unavailable, recorded as such, and the smaller diff decides.
    expect(after.selections?.fix?.winner).toBe("fix-2");
    expect(after.selections?.fix?.judge?.status).toBe("unavailable");
    expect(after.selections?.fix?.ranking.decidedBy).toBe("diff");
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 2");
  });

  it("lets a person pick a winner by hand with conductor pick, then starts the dependent from it on resume", async () => {
    repo = await repoWithConfig(config("1 2"));
    expect((await run(repo)).exitCode).toBe(1);
    const runId = state(repo).runId;

    const shown = await conductor(["pick", "fix"], { cwd: repo.root, home: repo.home });
    expect(shown.exitCode, shown.all).toBe(0);
    expect(shown.stdout).toContain("fix: no winner: no candidate passed");
    expect(shown.stdout).toMatch(
      /1\s+fix-2\s+failed\s+failed check, 1 line changed\s+conductor\/fix-2/,
    );

    const picked = await conductor(["pick", "fix", "fix"], { cwd: repo.root, home: repo.home });
    expect(picked.exitCode, picked.all).toBe(0);
    expect(picked.stdout).toContain(
      "fix: winner: fix (branch conductor/fix) — failed check, 3 lines changed, picked by hand",
    );
    const hint = `conductor run --resume ${runId}`;
    expect(picked.stdout).toContain(`Start docs from it with \`${hint}\``);
    const manual = state(repo);
    expect(manual.selections?.fix).toMatchObject({ winner: "fix", manual: true });
    expect(manual.selections?.fix?.ranking.decidedBy).toBe("manual");
    expect(await repo.git("rev-parse", "conductor/fix")).toBe(manual.workspaces.fix?.commit);
    expect(await repo.git("branch", "--list", "conductor/fix-1")).toBe("");

    // The printed hint, as printed: only the dependent runs; the settled candidates stay as they were.
    const resumed = await conductor([...hint.split(" ").slice(1), "--output", "plain"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(resumed.stdout).not.toContain("[fix-2] started");
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("one\ntwo\nthree");
    const after = state(repo);
    expect(after.workspaces["fix-2"]?.status).toBe("failed");
    expect(after.workspaces.docs?.status).toBe("succeeded");

    // Picking the other candidate gives the name to it and the first its own back.
    const again = await conductor(["pick", "fix", "fix-2"], { cwd: repo.root, home: repo.home });
    expect(again.exitCode, again.all).toBe(0);
    const final = state(repo);
    expect(await repo.git("rev-parse", "conductor/fix")).toBe(final.workspaces["fix-2"]?.commit);
    expect(await repo.git("rev-parse", "conductor/fix-1")).toBe(final.workspaces.fix?.commit);
    expect(await repo.git("branch", "--list", "conductor/fix-2")).toBe("");

    const refused = await conductor(["pick", "docs"], { cwd: repo.root, home: repo.home });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("task docs of run");
  });

  it("pick names the candidate a started dependent was built on, whatever was picked in between", async () => {
    // docs' check fails while .git/fail-docs exists, so docs is started but unfinished.
    const base = config("");
    repo = await repoWithConfig({
      ...base,
      scripts: {
        check:
          'test ! -f broken.txt && test ! -f "$CONDUCTOR_ROOT_PATH/.git/fail-$CONDUCTOR_TASK_ID"',
      },
    });
    await repo.write({ ".git/fail-docs": "" });
    expect((await run(repo)).exitCode).toBe(1);
    const runId = state(repo).runId;
    // The smaller diff won: docs was built on fix-2.
    expect(state(repo).selections?.fix?.winner).toBe("fix-2");
    const r = repo;
    const pick = (workspace: string) =>
      conductor(["pick", "fix", workspace], { cwd: r.root, home: r.home });
    const resume = `\`conductor run --resume ${runId}\``;

    const toFix = await pick("fix");
    expect(toFix.exitCode, toFix.all).toBe(0);
    expect(toFix.stdout).toContain(
      "Note: docs already started from fix-2, an earlier winner, and keeps that start.",
    );
    // A resume continues docs where it started; it does not start it from the new winner.
    expect(toFix.stdout).not.toContain("Start docs from it");
    expect(toFix.stdout).toContain(`Continue docs from its start with ${resume}`);

    // Back to fix-2, the candidate docs was built on: nothing to note, not "fix".
    const back = await pick("fix-2");
    expect(back.exitCode, back.all).toBe(0);
    expect(back.stdout).not.toContain("Note:");
    expect(back.stdout).toContain(`Continue docs from its start with ${resume}`);

    const again = await pick("fix");
    expect(again.stdout).toContain("Note: docs already started from fix-2, an earlier winner");

    // What the lines said holds: the resume finishes docs on fix-2's work.
    rmSync(path.join(repo.root, ".git", "fail-docs"));
    const resumed = await run(repo, ["--resume", runId]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 2");
  });

  it("picking an archived loser says where its work is kept, with a command that works as printed", async () => {
    repo = await repoWithConfig(config("1"));
    expect((await run(repo)).exitCode).toBe(0);
    const before = state(repo);
    expect(
      (await conductor(["archive", "--losers"], { cwd: repo.root, home: repo.home })).exitCode,
    ).toBe(0);
    const ref = `refs/conductor/losers/${before.runId}/fix`;

    const refused = await conductor(["pick", "fix", "fix"], { cwd: repo.root, home: repo.home });
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain(
      "fix was archived; an archived workspace cannot be the winner.",
    );
    // Not "no work", and not a later run's doing: it lost the pick.
    expect(refused.stderr).not.toContain("no work");
    expect(refused.stderr).not.toContain("later run");
    expect(refused.stderr).toContain(
      `It lost its task's pick and was archived; its work is kept as ${ref}`,
    );
    const hint = /`(git branch \S+ \S+)`/.exec(refused.stderr)?.[1] as string;
    const [, ...args] = hint.split(" ");
    await repo.git(...args);
    expect(await repo.git("rev-parse", "conductor/fix-1-kept")).toBe(before.workspaces.fix?.commit);
    // Nothing changed by the refusal: the winner keeps the plain branch.
    expect(state(repo).selections?.fix?.winner).toBe("fix-2");
    expect(await repo.git("rev-parse", "conductor/fix")).toBe(before.workspaces["fix-2"]?.commit);
  });

  it("first-passing starts the dependents as soon as one candidate passed, while the others still work", async () => {
    // Attempt 2 keeps working until docs is done (at most 10s): docs must not wait for it.
    const marker = '"$CONDUCTOR_ROOT_PATH/.git/docs-done"';
    const agent = [
      'case "$CONDUCTOR_TASK_ID" in',
      `  fix) echo "attempt $CONDUCTOR_ATTEMPT" > fix.txt; if [ "$CONDUCTOR_ATTEMPT" = 2 ]; then i=0; while [ ! -f ${marker} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi ;;`,
      `  docs) cp fix.txt docs.txt; touch ${marker} ;;`,
      "esac",
    ].join("\n");
    repo = await repoWithConfig({
      agent: { kind: "command", command: agent },
      tasks: [
        { id: "fix", prompt: "Fix the thing.", attempts: 2, select: "first-passing" },
        { id: "docs", prompt: "Document the fix.", depends_on: ["fix"] },
      ],
    });
    const result = await run(repo);
    expect(result.exitCode, result.all).toBe(0);
    const after = state(repo);
    expect(after.selections?.fix?.winner).toBe("fix");
    expect(after.selections?.fix?.ranking.decidedBy).toBe("first-passing");
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 1");
    // docs finished while fix-2 was still at work, which then finished too, ranked behind.
    const finished = (name: string) => Date.parse(after.workspaces[name]?.finishedAt as string);
    expect(finished("docs")).toBeLessThan(finished("fix-2"));
    expect(after.workspaces["fix-2"]?.status).toBe("succeeded");
    expect(await repo.git("rev-parse", "conductor/fix-2")).toBe(after.workspaces["fix-2"]?.commit);
    // The ranking, read now, says what fix-2 was at the pick, beside what it is now.
    const shown = await conductor(["pick", "fix"], { cwd: repo.root, home: repo.home });
    expect(shown.stdout).toMatch(
      /2\s+fix-2\s+succeeded\s+still running when picked\s+conductor\/fix-2/,
    );
  });

  it("archive --losers archives the candidates that lost, keeping their branches as refs", async () => {
    repo = await repoWithConfig(config("1"));
    expect((await run(repo)).exitCode).toBe(0);
    const before = state(repo);
    const loserCommit = before.workspaces.fix?.commit as string;

    const archived = await conductor(["archive", "--losers"], { cwd: repo.root, home: repo.home });

    expect(archived.exitCode, archived.all).toBe(0);
    const ref = `refs/conductor/losers/${before.runId}/fix`;
    expect(archived.stdout).toContain(`archived fix: `);
    expect(archived.stdout).toContain(`kept branch conductor/fix-1 as ${ref}`);
    expect(await repo.git("rev-parse", ref)).toBe(loserCommit);
    expect(await repo.git("branch", "--list", "conductor/fix-1")).toBe("");
    expect(existsSync(path.join(repo.home, "workspaces", "fix"))).toBe(false);
    // The winner and the dependent are untouched.
    expect(existsSync(path.join(repo.home, "workspaces", "fix-2"))).toBe(true);
    expect(await repo.git("rev-parse", "conductor/fix")).toBe(before.workspaces["fix-2"]?.commit);
    expect(await status(repo)).toMatch(new RegExp(`fix\\s+archived.*${ref}`));
    const again = await conductor(["archive", "--losers"], { cwd: repo.root, home: repo.home });
    expect(again.stdout).toBe("no losers to archive");
  });

  it("select.archive_losers archives the losers once the winner is picked", async () => {
    const base = config("1");
    const tasks = base.tasks as Record<string, unknown>[];
    repo = await repoWithConfig({
      ...base,
      tasks: [{ ...tasks[0], select: { mode: "best", archive_losers: true } }, tasks[1]],
    });
    const result = await run(repo);

    expect(result.exitCode, result.all).toBe(0);
    const runId = state(repo).runId;
    expect(result.stderr).toContain(
      `conductor: archived fix, which lost; its branch is kept as refs/conductor/losers/${runId}/fix`,
    );
    expect(existsSync(path.join(repo.home, "workspaces", "fix"))).toBe(false);
    expect(await repo.git("rev-parse", `refs/conductor/losers/${runId}/fix`)).toBe(
      state(repo).workspaces.fix?.commit,
    );
  });

  it("picks again on resume when no candidate had passed, and starts the dependent from the new winner", async () => {
    // Both fail their check until .conductor/go exists; a resume runs the checks again.
    repo = await repoWithConfig({
      ...config("1 2"),
      scripts: { check: 'test ! -f broken.txt || test -f "$CONDUCTOR_ROOT_PATH/.conductor/go"' },
    });
    expect((await run(repo)).exitCode).toBe(1);
    expect(state(repo).selections?.fix?.winner).toBeUndefined();

    await repo.write({ ".conductor/go": "" });
    const resumed = await run(repo, ["--resume"]);

    expect(resumed.exitCode, resumed.all).toBe(0);
    const after = state(repo);
    expect(after.selections?.fix?.winner).toBe("fix-2");
    expect(after.workspaces.docs?.status).toBe("succeeded");
    expect(await repo.git("show", "conductor/docs:docs.txt")).toBe("attempt 2");
  });
});
