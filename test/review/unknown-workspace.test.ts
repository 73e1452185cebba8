import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo;

beforeAll(async () => {
  repo = await reviewRepo([{ id: "alpha" }, { id: "beta" }]);
  await runAll(repo);
});

afterAll(async () => {
  await repo.remove();
});

/** Every command that takes workspace names, with the name where it goes. */
const COMMANDS: readonly (readonly string[])[] = [
  ["logs", "alpah"],
  ["logs", "alpah", "--follow"],
  ["diff", "alpah"],
  ["diff", "alpah", "--stat"],
  ["open", "alpah"],
  ["serve", "alpah"],
  ["shell", "alpah"],
  ["exec", "alpah", "--", "true"],
  ["spotlight", "alpah"],
  ["spotlight", "alpah", "--watch"],
  ["pr", "alpah"],
  ["pr", "beta", "alpah"],
  ["archive", "alpah"],
  ["archive", "beta", "alpah", "--delete-branch"],
];

describe("unknown workspaces and runs", () => {
  it.each(COMMANDS.map((args) => [args.join(" "), args] as const))(
    "conductor %s fails with a suggestion and prints nothing else",
    async (_label, args) => {
      const result = await repo.cli(args);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain('no workspace matches "alpah". Did you mean "alpha"?');
      expect(result.stdout).toBe("");
    },
  );

  it("leaves every workspace as it was after those refusals", async () => {
    const status = await repo.cli(["status"]);
    expect(status.stdout).toMatch(/^alpha\s+succeeded\s/m);
    expect(status.stdout).toMatch(/^beta\s+succeeded\s/m);
  });

  it("fails the same way for a glob that matches nothing", async () => {
    const result = await repo.cli(["archive", "gamma-*"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no workspace matches "gamma-*"');
    const runId = repo.runIds().at(-1) as string;
    expect(result.stderr).toContain(
      `\`conductor status --run ${runId}\` lists the workspaces of run ${runId}`,
    );
  });

  it("conductor pick of a task that does not exist says so and names the tasks", async () => {
    const runId = repo.runIds().at(-1) as string;
    for (const [task, suggestion] of [
      ["nope", ""],
      ["alpah", ' Did you mean "alpha"?'],
    ]) {
      const result = await repo.cli(["pick", task as string]);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain(`no task ${task} in run ${runId}.${suggestion} Tasks`);
      expect(result.stderr).toContain(`Tasks of run ${runId}: alpha, beta (none picks a winner).`);
      expect(result.stderr).not.toContain("picks no winner");
      expect(result.stdout).toBe("");
    }
    // A task that exists but has one workspace is told apart from a typo.
    const single = await repo.cli(["pick", "alpha"]);
    expect(single.exitCode, single.all).toBe(2);
    expect(single.stderr).toContain(`task alpha of run ${runId} picks no winner`);
  });

  it("fails clearly in status and report for an unknown run id", async () => {
    for (const command of [
      ["status", "19990101"],
      ["report", "19990101"],
    ]) {
      const result = await repo.cli(command);
      expect(result.exitCode, result.all).toBe(2);
      expect(result.stderr).toContain('there is no run "19990101"');
    }
  });
});
