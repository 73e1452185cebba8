// Fuzzing the config loader: random mutations of valid configs either load, or fail with a
// ConfigError whose every issue is located (file, line, column, key path, message). Never a
// crash, a hang or a stack trace; the CLI exits 0 or 2 and writes nothing.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { buildPlan, PlanError } from "../../src/planner/plan.js";
import { parseConfig } from "../../src/schema/load.js";
import { conductor } from "../helpers/cli.js";
import { createTestRepo, type TestRepo } from "../helpers/git-repo.js";
import { FACTS } from "../helpers/planning.js";
import { hasStackTrace, Random, SEED, seedFor, treeSnapshot } from "./rig.js";

const CASES = Number(process.env.RELIABILITY_FUZZ_CASES ?? 10_000);
const CLI_CASES = Number(process.env.RELIABILITY_FUZZ_CLI_CASES ?? 200);
/** Longest one parse may take: a mutation must never make the loader hang (alias bombs…). */
const MAX_PARSE_MS = 5000;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Valid configurations the mutations start from: the documented example plus small ones. */
const SEEDS: readonly string[] = [
  readFileSync(path.join(ROOT, "conductor.yaml.example"), "utf8"),
  `version: 1
tasks:
  - id: one
    prompt: Do one thing.
`,
  `version: 1
base: main
concurrency: 2
retries: 1
fail_fast: true
env:
  NODE_ENV: test
  PORT_OFFSET: 3
workspaces:
  branch: "work/{{task}}-{{attempt}}"
  ports: 5
  copy:
    - .env.local
    - path: certs/*.pem
      mode: symlink
  context: [docs/notes.md]
agent:
  kind: command
  command: ./do-it.sh
  timeout: 90s
scripts:
  setup: npm ci
  check: npm test
  timeout: 1h30m
tasks:
  - id: base-task
    prompt: "Base {{task}} for run {{run}}"
  - id: matrix-task
    depends_on: [base-task]
    attempts: 2
    matrix:
      model: [o4-mini, o3]
      size: [1, 2]
    prompt: "Try {{matrix.model}} at {{matrix.size}}"
    env:
      MODEL: "{{matrix.model}}"
    scripts:
      setup: null
  - id: from-file
    prompt_file: prompts/from-file.md
    agent:
      kind: codex
      model: gpt-5.1-codex
      sandbox: read-only
      args: ["--verbose"]
      config:
        model_reasoning_effort: low
`,
  `# flow style and anchors
version: 1
agent: &agent {kind: command, command: "echo"}
tasks: [{id: a, prompt: "x", agent: *agent}, {id: b, prompt: 'y', depends_on: [a]}]
`,
];

/** Scalars that stress types and sizes when put in place of a value. */
const SCALARS: readonly string[] = [
  "0",
  "-1",
  "1.5",
  "1e309",
  "-1e309",
  "99999999999999999999999999999999",
  "0x7fffffff",
  "0o777",
  ".inf",
  "-.inf",
  ".nan",
  "true",
  "no",
  "~",
  "null",
  "''",
  '""',
  "[]",
  "{}",
  "[1, [2, [3]]]",
  "{a: {b: {c: d}}}",
  "2024-02-30",
  "2001-12-14t21:59:43.10-05:00",
  "!!binary aGVsbG8=",
  "!!set {a, b}",
  "!!omap [a: 1]",
  "!!js/function 'function(){}'",
  "!custom thing",
  "!!str 12",
  "!!int abc",
  "!!float x",
  "|\n    block\n    text",
  ">-\n    folded",
  '"\\u0000\\x07\\ud800"',
  '"{{task}}{{attempt}}{{nope}}{{matrix.}}"',
  "*undefined_alias",
  "&anchor value",
  "'unterminated",
  '"unterminated',
  "[unclosed",
  "{unclosed: 1",
  "@reserved",
  "`backtick",
  "%directive",
  "- - - -",
  "? complex key",
  "<<: *d",
];

/** Unicode that breaks naive code: BOM, RTL, combining marks, astral, zero-width, lone surrogates. */
const UNICODE: readonly string[] = [
  "\uFEFF",
  "\u202E",
  "e\u0301",
  "😀",
  "\u200B",
  "\u2028",
  "\u2029",
  "\uD800",
  "\uDFFF",
  "\u0085",
  "ǅ",
  "İ",
  "𝔘𝔫𝔦",
  "\uFFFE",
  "\uFFFD",
];

type Mutation = (text: string, random: Random) => string;

const lines = (text: string) => text.split("\n");
const randomLine = (all: string[], random: Random) => random.int(0, Math.max(0, all.length - 1));

/** Inserts `insert` at a random offset of `text`. */
function insertAt(text: string, insert: string, random: Random): string {
  const at = random.int(0, text.length);
  return text.slice(0, at) + insert + text.slice(at);
}

function randomBytesAsLatin1(random: Random, count: number): string {
  let out = "";
  for (let index = 0; index < count; index++) out += String.fromCharCode(random.int(0, 255));
  return out;
}

function deepNesting(random: Random): string {
  const depth = random.pick([50, 200, 1000, 5000]);
  return random.chance(0.5)
    ? `${"[".repeat(depth)}x${"]".repeat(depth)}`
    : `${"{a: ".repeat(depth)}x${"}".repeat(depth)}`;
}

/** A "billion laughs" chain of aliases; the loader must refuse it quickly, not expand it. */
function aliasBomb(random: Random): string {
  const levels = random.int(3, 9);
  const out = ["bomb0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let level = 1; level <= levels; level++) {
    const previous = Array.from({ length: 9 }, () => `*b${level - 1}`).join(", ");
    out.push(`bomb${level}: &b${level} [${previous}]`);
  }
  return out.join("\n");
}

const MUTATIONS: readonly [string, Mutation][] = [
  [
    "delete a line",
    (text, random) => {
      const all = lines(text);
      all.splice(randomLine(all, random), 1);
      return all.join("\n");
    },
  ],
  [
    "duplicate a line",
    (text, random) => {
      const all = lines(text);
      const index = randomLine(all, random);
      all.splice(index, 0, all[index] ?? "");
      return all.join("\n");
    },
  ],
  [
    "swap two lines",
    (text, random) => {
      const all = lines(text);
      const a = randomLine(all, random);
      const b = randomLine(all, random);
      [all[a], all[b]] = [all[b] ?? "", all[a] ?? ""];
      return all.join("\n");
    },
  ],
  [
    "change indentation",
    (text, random) => {
      const all = lines(text);
      const index = randomLine(all, random);
      const line = all[index] ?? "";
      const indent = random.pick(["", " ", "  ", "   ", "      ", "\t", " \t", "          "]);
      all[index] = random.chance(0.5) ? indent + line.trimStart() : indent + line;
      return all.join("\n");
    },
  ],
  [
    "insert random bytes",
    (text, random) => insertAt(text, randomBytesAsLatin1(random, random.int(1, 8)), random),
  ],
  [
    "insert control characters",
    (text, random) =>
      insertAt(text, String.fromCharCode(random.pick([0, 1, 7, 8, 11, 12, 13, 27, 127])), random),
  ],
  ["insert unicode", (text, random) => insertAt(text, random.pick(UNICODE), random)],
  [
    "replace a value",
    (text, random) => {
      const all = lines(text);
      const index = randomLine(all, random);
      const line = all[index] ?? "";
      const colon = line.indexOf(": ");
      const scalar = random.pick(SCALARS);
      all[index] = colon === -1 ? `${line} ${scalar}` : `${line.slice(0, colon + 2)}${scalar}`;
      return all.join("\n");
    },
  ],
  [
    "huge number",
    (text, random) =>
      text.replace(
        /\b\d+\b/,
        random.pick(["1".repeat(400), "9e99999", "-0", "0.0000000000000000000001"]),
      ),
  ],
  [
    "deep nesting",
    (text, random) => {
      const all = lines(text);
      const index = randomLine(all, random);
      const line = all[index] ?? "";
      const colon = line.indexOf(": ");
      all[index] =
        colon === -1
          ? `nest: ${deepNesting(random)}`
          : `${line.slice(0, colon + 2)}${deepNesting(random)}`;
      return all.join("\n");
    },
  ],
  [
    "aliases",
    (text, random) =>
      random.chance(0.5)
        ? `${aliasBomb(random)}\n${text}`
        : text.replace(/^(\s*prompt: )(.*)$/m, "$1*nowhere"),
  ],
  [
    "anchor and merge",
    (text, random) => {
      const all = lines(text);
      all.splice(
        randomLine(all, random),
        0,
        random.pick(["base: &x {id: z, prompt: q}", "  <<: *x", "<<: {version: 2}", "&a", "*a"]),
      );
      return all.join("\n");
    },
  ],
  ["truncate", (text, random) => text.slice(0, random.int(0, text.length))],
  ["long line", (text, random) => insertAt(text, "x".repeat(random.pick([1000, 100_000])), random)],
  [
    "second document",
    (text, random) => (random.chance(0.5) ? `${text}\n---\n${text}` : `---\n${text}\n...\n`),
  ],
  [
    "duplicate key",
    (text, random) => {
      const all = lines(text);
      const keyed = all.filter((line) => /^\s*[a-z_]+:/.test(line));
      all.splice(
        randomLine(all, random),
        0,
        random.pick(keyed.length > 0 ? keyed : ["version: 1"]),
      );
      return all.join("\n");
    },
  ],
  ["windows line ends", (text) => text.replaceAll("\n", "\r\n")],
  [
    "prototype keys",
    (text, random) => {
      const all = lines(text);
      const index = randomLine(all, random);
      const indent = /^\s*(- )?/.exec(all[index] ?? "")?.[0].replace("-", " ") ?? "";
      const key = random.pick([
        "__proto__",
        "constructor",
        "prototype",
        "toString",
        "hasOwnProperty",
      ]);
      all.splice(
        index,
        0,
        `${indent}${key}: ${random.pick(["{polluted: true}", "1", "[x]", "null"])}`,
      );
      return all.join("\n");
    },
  ],
  ["empty", () => ""],
];

/** A mutated config: 1 to 4 mutations of one seed, named so a failure can be read and replayed. */
function mutatedCase(index: number): { text: string; bytes: Uint8Array; applied: string[] } {
  const random = new Random(seedFor(`fuzz:${index}`));
  let text = random.pick(SEEDS);
  const applied: string[] = [];
  const count = random.int(1, 4);
  for (let step = 0; step < count; step++) {
    const [name, mutate] = random.pick(MUTATIONS);
    text = mutate(text, random);
    applied.push(name);
  }
  // "insert random bytes" means raw bytes: latin1 keeps them as they are (invalid UTF-8 included).
  const raw = applied.includes("insert random bytes") && random.chance(0.5);
  const bytes = raw ? Uint8Array.from(Buffer.from(text, "latin1")) : new TextEncoder().encode(text);
  return { text, bytes, applied };
}

type Outcome = "refused" | "planned" | "plan-refused";

/** Parses (and plans, when it loads) one case; throws with the case's story if anything is off. */
function check(index: number): Outcome {
  const { bytes, applied } = mutatedCase(index);
  const story = `case ${index} (seed ${SEED}; ${applied.join(", ")})`;
  const started = performance.now();
  let loaded: ReturnType<typeof parseConfig>;
  try {
    loaded = parseConfig(bytes, "conductor.yaml");
  } catch (error) {
    const took = performance.now() - started;
    if (took > MAX_PARSE_MS) throw new Error(`${story}: refusing took ${Math.round(took)} ms`);
    if (!(error instanceof ConfigError)) {
      throw new Error(
        `${story}: threw ${(error as Error)?.name}: ${(error as Error)?.message}\n${(error as Error)?.stack}`,
      );
    }
    if (error.issues.length === 0) throw new Error(`${story}: ConfigError without issues`);
    for (const issue of error.issues) {
      const problems: string[] = [];
      if (issue.file !== "conductor.yaml") problems.push("file");
      if (!Number.isInteger(issue.line) || (issue.line as number) < 1) problems.push("line");
      if (!Number.isInteger(issue.column) || (issue.column as number) < 1) problems.push("column");
      if (typeof issue.keyPath !== "string") problems.push("keyPath");
      if (typeof issue.message !== "string" || issue.message.trim() === "")
        problems.push("message");
      if (/\[object Object\]/.test(issue.message)) problems.push("message shows [object Object]");
      if (problems.length > 0) {
        throw new Error(`${story}: issue without ${problems.join(", ")}: ${JSON.stringify(issue)}`);
      }
    }
    return "refused";
  }
  const took = performance.now() - started;
  if (took > MAX_PARSE_MS) throw new Error(`${story}: loading took ${Math.round(took)} ms`);
  // A config that loads must also plan, or be refused by the planner with located problems.
  const promptFiles = Object.fromEntries(
    loaded.config.tasks.flatMap((task) =>
      task.prompt.kind === "file" ? [[task.prompt.path, "from a file"]] : [],
    ),
  );
  try {
    buildPlan({ config: loaded.config, facts: FACTS, promptFiles });
    return "planned";
  } catch (error) {
    if (!(error instanceof PlanError)) {
      throw new Error(
        `${story}: planning threw ${(error as Error)?.name}: ${(error as Error)?.message}`,
      );
    }
    const issues = loaded.toConfigIssues(error.problems);
    for (const issue of issues) {
      if (
        !Number.isInteger(issue.line) ||
        !Number.isInteger(issue.column) ||
        issue.message === ""
      ) {
        throw new Error(`${story}: plan problem without a place: ${JSON.stringify(issue)}`);
      }
    }
    return "plan-refused";
  }
}

describe(`the config loader under ${CASES} random mutations (seed ${SEED})`, () => {
  it("every seed config is valid to begin with", () => {
    for (const seed of SEEDS)
      expect(() => parseConfig(new TextEncoder().encode(seed), "conductor.yaml")).not.toThrow();
  });

  it("returns a config or throws a ConfigError whose every issue has file, line, column, key path and message", () => {
    const outcomes: Record<Outcome, number> = {
      refused: 0,
      planned: 0,
      "plan-refused": 0,
    };
    const failures: string[] = [];
    for (let index = 0; index < CASES; index++) {
      try {
        outcomes[check(index)]++;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    console.log(`config fuzz (seed ${SEED}): ${JSON.stringify(outcomes)}, ${failures.length} bad`);
    expect(
      ({} as Record<string, unknown>).polluted,
      "Object.prototype was polluted",
    ).toBeUndefined();
    expect(failures.slice(0, 10), `${failures.length} of ${CASES} cases went wrong`).toEqual([]);
    // The mutations must not all be trivially fatal: some cases still load.
    expect(outcomes.planned + outcomes["plan-refused"]).toBeGreaterThan(CASES / 50);
  });
});

describe(`conductor validate on ${CLI_CASES} of the mutated configs`, () => {
  let repo: TestRepo;
  beforeAll(async () => {
    // The files the seed configs name (prompt and context files) exist, as in the user's repository.
    repo = await createTestRepo({
      "README.md": "# fuzz\n",
      "prompts/from-file.md": "Do it.\n",
      "docs/notes.md": "Notes.\n",
      "docs/architecture.md": "# Architecture\n",
    });
  });
  afterAll(async () => {
    await repo?.remove();
  });

  it("exits 0 or 2, prints no stack trace, and writes nothing", async () => {
    const cases = path.join(repo.root, "cases");
    mkdirSync(cases);
    const snapshot = () => ({
      repo: treeSnapshot(repo.root, ["cases"]),
      home: treeSnapshot(repo.home),
    });
    const before = snapshot();
    const failures: string[] = [];
    const counts: Record<number, number> = {};
    // Spread over the whole range of in-process cases, a few processes at a time.
    const samples = Array.from({ length: CLI_CASES }, (_, sample) =>
      Math.floor((sample * CASES) / CLI_CASES),
    );
    const worker = async () => {
      for (let index = samples.shift(); index !== undefined; index = samples.shift()) {
        const { bytes, applied } = mutatedCase(index);
        const name = `cases/case-${index}.yaml`;
        writeFileSync(path.join(repo.root, name), bytes);
        const result = await conductor(["validate", "-c", name], {
          cwd: repo.root,
          home: repo.home,
        });
        counts[result.exitCode] = (counts[result.exitCode] ?? 0) + 1;
        const story = `case ${index} (seed ${SEED}; ${applied.join(", ")}): exit ${result.exitCode}`;
        if (result.exitCode !== 0 && result.exitCode !== 2)
          failures.push(`${story}\n${result.all}`);
        else if (hasStackTrace(result.all) || /internal error/.test(result.all)) {
          failures.push(`${story}\n${result.all}`);
        } else if (result.exitCode === 2 && !result.stderr.includes(`${name}:`)) {
          failures.push(`${story}: the error does not name the file and place\n${result.all}`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(failures.slice(0, 5), `${failures.length} of ${CLI_CASES} went wrong`).toEqual([]);
    expect(snapshot()).toEqual(before);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[2]).toBeGreaterThan(0);
  });
});
