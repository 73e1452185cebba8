// The live view on a real pseudo-terminal (util-linux `script`): what a person at a terminal sees.
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { stripAnsi } from "../../src/report/format.js";
import { CLI } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";
import { type ReviewRepo, reviewRepo } from "../review/rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/**
 * Runs `conductor run` (output mode auto, not in CI) on a pseudo-terminal of `columns` columns;
 * `script` without input gives its terminal no size at all (0 columns). Returns what the
 * terminal received, escapes removed, split into lines.
 */
async function runOnTerminal(repo: ReviewRepo, columns: number | undefined): Promise<string[]> {
  const size = columns === undefined ? "" : `stty cols ${columns} rows 40; `;
  const result = await execa(
    "script",
    ["-q", "-e", "-c", `${size}exec node '${CLI}' run`, "/dev/null"],
    {
      cwd: repo.root,
      env: { ...gitEnv(repo.home), CI: "", NO_COLOR: "1" },
      stdin: "ignore",
      reject: false,
    },
  );
  expect(result.exitCode, result.stdout).toBe(0);
  return stripAnsi(result.stdout).split(/\r\n|\r|\n/);
}

describe("the live view on a terminal", () => {
  it("falls back to plain lines when the terminal has no width", async () => {
    repo = await reviewRepo([{ id: "alpha" }, { id: "beta" }]);
    const lines = await runOnTerminal(repo, undefined);
    expect(
      lines.some((line) => line.startsWith("[alpha] ✔ succeeded in ")),
      lines.join("\n"),
    ).toBe(true);
    expect(lines.some((line) => line.startsWith("[beta] commit done in"))).toBe(true);
    // Not a row wrapped after every character.
    const tiny = lines.filter((line) => line.trim().length === 1).length;
    expect(tiny, lines.join("\n")).toBeLessThan(3);
  });

  it("shows each step's own output while it runs and ends with the counts line", async () => {
    repo = await reviewRepo([
      {
        id: "alpha",
        agent: "echo AGENT-LAST-WORDS; echo done > alpha.txt",
        check: "echo CHECK-PROGRESS-1; sleep 1.5; echo CHECK-PROGRESS-2; sleep 1.5",
      },
    ]);
    const lines = await runOnTerminal(repo, 120);
    const runId = repo.runIds()[0] as string;
    // The row's detail line follows its title line in every frame the renderer drew.
    const detailDuring = (step: string) =>
      lines.flatMap((line, index) =>
        new RegExp(`alpha\\s+${step}\\b`).test(line) ? [lines[index + 1] ?? ""] : [],
      );
    const duringCheck = detailDuring("check");
    expect(duringCheck.length, lines.join("\n")).toBeGreaterThan(0);
    expect(duringCheck.some((line) => line.includes("check: CHECK-PROGRESS-2"))).toBe(true);
    for (const line of [...duringCheck, ...detailDuring("commit")]) {
      expect(line).not.toContain("AGENT-LAST-WORDS");
    }
    const last = lines.filter((line) => line.trim() !== "");
    const counts = last.indexOf("1 workspace: 1 succeeded, 0 failed, 0 skipped, 0 interrupted");
    expect(counts, last.slice(-8).join("\n")).toBeGreaterThan(0);
    expect(last[counts - 1]).toMatch(
      new RegExp(`^conductor: run ${runId} succeeded in \\S+: 1 succeeded$`),
    );
  });
});
