import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildProgram } from "../../src/cli/program.js";
import { shellQuote } from "../../src/hint/shell-quote.js";
import { CLI } from "../helpers/cli.js";
import { createTestRepo, gitEnv } from "../helpers/git-repo.js";

const FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "examples",
  "github-actions.yml",
);

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; matrix?: unknown };
  steps: Step[];
}

/** A GitHub Actions expression as written in the workflow: `${{ inner }}`. */
function expression(inner: string): string {
  return `\${{ ${inner} }}`;
}

const workflow = parse(readFileSync(FILE, "utf8")) as { jobs: Record<string, Job> };

function job(name: string): Job {
  const found = workflow.jobs[name];
  if (found === undefined) throw new Error(`the workflow has no job ${name}`);
  return found;
}

function needs(name: string): string[] {
  const value = job(name).needs;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function runText(name: string): string {
  return job(name)
    .steps.map((step) => step.run ?? "")
    .join("\n");
}

/**
 * Every `conductor …` invocation in the workflow's shell lines, as words. `${{ … }}` expressions
 * become one word; the invocation ends where the shell command does (`)`, `>`, `|`, `;`, `&`).
 */
function conductorInvocations(): string[][] {
  const invocations: string[][] = [];
  for (const current of Object.values(workflow.jobs)) {
    for (const step of current.steps) {
      const text = (step.run ?? "").replace(/\$\{\{[^}]*\}\}/g, "EXPRESSION");
      for (const match of text.matchAll(/\bconductor\s+([^\n)>|;&"]*)/g)) {
        invocations.push((match[1] as string).trim().split(/\s+/));
      }
    }
  }
  return invocations;
}

/** The command a list of words names (following subcommands), and the words after it. */
function resolveCommand(
  program: Command,
  words: readonly string[],
): { command: Command; rest: string[] } {
  let command = program;
  let index = 0;
  for (;;) {
    const word = words[index];
    const sub = command.commands.find((candidate) => candidate.name() === word);
    if (sub === undefined) break;
    command = sub;
    index++;
  }
  return { command, rest: words.slice(index) };
}

/** Long option flags a command accepts, its parents' included. */
function knownOptions(command: Command): Set<string> {
  const flags = new Set<string>();
  for (let current: Command | null = command; current !== null; current = current.parent) {
    for (const option of current.options) if (option.long) flags.add(option.long);
  }
  return flags;
}

describe("examples/github-actions.yml", () => {
  it("plans the matrix in one job and exposes it as that job's output", () => {
    const plan = job("plan");
    const step = plan.steps.find((candidate) => candidate.run?.includes("conductor plan --matrix"));
    expect(step?.id).toBeDefined();
    expect(step?.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(plan.outputs?.matrix).toBe(expression(`steps.${step?.id}.outputs.matrix`));
  });

  it("the plan step fails on a broken conductor.yaml under GitHub's `bash -e`, and outputs the matrix", async () => {
    const step = job("plan").steps.find((candidate) =>
      candidate.run?.includes("conductor plan --matrix"),
    );
    // GitHub runs a step's `run` with `bash -e {0}`; `npx conductor` is the CLI under test here.
    const script = (step?.run ?? "").replaceAll("npx conductor", `node ${shellQuote(CLI)}`);
    const repo = await createTestRepo({ "conductor.yaml": "version: 1\ntasks: []\n" });
    try {
      const output = path.join(repo.home, "github-output");
      const runStep = () =>
        execa("bash", ["-e", "-c", script], {
          cwd: repo.root,
          reject: false,
          env: { ...gitEnv(repo.home), CI: "1", GITHUB_OUTPUT: output },
        });
      const broken = await runStep();
      expect(broken.exitCode, broken.stderr).not.toBe(0);
      expect(broken.stderr).toContain("conductor.yaml");
      expect(existsSync(output) ? readFileSync(output, "utf8") : "").not.toContain("matrix=");

      await repo.write({ "conductor.yaml": "version: 1\ntasks:\n  - id: a\n    prompt: A.\n" });
      const good = await runStep();
      expect(good.exitCode, good.stderr).toBe(0);
      expect(readFileSync(output, "utf8")).toBe(
        'matrix={"include":[{"shard":"1/4"},{"shard":"2/4"},{"shard":"3/4"},{"shard":"4/4"}]}\n',
      );
    } finally {
      await repo.remove();
    }
  });

  it("runs one shard per job from the planned matrix and uploads every run folder", () => {
    const run = job("run");
    expect(needs("run")).toContain("plan");
    expect(run.strategy?.matrix).toBe(expression("fromJSON(needs.plan.outputs.matrix)"));
    expect(run.strategy?.["fail-fast"]).toBe(false);
    expect(runText("run")).toContain(
      `npx conductor run --shard ${expression("matrix.shard")} --output plain`,
    );
    const upload = run.steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.if).toBe("always()");
    expect(upload?.with?.path).toBe(".conductor/runs/*");
    expect(upload?.with?.["include-hidden-files"]).toBe(true);
    // Artifact names must be distinct per job and cannot contain the "/" of "1/4".
    expect(String(upload?.with?.name)).toContain(expression("strategy.job-index"));
    const uploadIndex = run.steps.indexOf(upload as Step);
    const runIndex = run.steps.findIndex((step) => step.run?.includes("conductor run"));
    expect(uploadIndex).toBeGreaterThan(runIndex);
  });

  it("a re-run job's push replaces its earlier attempt's branches; a new workflow run's is refused", async () => {
    const step = job("run").steps.find((candidate) => candidate.run?.includes("git push"));
    const script = step?.run ?? "";
    const repo = await createTestRepo();
    try {
      const remote = path.join(repo.home, "remote.git");
      await execa("git", ["init", "-q", "--bare", remote]);
      await repo.git("remote", "add", "origin", remote);
      /** The shard's work on conductor/task, then the job's push step as GitHub runs it. */
      const attempt = async (attemptNumber: number, content: string) => {
        await repo.git("checkout", "-q", "-B", "conductor/task", "main");
        await repo.write({ "work.txt": content });
        await repo.commitAll(content);
        const head = await repo.git("rev-parse", "HEAD");
        const pushed = await execa("bash", ["-e", "-c", script], {
          cwd: repo.root,
          reject: false,
          env: { ...gitEnv(repo.home), GITHUB_RUN_ATTEMPT: String(attemptNumber) },
        });
        return { pushed, head };
      };
      const remoteHead = async () =>
        (await execa("git", ["rev-parse", "refs/heads/conductor/task"], { cwd: remote })).stdout;

      const first = await attempt(1, "first attempt\n");
      expect(first.pushed.exitCode, first.pushed.stderr).toBe(0);
      expect(await remoteHead()).toBe(first.head);
      // "Re-run failed jobs": the shard's work is redone from the base, its branch rewritten.
      const rerun = await attempt(2, "re-run\n");
      expect(rerun.pushed.exitCode, rerun.pushed.stderr).toBe(0);
      expect(await remoteHead()).toBe(rerun.head);
      // A later workflow run (attempt 1 again) leaves the branches already pushed alone.
      const later = await attempt(1, "another workflow run\n");
      expect(later.pushed.exitCode).not.toBe(0);
      expect(later.pushed.stderr).toMatch(/rejected|non-fast-forward/);
      expect(await remoteHead()).toBe(rerun.head);
    } finally {
      await repo.remove();
    }
  });

  it("a re-run job's upload replaces its earlier attempt's artifact of the same name", () => {
    const upload = job("run").steps.find((step) =>
      step.uses?.startsWith("actions/upload-artifact@"),
    );
    expect(upload?.with?.overwrite).toBe(true);
  });

  it("downloads every shard's artifact and merges them into Markdown for the step summary and JUnit", () => {
    const report = job("report");
    expect(needs("report")).toContain("run");
    expect(report.if).toBe("always()");
    const download = report.steps.find((step) =>
      step.uses?.startsWith("actions/download-artifact@"),
    );
    expect(download?.with?.pattern).toBe("conductor-run-*");
    const folder = String(download?.with?.path);
    const text = runText("report");
    expect(text).toContain(
      `npx conductor report merge ${folder} --format markdown >> "$GITHUB_STEP_SUMMARY"`,
    );
    expect(text).toMatch(
      new RegExp(`conductor report merge ${folder} --format junit --out \\S+\\.xml`),
    );
    const downloadIndex = report.steps.indexOf(download as Step);
    const mergeIndex = report.steps.findIndex((step) => step.run?.includes("report merge"));
    expect(mergeIndex).toBeGreaterThan(downloadIndex);
  });

  it("names only conductor commands and options that exist", async () => {
    const program = await buildProgram();
    const invocations = conductorInvocations();
    expect(invocations.length).toBeGreaterThanOrEqual(5);
    for (const words of invocations) {
      const { command, rest } = resolveCommand(program, words);
      expect(command, `conductor ${words.join(" ")}`).not.toBe(program);
      const known = knownOptions(command);
      for (const word of rest.filter((candidate) => candidate.startsWith("--"))) {
        expect(known, `conductor ${words.join(" ")}: ${word}`).toContain(word);
      }
    }
    const named = invocations.map((words) => resolveCommand(program, words).command.name());
    expect(new Set(named)).toEqual(new Set(["plan", "run", "merge"]));
  });
});
