// The values of a run's record that reach git as arguments: refused when not of their form.
import { describe, expect, it } from "vitest";
import { recordValueProblem } from "../../src/executor/record-values.js";
import type { RunState } from "../../src/executor/types.js";

const sha = "a".repeat(40);

function run(startPoint: Record<string, unknown>, workspaceState = {}): RunState {
  return {
    plan: {
      base: { ref: "main", commit: sha },
      workspaces: [{ name: "w", branch: "conductor/w", path: "/tmp/ws/w", startPoint }],
    },
    workspaces: { w: workspaceState },
  } as unknown as RunState;
}

describe("recordValueProblem", () => {
  it("accepts what conductor writes: SHA-1 and SHA-256 ids, nested branch names, an upstream", () => {
    expect(recordValueProblem(run({ kind: "base", ref: "main", commit: sha }))).toBeUndefined();
    expect(
      recordValueProblem(
        run(
          {
            kind: "branch",
            branch: "feature/x-1.2",
            commit: "b".repeat(64),
            upstream: { remote: "origin", branch: "feature/x-1.2" },
          },
          { startCommit: sha, commit: "c".repeat(40) },
        ),
      ),
    ).toBeUndefined();
  });

  it("refuses an option, a URL or a path where a commit, branch or remote belongs", () => {
    expect(recordValueProblem(run({ kind: "base", ref: "main", commit: "--output=x" }))).toBe(
      "the start commit of workspace w is not a commit id",
    );
    expect(
      recordValueProblem(run({ kind: "branch", branch: "-f", commit: sha, upstream: undefined })),
    ).toBe("the start branch of workspace w is not a branch name");
    for (const remote of ["https://evil.example/x.git", "/tmp/elsewhere", "--mirror", "../up"]) {
      expect(
        recordValueProblem(
          run({ kind: "branch", branch: "b", commit: sha, upstream: { remote, branch: "b" } }),
        ),
        remote,
      ).toBe("the upstream remote of workspace w is not a remote's name");
    }
  });
});
