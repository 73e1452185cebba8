// Reading the Conductor app's settings files of a repository: which file wins, what is ignored,
// and how a broken file is reported (file:line:col, exit code 2 at the CLI).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { readRepoSettings } from "../../src/schema/repo-settings.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "conductor-settings-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
}

async function problemsOf(): Promise<string[]> {
  try {
    await readRepoSettings(root);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.issues.map(
        (issue) => `${issue.file}:${issue.line ?? "-"}:${issue.keyPath}: ${issue.message}`,
      );
    throw error;
  }
  throw new Error("expected the settings to be refused");
}

const SHARED = `"$schema" = "https://conductor.build/schemas/settings.repo.schema.json"
enterprise_data_privacy = true
file_include_globs = """
.env.local
config/local.json
"""

[scripts]
setup = "npm install"
run = "npm run dev -- --port $CONDUCTOR_PORT"
archive = ""
run_mode = "nonconcurrent"
`;

describe("repository settings", () => {
  it("a repository without settings files has none", async () => {
    expect(await readRepoSettings(root)).toEqual({ files: [] });
  });

  it("reads [scripts], run_mode and file_include_globs from .conductor/settings.toml, ignoring the app's other keys", async () => {
    await write({ ".conductor/settings.toml": SHARED });
    const file = ".conductor/settings.toml";
    expect(await readRepoSettings(root)).toEqual({
      setup: { value: "npm install", file },
      run: { value: "npm run dev -- --port $CONDUCTOR_PORT", file },
      runMode: { value: "nonconcurrent", file },
      copy: { value: [".env.local", "config/local.json"], file },
      files: [file],
    });
  });

  it("settings.local.toml wins over settings.toml, key by key", async () => {
    await write({
      ".conductor/settings.toml": SHARED,
      ".conductor/settings.local.toml": '[scripts]\nrun = "npm run dev:local"\n',
    });
    const settings = await readRepoSettings(root);
    expect(settings.run).toEqual({
      value: "npm run dev:local",
      file: ".conductor/settings.local.toml",
    });
    expect(settings.setup).toEqual({ value: "npm install", file: ".conductor/settings.toml" });
    expect(settings.files).toEqual([".conductor/settings.toml", ".conductor/settings.local.toml"]);
  });

  it("reads the older conductor.json when there is no settings.toml", async () => {
    await write({
      "conductor.json": JSON.stringify({
        scripts: { setup: "pnpm install", run: "pnpm dev", archive: "./archive.sh" },
        runScriptMode: "concurrent",
      }),
    });
    expect(await readRepoSettings(root)).toEqual({
      setup: { value: "pnpm install", file: "conductor.json" },
      run: { value: "pnpm dev", file: "conductor.json" },
      archive: { value: "./archive.sh", file: "conductor.json" },
      runMode: { value: "concurrent", file: "conductor.json" },
      files: ["conductor.json"],
    });
  });

  it("ignores conductor.json once settings.toml exists, as the app does", async () => {
    await write({
      "conductor.json": JSON.stringify({ scripts: { setup: "old", archive: "./old.sh" } }),
      ".conductor/settings.toml": '[scripts]\nsetup = "new"\n',
    });
    const settings = await readRepoSettings(root);
    expect(settings.setup?.value).toBe("new");
    expect(settings.archive).toBeUndefined();
    expect(settings.files).toEqual([".conductor/settings.toml"]);
  });

  it(".worktreeinclude wins over file_include_globs; comments, blank lines and a leading / are dropped", async () => {
    await write({
      ".conductor/settings.toml": SHARED,
      ".worktreeinclude": "# local files\n.env.development.local\n\n/certs/local/**\n",
    });
    expect((await readRepoSettings(root)).copy).toEqual({
      value: [".env.development.local", "certs/local/**"],
      file: ".worktreeinclude",
    });
  });

  it("a .worktreeinclude without settings.toml still gives the files to copy", async () => {
    await write({ ".worktreeinclude": ".env\n" });
    expect(await readRepoSettings(root)).toEqual({
      copy: { value: [".env"], file: ".worktreeinclude" },
      files: [".worktreeinclude"],
    });
  });

  it("reports a TOML syntax error with its line and column", async () => {
    await write({ ".conductor/settings.toml": '[scripts]\nsetup = "npm install\n' });
    const [problem, ...rest] = await problemsOf();
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^\.conductor\/settings\.toml:2:: TOML syntax error: control characters/,
    );
  });

  it("reports every wrong value of every file at once, naming its key", async () => {
    await write({
      ".conductor/settings.toml": '[scripts]\nsetup = 5\nrun_mode = "sometimes"\n',
      ".conductor/settings.local.toml": "file_include_globs = [1]\n",
      ".worktreeinclude": ".env\n../outside\n!.env.keep\n",
    });
    expect(await problemsOf()).toEqual([
      ".conductor/settings.toml:-:scripts.setup: must be a string (a shell command)",
      '.conductor/settings.toml:-:scripts.run_mode: must be "concurrent" or "nonconcurrent"',
      '.conductor/settings.local.toml:-:file_include_globs: must be a string with one glob per line ("""…""")',
      '.worktreeinclude:2:: "../outside" leaves the repository (..); paths must stay inside it',
      '.worktreeinclude:3:: "!.env.keep": negated patterns are not supported; list only what to copy',
    ]);
  });

  it("reports a conductor.json that is not JSON", async () => {
    await write({ "conductor.json": "{ scripts: " });
    const [problem] = await problemsOf();
    expect(problem).toMatch(/^conductor\.json:-:: is not valid JSON: /);
  });
});
