// `conductor demo --best-of`: two real codex attempts, a codex judge, and a dependent task that
// starts from the winner; the printed next steps work as printed.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { runAsPrinted } from "./hints.js";

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cleanup: string[] = [];
afterEach(async () => {
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("conductor demo --best-of", () => {
  it("picks the attempt the judge prefers and documents it from the winner's commit", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-home-"));
    cleanup.push(home);
    const demo = await conductor(["demo", "--best-of", "--output", "plain"], {
      cwd: PACKAGE_ROOT,
      home,
    });
    expect(demo.exitCode, demo.all).toBe(0);
    const repo = /conductor demo: repository (\S+)/.exec(demo.stdout)?.[1] as string;
    cleanup.push(path.dirname(repo));
    expect(demo.stdout).toContain(
      '[fix-average] winner: fix-average-2 (branch conductor-demo/fix-average) — passed check, 13 lines changed, judge: "fix-average-2 adds 2 tests, more than the others; both pass the check."',
    );
    const readme = execFileSync("git", ["show", "conductor-demo/document-average:README.md"], {
      cwd: repo,
      encoding: "utf8",
    });
    expect(readme).toContain("Covered by 2 tests in test/average.test.js.");

    const next = demo.stdout
      .split("\n")
      .filter((line) => line.startsWith("  npx conductor "))
      .map((line) => (line.split("  #")[0] as string).trim());
    expect(next).toHaveLength(5);
    const outputs: string[] = [];
    for (const command of next) {
      const result = await runAsPrinted(command, { cwd: PACKAGE_ROOT, home });
      expect(result.exitCode, `${command}\n${result.all}`).toBe(0);
      outputs.push(result.stdout);
    }
    // pick by hand moved the plain name to attempt 1; archive --losers then kept attempt 2's branch.
    expect(outputs[3]).toContain(
      "fix-average: winner: fix-average (branch conductor-demo/fix-average)",
    );
    expect(outputs[3]).toContain("document-average already started from fix-average-2");
    expect(outputs[4]).toContain("as refs/conductor/losers/");
    // Three codex sessions, a judge and five commands: more than the default minute on a busy machine.
  }, 180_000);
});
