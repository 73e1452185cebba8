// The demo's printed commands work as printed from where the demo was started (the conductor
// checkout, where `npx conductor` is this package): they name the demo's repository and config.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { conductor, LAUNCHER } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";
import { printedCommands, runAsPrinted } from "./hints.js";

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cleanup: string[] = [];
afterEach(async () => {
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("conductor demo", () => {
  it("prints review commands that work from the folder it was started in", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-home-"));
    cleanup.push(home);
    const demo = await conductor(["demo", "--output", "plain"], { cwd: PACKAGE_ROOT, home });
    expect(demo.exitCode, demo.all).toBe(0);
    const repo = /conductor demo: repository (\S+)/.exec(demo.stdout)?.[1] as string;
    cleanup.push(path.dirname(repo));
    const [review] = printedCommands(demo.stdout);
    expect(review).toMatch(
      new RegExp(`^npx conductor -C ${repo} -c \\S+/conductor\\.yaml status$`),
    );
    const status = await runAsPrinted(review as string, { cwd: PACKAGE_ROOT, home });
    expect(status.exitCode, status.all).toBe(0);
    expect(status.stdout).toMatch(/^add-greeting\s+succeeded\s/m);

    // The "Next" lines too (all but serve, which runs until Ctrl-C).
    const next = demo.stdout
      .split("\n")
      .filter((line) => line.startsWith("  npx conductor "))
      .map((line) => (line.split("  #")[0] as string).trim())
      .filter((command) => !command.includes(" serve "));
    expect(next).toHaveLength(4);
    for (const command of next) {
      const result = await runAsPrinted(command, { cwd: PACKAGE_ROOT, home });
      expect(result.exitCode, `${command}\n${result.all}`).toBe(0);
    }
  });

  it("names conductor by its launcher's path when started outside its checkout without conductor on PATH", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-home-"));
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), "conductor-demo-cwd-"));
    cleanup.push(home, elsewhere);
    // Only node's own folder on PATH: no conductor there (npm's scripts add node_modules/.bin).
    const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` };
    const demo = await conductor(["demo", "--output", "plain"], { cwd: elsewhere, home, env });
    expect(demo.exitCode, demo.all).toBe(0);
    const repo = /conductor demo: repository (\S+)/.exec(demo.stdout)?.[1] as string;
    cleanup.push(path.dirname(repo));
    expect(demo.stdout).not.toContain("npx conductor");
    const status = demo.stdout
      .split("\n")
      .find((line) => line.includes(" status "))
      ?.split("  #")[0]
      ?.trim() as string;
    expect(status).toMatch(new RegExp(`^${LAUNCHER} -C ${repo} -c \\S+/conductor\\.yaml status$`));
    expect(demo.stdout).toContain(`\`${LAUNCHER} doctor\``);
    const result = await execa("sh", ["-c", status], {
      cwd: elsewhere,
      reject: false,
      all: true,
      env: { ...gitEnv(home), CI: "1", NO_COLOR: "1", ...env },
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^add-greeting\s+succeeded\s/m);
  });
});
