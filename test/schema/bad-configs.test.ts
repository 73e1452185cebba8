// Every bad configuration in test/fixtures/bad-configs/ must be refused by the real CLI with exit
// code 2, a located message (file:line:col, key path, what is wrong), no stack trace, and without
// writing anything.
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CORPUS_DIR = path.resolve(HERE, "..", "fixtures", "bad-configs");
const EXAMPLE = path.resolve(HERE, "..", "..", "conductor.yaml.example");

/** One problem the CLI must report: where (line:col), at which key path, and a phrase of the message. */
interface Expected {
  at: string;
  /** Empty for problems of the document itself (YAML syntax, empty file, not a map). */
  keyPath: string;
  phrase: string;
}

interface Case {
  /** The rule the fixture breaks, as the test name reads it. */
  rule: string;
  /** Every problem of the file, in the order reported. */
  problems: Expected[];
  /** False when only the first problems are listed (the YAML parser may add follow-up errors). */
  exact?: boolean;
}

const one = (rule: string, at: string, keyPath: string, phrase: string): Case => ({
  rule,
  problems: [{ at, keyPath, phrase }],
});

/** The corpus: fixture file → the rule it breaks and what the CLI must say about it. */
const CORPUS: Record<string, Case> = {
  "unknown-key-top-level.yaml": one(
    "an unknown top-level key, with a did-you-mean",
    "5:1",
    "concurency",
    'unknown key "concurency". Did you mean "concurrency"?',
  ),
  "unknown-key-nested.yaml": one(
    "an unknown nested key, with a did-you-mean",
    "4:3",
    "workspaces.brnach",
    'unknown key "brnach". Did you mean "branch"?',
  ),
  "unknown-key-in-task.yaml": one(
    "an unknown key in a task, with a did-you-mean",
    "6:5",
    "tasks[1].promt",
    'unknown key "promt". Did you mean "prompt"?',
  ),
  "unknown-key-in-task-agent.yaml": one(
    "an unknown key in a task's agent override, with a did-you-mean",
    "6:7",
    "tasks[0].agent.modle",
    'unknown key "modle". Did you mean "model"?',
  ),
  "wrong-type-string-for-number.yaml": one(
    "a string where a number belongs",
    "2:14",
    "concurrency",
    'must be a number, not the string "many"',
  ),
  "wrong-type-list-for-map.yaml": one(
    "a list where a map belongs",
    "3:3",
    "env",
    "must be a map of keys to values, not a list",
  ),
  "wrong-type-task-not-map.yaml": one(
    "a task that is a string instead of a map",
    "5:5",
    "tasks[1]",
    'must be a map of keys to values, not the string "fix-bug"',
  ),
  "wrong-type-boolean.yaml": one(
    "a string where true or false belongs",
    "2:12",
    "fail_fast",
    'must be a boolean, not the string "yes please"',
  ),
  "version-missing.yaml": one("a missing version", "1:1", "version", "is missing; it must be 1"),
  "version-2.yaml": one("version 2", "1:10", "version", "must be 1"),
  "duplicate-task-ids.yaml": one(
    "duplicate task ids",
    "7:9",
    "tasks[2].id",
    'duplicate task id "add-auth" (also tasks[0])',
  ),
  "depends-on-missing-task.yaml": one(
    "depends_on naming a missing task, with a did-you-mean",
    "9:18",
    "tasks[2].depends_on[0]",
    'depends on "add-aut", which is not a task id. Did you mean "add-auth"?',
  ),
  "depends-on-self.yaml": one(
    "a task depending on itself",
    "5:18",
    "tasks[0].depends_on[0]",
    'task "add-auth" cannot depend on itself',
  ),
  "dependency-cycle.yaml": one(
    "a dependency cycle, naming the whole cycle",
    "8:18",
    "tasks[1].depends_on[0]",
    "dependency cycle: api → docs → client → api",
  ),
  "depends-on-multi-workspace-task.yaml": one(
    "depends_on naming a task with several workspaces that picks no winner (select: manual)",
    "9:18",
    "tasks[1].depends_on[0]",
    "a dependency must produce exactly one branch",
  ),
  "prompt-and-prompt-file.yaml": one(
    "both prompt and prompt_file",
    "5:18",
    "tasks[0].prompt_file",
    "set either prompt or prompt_file, not both",
  ),
  "prompt-missing.yaml": one(
    "neither prompt nor prompt_file",
    "3:5",
    "tasks[0]",
    'task "add-auth" needs a prompt',
  ),
  "copy-absolute-path.yaml": one(
    "an absolute copy path",
    "4:7",
    "workspaces.copy[0]",
    '"/etc/passwd" is absolute',
  ),
  "copy-path-escapes.yaml": one(
    "a copy path leaving the repository",
    "5:13",
    "workspaces.copy[1].path",
    '"../other-repo/.env" leaves the repository',
  ),
  "context-path-escapes.yaml": one(
    "a context path leaving the repository",
    "4:7",
    "workspaces.context[0]",
    '"docs/../../secrets.md" leaves the repository',
  ),
  "context-file-missing.yaml": {
    rule: "context files that do not exist, reported with a missing prompt_file",
    problems: [
      {
        at: "4:7",
        keyPath: "workspaces.context[0]",
        phrase:
          '"docs/architecture.md" does not exist; context paths are relative to the repository root',
      },
      {
        at: "5:7",
        keyPath: "workspaces.context[1]",
        phrase: '"docs/adr/*.md" matches no file',
      },
      {
        at: "10:18",
        keyPath: "tasks[1].prompt_file",
        phrase: '"prompts/fix-bug.md" does not exist',
      },
    ],
  },
  "prompt-file-absolute.yaml": one(
    "an absolute prompt_file",
    "4:18",
    "tasks[0].prompt_file",
    "is absolute; write it relative to the repository root",
  ),
  "prompt-file-escapes.yaml": one(
    "a prompt_file leaving the repository",
    "4:18",
    "tasks[0].prompt_file",
    '"../prompts/add-auth.md" leaves the repository',
  ),
  "prompt-file-missing.yaml": one(
    "a prompt_file that does not exist",
    "6:18",
    "tasks[1].prompt_file",
    '"prompts/fix-bug.md" does not exist; prompt_file paths are relative to the repository root',
  ),
  "prompt-file-in-git-dir.yaml": one(
    "a prompt_file inside .git",
    "4:18",
    "tasks[0].prompt_file",
    '".git/HEAD" points into .git',
  ),
  "branch-double-dot.yaml": one(
    "a branch template giving a ref with '..'",
    "3:11",
    "workspaces.branch",
    `gives the branch name "conductor/add-auth..x" for workspace "add-auth", which contains '..'`,
  ),
  "branch-space.yaml": one(
    "a branch template giving a ref with a space",
    "3:11",
    "workspaces.branch",
    'gives the branch name "a b" for workspace "add-auth", which contains " "',
  ),
  "branch-ends-with-lock.yaml": one(
    "a branch template giving a ref ending with .lock",
    "3:11",
    "workspaces.branch",
    "ending with '.lock'",
  ),
  "branch-head.yaml": one(
    "a branch template giving the ref HEAD",
    "3:11",
    "workspaces.branch",
    `gives the branch name "HEAD"`,
  ),
  "branch-collision.yaml": one(
    "a branch template giving two workspaces the same branch",
    "3:11",
    "workspaces.branch",
    'gives the same branch "conductor/attempt-1" to workspaces "add-auth" and "fix-bug"',
  ),
  "workspace-name-collision.yaml": one(
    "a task id colliding with another task's attempt name",
    "5:9",
    "tasks[1].id",
    'workspace name "add-auth-2" is also a workspace of task "add-auth-2"',
  ),
  "budget-zero-tokens.yaml": {
    rule: "a token budget of 0, written as 0k or 0",
    problems: [
      { at: "3:11", keyPath: "budget.tokens", phrase: "must be at least 1 token" },
      { at: "7:23", keyPath: "tasks[0].budget.tokens", phrase: "must be at least 1 token" },
    ],
  },
  "cost-budget-without-price.yaml": one(
    "a cost budget without the price of the model in use",
    "3:9",
    "budget.cost",
    'model "gpt-5-codex" (used by task "fix-dates") has no price: add prices: { gpt-5-codex: { input:',
  ),
  "command-agent-without-command.yaml": one(
    "the command agent without its command",
    "5:5",
    "tasks[0]",
    "uses agent kind command but no agent.command is set",
  ),
  "placeholder-unknown.yaml": one(
    "an unknown placeholder {{foo}}",
    "3:11",
    "workspaces.branch",
    "unknown placeholder {{foo}}; use {{task}}, {{attempt}}, {{run}} or {{matrix.KEY}}",
  ),
  "placeholder-unknown-matrix-key.yaml": one(
    "a placeholder naming a matrix key the task does not have",
    "4:13",
    "tasks[0].prompt",
    "{{matrix.nope}} names no key of this task's matrix (keys: model)",
  ),
  "tasks-empty.yaml": one("an empty task list", "2:8", "tasks", "must list at least one task"),
  "task-id-invalid.yaml": one(
    "a task id with capitals and punctuation",
    "3:9",
    "tasks[0].id",
    "must be lowercase letters and digits",
  ),
  "enum-typo.yaml": one(
    "a misspelt agent kind, with a did-you-mean",
    "3:9",
    "agent.kind",
    'must be one of codex, claude, command, not the string "codx". Did you mean "codex"?',
  ),
  "duration-bad.yaml": one(
    "a duration written in words",
    "3:12",
    "agent.timeout",
    "must be a duration such as 90s, 30m, 2h or 1h30m",
  ),
  "duration-bare-number.yaml": one(
    "a duration written as a bare number: it names the unit it lacks",
    "3:12",
    "agent.timeout",
    "must be a duration with a unit, not the number 5: write 5m (minutes) or 5s (seconds), e.g. 300s or 1h30m (units: ms, s, m, h)",
  ),
  "duration-negative-number.yaml": one(
    "a negative number as a duration: no unit would make it one",
    "3:12",
    "agent.timeout",
    "must be a duration such as 90s, 30m, 2h or 1h30m",
  ),
  "env-name-reserved.yaml": one(
    "an env name starting with CONDUCTOR_",
    "4:3",
    "env.CONDUCTOR_PORT",
    "not starting with a digit or CONDUCTOR_ (reserved)",
  ),
  "matrix-empty-list.yaml": one(
    "a matrix key with an empty list",
    "6:14",
    "tasks[0].matrix.model",
    "must list at least one value",
  ),
  "attempts-zero.yaml": one("attempts: 0", "5:15", "tasks[0].attempts", "must be at least 1"),
  "yaml-bad-indentation.yaml": {
    rule: "a YAML syntax error: bad indentation",
    problems: [{ at: "3:9", keyPath: "", phrase: "YAML syntax error" }],
    exact: false,
  },
  "yaml-unclosed-flow-sequence.yaml": {
    rule: "a YAML syntax error: an unclosed flow sequence",
    problems: [{ at: "6:3", keyPath: "", phrase: "YAML syntax error: Flow sequence" }],
    exact: false,
  },
  "yaml-duplicate-key.yaml": one(
    "a YAML syntax error: a duplicate key",
    "5:5",
    "",
    "YAML syntax error: a key appears twice in the same map; keep one",
  ),
  "yaml-multiple-documents.yaml": one(
    "a second YAML document after a ---",
    "5:1",
    "",
    "holds more than one YAML document: a second one starts at this `---`; keep one document",
  ),
  "yaml-tab-indentation.yaml": {
    rule: "a YAML syntax error: tab indentation",
    problems: [
      { at: "3:1", keyPath: "", phrase: "tabs are not allowed for indentation; use spaces" },
      { at: "4:1", keyPath: "", phrase: "tabs are not allowed for indentation; use spaces" },
    ],
  },
  // The command carries the -c of the invocation (test/lifecycle/rerun-hints.test.ts pastes it).
  "empty.yaml": one(
    "an empty file",
    "1:1",
    "",
    "empty.yaml init --force` (it writes a starter file in its place)",
  ),
  "list-not-map.yaml": one(
    "a file that is a list",
    "1:1",
    "",
    "must be a map of settings (version: 1, tasks: ...), but it is a list",
  ),
  "scalar.yaml": one("a file that is a scalar", "1:1", "", "but it is a string"),
  "binary-garbage.yaml": one(
    "binary garbage",
    "1:1",
    "",
    "is not a UTF-8 text file (found a binary byte)",
  ),
  "several-schema-errors.yaml": {
    rule: "several schema errors at once, all reported",
    problems: [
      { at: "2:14", keyPath: "concurrency", phrase: "must be at least 1" },
      { at: "4:10", keyPath: "workspaces.ports", phrase: 'must be a number, not the string "ten"' },
      { at: "8:15", keyPath: "tasks[0].attempts", phrase: "must be at least 1" },
      { at: "9:14", keyPath: "tasks[0].timeout", phrase: "must be a duration" },
      { at: "12:5", keyPath: "tasks[1].sandbox", phrase: 'unknown key "sandbox"' },
    ],
  },
  "several-rule-errors.yaml": {
    rule: "several cross-field errors at once, all reported",
    problems: [
      { at: "4:7", keyPath: "workspaces.copy[0]", phrase: '"/etc/hosts" is absolute' },
      {
        at: "8:18",
        keyPath: "tasks[0].depends_on[0]",
        phrase: 'depends on "nothing-here", which is not a task id',
      },
      { at: "9:9", keyPath: "tasks[1].id", phrase: 'duplicate task id "add-auth"' },
      { at: "12:13", keyPath: "tasks[2].prompt", phrase: "unknown placeholder {{bug}}" },
      { at: "13:18", keyPath: "tasks[2].prompt_file", phrase: "not both" },
    ],
  },
  "several-schema-and-rule-errors.yaml": {
    rule: "schema and cross-field errors together, all reported in one run",
    problems: [
      { at: "2:10", keyPath: "retries", phrase: "must be 0 or more" },
      { at: "5:5", keyPath: "tasks[0].promt", phrase: 'Did you mean "prompt"?' },
      {
        at: "8:28",
        keyPath: "tasks[1].depends_on[1]",
        phrase: 'depends on "auth-dcos", which is not a task id. Did you mean "auth-docs"?',
      },
      { at: "9:9", keyPath: "tasks[2].id", phrase: 'duplicate task id "add-auth"' },
      { at: "11:15", keyPath: "tasks[2].attempts", phrase: "must be at least 1" },
    ],
  },
};

const STACK_TRACE = /\n\s+at /;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts a refusal: exit 2, nothing on stdout, every expected located problem, no stack trace. */
function expectRefusal(result: CliResult, shownAs: string, testCase: Case): void {
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/:\d+:\d+:/);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr).not.toContain("internal error");
  const reported = result.stderr.split("\n").filter((line) => /^ {2}\S/.test(line));
  testCase.problems.forEach((problem, index) => {
    const key = problem.keyPath === "" ? "" : `${problem.keyPath}: `;
    const line = new RegExp(
      `^ {2}${escapeRegExp(`${shownAs}:${problem.at}: ${key}`)}.*${escapeRegExp(problem.phrase)}`,
    );
    expect(reported[index], `problem ${index + 1} of:\n${result.stderr}`).toMatch(line);
  });
  if (testCase.exact !== false) {
    const count = testCase.problems.length;
    expect(result.stderr).toContain(`has ${count} problem${count === 1 ? "" : "s"}:`);
    expect(reported).toHaveLength(count);
  }
}

let repo: TestRepo;

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

beforeAll(async () => {
  repo = await createTestRepo();
});

afterAll(async () => {
  await repo.remove();
});

// Nothing is written anywhere: not in the repository, not under the (private) home directory.
afterEach(async () => {
  expect(await repo.git("status", "--porcelain", "--ignored")).toBe("");
  expect(existsSync(path.join(repo.root, ".conductor"))).toBe(false);
  expect(await listTree(repo.home)).toEqual([]);
});

describe("the bad-config corpus", () => {
  it("has at least 30 fixtures, each described in the table", () => {
    const files = readdirSync(CORPUS_DIR).sort();
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files).toEqual(Object.keys(CORPUS).sort());
  });

  it.each(Object.entries(CORPUS))("refuses %s", async (fixture, testCase) => {
    const file = path.join(CORPUS_DIR, fixture);
    const result = await conductor(["validate", "-c", file], { cwd: repo.root, home: repo.home });
    // The fixture lies outside the current folder, so messages name it by its absolute path.
    expectRefusal(result, file, testCase);
  });
});

describe("validate", () => {
  it("refuses a 5 MB file at its first line without reading it as YAML", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "conductor-big-"));
    try {
      const file = path.join(dir, "conductor.yaml");
      const task = (index: number) => `  - id: task-${index}\n    prompt: "${"x".repeat(200)}"\n`;
      const chunks = ["version: 1\ntasks:\n"];
      let size = chunks[0]?.length ?? 0;
      for (let index = 0; size < 5 * 1024 * 1024; index++) {
        chunks.push(task(index));
        size += chunks[chunks.length - 1]?.length ?? 0;
      }
      await writeFile(file, chunks.join(""));
      const result = await conductor(["validate", "-c", file], { cwd: repo.root, home: repo.home });
      expectRefusal(result, file, {
        rule: "a 5 MB file",
        problems: [{ at: "1:1", keyPath: "", phrase: "a configuration file may be at most 4 MiB" }],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("finds conductor.yaml at the repository root and names it relative to the current folder", async () => {
    const fixture = "dependency-cycle.yaml";
    // A repository of its own, so that the config file does not dirty the shared one.
    const other = await createTestRepo({ "src/app/index.ts": "export {};\n" });
    try {
      await copyFile(path.join(CORPUS_DIR, fixture), path.join(other.root, "conductor.yaml"));
      const atRoot = await conductor(["validate"], { cwd: other.root, home: other.home });
      expectRefusal(atRoot, "conductor.yaml", CORPUS[fixture] as Case);
      const below = await conductor(["validate"], {
        cwd: path.join(other.root, "src", "app"),
        home: other.home,
      });
      expectRefusal(below, path.join(other.root, "conductor.yaml"), CORPUS[fixture] as Case);
    } finally {
      await other.remove();
    }
  });

  it("accepts conductor.yaml.example: 3 tasks, 4 workspaces", async () => {
    // The example's imagined web app has the context file it names.
    const project = await createTestRepo({
      "README.md": "# webapp\n",
      "docs/architecture.md": "# Architecture\n",
    });
    try {
      await copyFile(EXAMPLE, path.join(project.root, "conductor.yaml.example"));
      await project.commitAll("add the example config");
      const result = await conductor(["validate", "-c", "conductor.yaml.example"], {
        cwd: project.root,
        home: project.home,
      });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(
        /^conductor\.yaml\.example is valid: 3 tasks, 4 workspaces \(plan [0-9a-f]{12}\)$/,
      );
      expect(await project.git("status", "--porcelain", "--ignored")).toBe("");
      expect(await listTree(project.home)).toEqual([]);
    } finally {
      await project.remove();
    }
  });
});
