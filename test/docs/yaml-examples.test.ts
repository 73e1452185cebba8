// Every YAML example a reader may copy (README.md, docs/, conductor.yaml.example, examples/) is a
// valid conductor config, or is recognized as something else: by its content (a GitHub Actions
// workflow) or by the explicit fence marker ```yaml not-a-config. Nothing is skipped silently.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, type ConfigIssue } from "../../src/errors.js";
import { buildPlan, PlanError } from "../../src/planner/plan.js";
import { startKey } from "../../src/planner/types.js";
import { parseConfig } from "../../src/schema/load.js";
import { FACTS } from "../helpers/planning.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The fence marker that says a YAML block is deliberately not a conductor config. */
const NOT_A_CONFIG = "not-a-config";

/** One YAML text a reader may copy: a fenced block of a Markdown file, or a whole YAML file. */
interface Example {
  /** Where it is, e.g. `README.md:27` (the line of the opening fence). */
  where: string;
  text: string;
  /** The words after the language on the opening fence (empty for whole files). */
  marks: string[];
}

/** A fenced block of any language, for the check that config-like blocks are tagged yaml. */
interface Fence {
  where: string;
  language: string;
  marks: string[];
  text: string;
}

function fencedBlocksOf(file: string): Fence[] {
  return fencedBlocks(path.relative(ROOT, file), readFileSync(file, "utf8"));
}

/** The fenced code blocks of Markdown `text`, named `relative:line` by their opening fence. */
function fencedBlocks(relative: string, text: string): Fence[] {
  const lines = text.split("\n");
  const blocks: Fence[] = [];
  let open: { fence: string; indent: number; line: number; info: string[]; body: string[] } | null =
    null;
  lines.forEach((line, index) => {
    const fence = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (open === null) {
      if (fence) {
        open = {
          fence: fence[2] as string,
          indent: (fence[1] as string).length,
          line: index + 1,
          info: (fence[3] as string).trim().split(/\s+/).filter(Boolean),
          body: [],
        };
      }
    } else if (fence && (fence[2] as string).startsWith(open.fence) && fence[3]?.trim() === "") {
      const [language = "", ...marks] = open.info;
      blocks.push({
        where: `${relative}:${open.line}`,
        language: language.toLowerCase(),
        marks,
        text: `${open.body.join("\n")}\n`,
      });
      open = null;
    } else {
      open.body.push(line.slice(Math.min(open.indent, /^\s*/.exec(line)?.[0].length ?? 0)));
    }
  });
  if (open !== null) throw new Error(`${relative}: a code fence is never closed`);
  return blocks;
}

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, "docs"), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".md"))
    .map((name) => path.join(ROOT, "docs", name));
  const examples = readdirSync(path.join(ROOT, "examples"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => path.join(ROOT, "examples", name));
  return [path.join(ROOT, "README.md"), ...docs, ...examples].sort();
}

function examples(): Example[] {
  const fromMarkdown = markdownFiles()
    .flatMap(fencedBlocksOf)
    .filter((block) => block.language === "yaml" || block.language === "yml")
    .map(({ where, text, marks }) => ({ where, text, marks }));
  const yamlFiles = [
    "conductor.yaml.example",
    ...readdirSync(path.join(ROOT, "examples"))
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => path.join("examples", name)),
  ];
  const whole = yamlFiles.map((relative) => ({
    where: relative,
    text: readFileSync(path.join(ROOT, relative), "utf8"),
    marks: [],
  }));
  return [...fromMarkdown, ...whole];
}

/** Why an example is not a conductor config, or undefined when it must be one. */
function notAConfigBecause(example: Example): string | undefined {
  if (example.marks.includes(NOT_A_CONFIG)) return `marked ${NOT_A_CONFIG}`;
  let value: unknown;
  try {
    value = parse(example.text);
  } catch {
    return undefined; // not YAML at all: validation reports it
  }
  if (value !== null && typeof value === "object" && "jobs" in value && "on" in value) {
    return "a GitHub Actions workflow (top-level on: and jobs:)";
  }
  return undefined;
}

/**
 * Validates like `conductor validate` (schema, cross-field rules, then the plan) and returns
 * "valid" or the problems, each at its line in the file the example is in.
 */
function validate(example: Example): string {
  const [file = example.where, fenceLine = "0"] = example.where.split(":");
  // A block's first line is the one after its opening fence; a whole file starts at line 1.
  const shift = example.where.includes(":") ? Number(fenceLine) : 0;
  const located = (issues: readonly ConfigIssue[]): string =>
    issues
      .map(
        (issue) =>
          `${file}:${(issue.line ?? 1) + shift}:${issue.column ?? 1}: ${issue.keyPath}: ${issue.message}`,
      )
      .join("\n");
  try {
    const loaded = parseConfig(new TextEncoder().encode(example.text), file);
    // The prompt files an example names exist in the reader's repository, not in this one.
    const promptFiles = Object.fromEntries(
      loaded.config.tasks.flatMap((task) =>
        task.prompt.kind === "file" ? [[task.prompt.path, "A prompt."]] : [],
      ),
    );
    // Likewise the refs, pull requests and issues it starts from (resolved before planning).
    const starts = Object.fromEntries(
      loaded.config.tasks.flatMap((task) =>
        task.start === undefined ? [] : [[startKey(task.start), { commit: FACTS.baseCommit }]],
      ),
    );
    const issues = Object.fromEntries(
      loaded.config.tasks.flatMap((task) =>
        task.issue === undefined
          ? []
          : [
              [
                String(task.issue),
                { number: task.issue, title: "An issue", body: "", comments: [], updatedAt: "" },
              ],
            ],
      ),
    );
    const facts = { ...FACTS, starts, issues, issueList: [] };
    try {
      buildPlan({ config: loaded.config, facts, promptFiles });
    } catch (error) {
      if (error instanceof PlanError) return located(loaded.toConfigIssues(error.problems));
      throw error;
    }
    return "valid";
  } catch (error) {
    if (error instanceof ConfigError) return located(error.issues);
    throw error;
  }
}

const all = examples();

describe("YAML examples in the docs", () => {
  it("finds the examples of README.md, docs/, conductor.yaml.example and examples/", () => {
    const places = all.map((example) => example.where);
    expect(places.some((where) => where.startsWith("README.md:"))).toBe(true);
    expect(places).toContain("conductor.yaml.example");
    expect(places).toContain(path.join("examples", "github-actions.yml"));
  });

  it("recognizes the GitHub Actions workflow as not a config, by its content", () => {
    const workflow = all.find((example) => example.where.endsWith("github-actions.yml"));
    expect(workflow && notAConfigBecause(workflow)).toMatch(/GitHub Actions workflow/);
  });

  for (const example of all) {
    const reason = notAConfigBecause(example);
    if (reason !== undefined) {
      it(`${example.where} is not a config: ${reason}`, () => {
        expect(validate(example)).not.toBe("valid");
      });
    } else {
      it(`${example.where} is a valid conductor config`, () => {
        expect(validate(example)).toBe("valid");
      });
    }
  }

  it("reads the not-a-config marker and the language from the opening fence", () => {
    const markdown = [
      "Text.",
      "",
      "```yaml not-a-config",
      "name: a compose file",
      "```",
      "",
      "- In a list:",
      "",
      "  ```yml",
      "  version: 1",
      "  ```",
    ].join("\n");
    const [marked, indented] = fencedBlocks("doc.md", markdown);
    expect(marked).toMatchObject({ where: "doc.md:3", language: "yaml", marks: [NOT_A_CONFIG] });
    const example = { where: "doc.md:3", text: marked?.text ?? "", marks: marked?.marks ?? [] };
    expect(notAConfigBecause(example)).toBe(`marked ${NOT_A_CONFIG}`);
    expect(indented).toMatchObject({ where: "doc.md:9", language: "yml", text: "version: 1\n" });
  });

  it("a Markdown block that looks like a config is tagged yaml, so it is checked", () => {
    const untagged = markdownFiles()
      .flatMap(fencedBlocksOf)
      .filter((block) => block.language !== "yaml" && block.language !== "yml")
      .filter((block) => /^version:/m.test(block.text) && /^tasks:/m.test(block.text))
      .map((block) => block.where);
    expect(untagged).toEqual([]);
  });
});
