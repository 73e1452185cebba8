// workspaces.seed as written: both forms normalize to one shape; bad paths, overlapping folders
// and unknown modes are refused at their place.
import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigIssue } from "../../src/errors.js";
import { parseConfig } from "../../src/schema/load.js";

const head = "version: 1\ntasks:\n  - id: one\n    prompt: go\nworkspaces:\n  seed:\n";

function issuesOf(seed: string): Pick<ConfigIssue, "line" | "keyPath" | "message">[] {
  try {
    parseConfig(new TextEncoder().encode(head + seed), "conductor.yaml");
  } catch (error) {
    if (error instanceof ConfigError)
      return error.issues.map(({ line, keyPath, message }) => ({ line, keyPath, message }));
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("workspaces.seed", () => {
  it("reads the list form and the object form into the same shape, mode clone by default", () => {
    const listed = parseConfig(new TextEncoder().encode(`${head}    - node_modules/\n`), "c.yaml");
    expect(listed.config.workspaces.seed).toEqual({
      folders: [{ path: "node_modules", mode: "clone" }],
      key: undefined,
      script: undefined,
    });
    const full = parseConfig(
      new TextEncoder().encode(
        `${head}    folders: [node_modules, {path: .venv, mode: hardlink}]\n    key: [uv.lock]\n    script: uv sync\n`,
      ),
      "c.yaml",
    );
    expect(full.config.workspaces.seed).toEqual({
      folders: [
        { path: "node_modules", mode: "clone" },
        { path: ".venv", mode: "hardlink" },
      ],
      key: ["uv.lock"],
      script: "uv sync",
    });
  });

  it("refuses folders and key files outside the repository, and folders inside one another", () => {
    expect(
      issuesOf(
        "    folders: [../shared, node_modules, node_modules/.cache, .git/x]\n    key: [/etc/passwd]\n",
      ),
    ).toEqual([
      {
        line: 7,
        keyPath: "workspaces.seed.folders[0]",
        message: '"../shared" leaves the repository (..); paths must stay inside it',
      },
      {
        line: 7,
        keyPath: "workspaces.seed.folders[2]",
        message:
          '"node_modules/.cache" overlaps folder 2 ("node_modules"); list folders that do not contain each other',
      },
      { line: 7, keyPath: "workspaces.seed.folders[3]", message: '".git/x" points into .git' },
      {
        line: 8,
        keyPath: "workspaces.seed.key[0]",
        message: '"/etc/passwd" is absolute; write it relative to the repository root',
      },
    ]);
  });

  it("names the modes when one is unknown", () => {
    const [issue] = issuesOf("    - {path: node_modules, mode: reflink}\n");
    expect(issue?.keyPath).toBe("workspaces.seed[0].mode");
    expect(issue?.message).toContain("clone, hardlink, symlink, copy");
  });
});
