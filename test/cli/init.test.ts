// `conductor init`, `--help` and `--version`, run as real processes in real temporary repositories.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SCHEMA_LINE = /^# yaml-language-server: \$schema=(.+)$/m;

let repo: TestRepo;

beforeEach(async () => {
  repo = await createTestRepo({ "README.md": "# webapp\n", "src/app/index.ts": "export {};\n" });
});

afterEach(async () => {
  await repo.remove();
});

const run = (args: string[], cwd = repo.root) => conductor(args, { cwd, home: repo.home });
const configPath = () => path.join(repo.root, "conductor.yaml");

describe("conductor init", () => {
  it("writes a commented conductor.yaml from the example that validates", async () => {
    const result = await run(["init"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Wrote conductor.yaml");

    const written = await readFile(configPath(), "utf8");
    const example = await readFile(path.join(ROOT, "conductor.yaml.example"), "utf8");
    // Only the schema line differs: it points at the installed schema, relative to the new file.
    expect(written.replace(SCHEMA_LINE, "")).toBe(example.replace(SCHEMA_LINE, ""));
    expect(written).toMatch(/^# /m);
    const schema = SCHEMA_LINE.exec(written)?.[1] ?? "";
    expect(path.isAbsolute(schema)).toBe(false);
    expect(existsSync(path.resolve(repo.root, schema))).toBe(true);

    const validate = await run(["validate"]);
    expect(validate.stderr).toBe("");
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toContain("conductor.yaml is valid: 3 tasks, 4 workspaces");
  });

  it("writes at the repository root when run in a subfolder", async () => {
    const result = await run(["init"], path.join(repo.root, "src", "app"));
    expect(result.exitCode).toBe(0);
    expect(existsSync(configPath())).toBe(true);
    expect(existsSync(path.join(repo.root, "src", "app", "conductor.yaml"))).toBe(false);
  });

  it("writes the file named by -c, creating its folder", async () => {
    const result = await run(["-c", "ci/conductor.ci.yaml", "init"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Wrote ci/conductor.ci.yaml");
    const validate = await run(["validate", "-c", "ci/conductor.ci.yaml"]);
    expect(validate.exitCode).toBe(0);
  });

  it("cannot write over a folder even with --force: exit 2 and one clear message", async () => {
    const result = await run(["-c", "src", "init", "--force"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("conductor: cannot write src (EISDIR)");
    expect(result.stderr).not.toContain("internal error");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses to overwrite an existing file without --force, leaving it unchanged", async () => {
    const mine = "version: 1 # mine\ntasks:\n  - id: keep-me\n    prompt: Keep this file.\n";
    await writeFile(configPath(), mine);
    const result = await run(["init"]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("conductor.yaml already exists; not overwriting it");
    expect(result.stderr).toContain("--force");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(configPath(), "utf8")).toBe(mine);
  });

  it("overwrites an existing file with --force", async () => {
    await writeFile(configPath(), "version: 1 # mine\n");
    const result = await run(["init", "--force"]);
    expect(result.exitCode).toBe(0);
    const written = await readFile(configPath(), "utf8");
    expect(written).not.toContain("# mine");
    expect(written).toContain("id: add-rate-limit");
    expect((await run(["validate"])).exitCode).toBe(0);
  });
});

describe("help and version", () => {
  it("--version prints the version of package.json", async () => {
    const manifest = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"]) {
      const result = await run([flag]);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe(manifest.version);
    }
  });

  it("--help lists the commands and the exit codes", async () => {
    const result = await run(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Usage: conductor");
    expect(result.stdout).toContain(
      "Exit codes: 0 success, 1 work failed, 2 usage or configuration error, 130 interrupted.",
    );
    for (const name of ["init", "validate", "schema", "plan"]) {
      expect(commandNames(result.stdout)).toContain(name);
    }
  });

  it("--help works for every command", async () => {
    const names = commandNames((await run(["--help"])).stdout);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const result = await run([name, "--help"]);
      expect(result.exitCode, `conductor ${name} --help`).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toMatch(new RegExp(`^Usage: conductor ${name}\\b`));
    }
  });

  it("an unknown command is a usage error with exit code 2", async () => {
    const result = await run(["valdiate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown command 'valdiate'");
    expect(result.stderr).toContain("validate");
  });
});

/** Names in the Commands: section of the program's help, without commander's own `help`. */
function commandNames(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? "";
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1] as string)
    .filter((name) => name !== "help");
}
