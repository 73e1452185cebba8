// The commits conductor makes say what they are in `git log`: task and summary in the subject,
// run, task, workspace and the check's verdict in trailers.
import { afterEach, describe, expect, it } from "vitest";
import { type ReviewRepo, reviewRepo, runAll } from "./rig.js";

let repo: ReviewRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Subject and conductor trailers of every commit on `branch` above main, newest first. */
async function commitsOf(
  repo: ReviewRepo,
  branch: string,
): Promise<{ subject: string; trailers: Record<string, string> }[]> {
  const format = "%s%x1f%(trailers:only,unfold)%x1e";
  const out = await repo.git("log", `--format=${format}`, `main..${branch}`);
  return out
    .split("\x1e")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const [subject = "", trailerText = ""] = entry.split("\x1f");
      const trailers: Record<string, string> = {};
      for (const line of trailerText.split("\n")) {
        const match = /^([\w-]+): (.*)$/.exec(line.trim());
        if (match) trailers[match[1] as string] = match[2] as string;
      }
      return { subject, trailers };
    });
}

describe("conductor's commits", () => {
  it("mark a commit whose check failed, and the follow-up commit that passed, in git log", async () => {
    // The agent writes a broken result first; a follow-up that says "fix" repairs it.
    const agent =
      'case "$CONDUCTOR_PROMPT" in *fs.writeFileSync*) echo fixed > avg.txt;; *) echo broken > avg.txt;; esac';
    const instruction =
      'RUN: node -e \'const fs=require("fs"); fs.writeFileSync("avg.txt", "fixed")\' and then make sure the whole suite passes';
    repo = await reviewRepo([
      {
        id: "fix-average",
        agent,
        prompt: "Make average([]) return 0.\n\nThe function divides by the length of the list.",
        check: "grep -q fixed avg.txt",
      },
      { id: "no-check", check: null },
    ]);
    const run = await runAll(repo);
    expect(run.exitCode, run.all).toBe(1);
    const runId = repo.runIds()[0] as string;

    const followUp = await repo.cli(["continue", "fix-average", instruction, "--output", "plain"]);
    expect(followUp.exitCode, followUp.all).toBe(0);

    const [fixed, broken, ...older] = await commitsOf(repo, "conductor/fix-average");
    expect(older).toEqual([]);
    expect(broken).toEqual({
      subject: "fix-average: make average([]) return 0",
      trailers: {
        "Conductor-Run": runId,
        "Conductor-Task": "fix-average",
        "Conductor-Workspace": "fix-average",
        "Conductor-Check": "failed",
      },
    });
    expect(fixed?.trailers).toEqual({
      "Conductor-Run": runId,
      "Conductor-Task": "fix-average",
      "Conductor-Workspace": "fix-average",
      "Conductor-Check": "passed",
    });
    // The follow-up's instruction, cut at a word boundary within git's 72 columns.
    const subject = fixed?.subject ?? "";
    expect(subject.length).toBeLessThanOrEqual(72);
    expect(subject.endsWith("…")).toBe(true);
    const kept = subject.slice("fix-average: ".length, -1);
    expect(subject.startsWith("fix-average: RUN: node -e 'const")).toBe(true);
    expect(instruction.startsWith(kept)).toBe(true);
    // Cut between words (a word's trailing punctuation may go with the cut).
    expect(instruction.slice(kept.length)).toMatch(/^[.,;:]*\s/);

    const [plain] = await commitsOf(repo, "conductor/no-check");
    expect(plain?.subject).toBe("no-check: write no-check.txt");
    expect(plain?.trailers["Conductor-Check"]).toBe("none");
  });
});
