// `run --output json` is for machines: stdout must be one JSON event a line and nothing else, so a
// CI step can pipe it to jq; the sentences about what to do next go to stderr.
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import type { TestRepo } from "../helpers/git-repo.js";
import { repoWithConfig } from "../helpers/run-repo.js";

let repo: TestRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

/** Every stdout line parsed (a line that is not JSON fails the test, naming it). */
function events(stdout: string): { type: string }[] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as { type: string };
      } catch {
        throw new Error(`stdout line is not JSON: ${JSON.stringify(line)}`);
      }
    });
}

describe("run --output json", () => {
  it("prints only events on stdout when workspaces fail; the next steps go to stderr", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'echo hi > "$CONDUCTOR_TASK_ID.txt"' },
      tasks: [
        { id: "good", prompt: "p" },
        { id: "bad", prompt: "p", agent: { command: "exit 4" } },
      ],
    });
    const result = await conductor(["run", "--output", "json"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(1);
    const printed = events(result.stdout);
    expect(printed.at(-1)?.type).toBe("run.finished");
    expect(result.stderr).toContain("finished with failures");
    expect(result.stderr).toMatch(/bad\b.*agent/);
  });

  it("prints only events on stdout when the run succeeds", async () => {
    repo = await repoWithConfig({
      agent: { kind: "command", command: 'echo hi > "$CONDUCTOR_TASK_ID.txt"' },
      tasks: [{ id: "good", prompt: "p" }],
    });
    const result = await conductor(["run", "--output", "json"], {
      cwd: repo.root,
      home: repo.home,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(events(result.stdout).at(-1)?.type).toBe("run.finished");
    expect(result.stderr).toContain("succeeded. Review with");
  });
});
