import { readFile, writeFile } from "node:fs/promises";
import { Command } from "commander";
import { stringify } from "yaml";
import { ConfigError, UsageError } from "../../errors.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { conductorCommand } from "../../hint/command.js";
import { appendTasks, type ImportedTask } from "../../init/import-tasks.js";
import { issueTaskId } from "../../planner/issue-tasks.js";
import {
  gitHubReader,
  type ListFilter,
  listIssues,
  listPullRequests,
} from "../../review/github-issues.js";
import type { Config } from "../../schema/config.js";
import { parseConfig } from "../../schema/load.js";
import { readRepoSettings } from "../../schema/repo-settings.js";
import { globalOptions } from "../global-options.js";
import { displayPath, findConfigFile } from "../project.js";

interface ImportOptions {
  label?: string;
  assignee?: string;
  limit?: string;
  dryRun?: boolean;
}

/** `conductor import issues|prs`: one task per GitHub issue or pull request, appended to the config. */
export function importCommand(): Command {
  const command = new Command("import").description(
    "append one task per GitHub issue or pull request to conductor.yaml (through gh)",
  );
  for (const kind of ["issues", "prs"] as const) {
    command.addCommand(
      new Command(kind)
        .description(
          kind === "issues"
            ? "one task per open issue: issue: <n>, its prompt the issue's title, body and comments"
            : "one task per open pull request: pr: <n>, starting from its head; conductor pr updates it",
        )
        .option("--label <label>", "only those with this label")
        .option("--assignee <login>", "only those assigned to this login")
        .option("--limit <n>", "at most this many (gh's default: 30)")
        .option("--dry-run", "show what would be added, change nothing")
        .action(async (options: ImportOptions, sub: Command) => {
          await importTasks(kind, options, sub);
        }),
    );
  }
  return command;
}

async function importTasks(
  kind: "issues" | "prs",
  options: ImportOptions,
  command: Command,
): Promise<void> {
  const filter: ListFilter = {
    label: options.label,
    assignee: options.assignee,
    limit: parseLimit(options.limit),
  };
  const cwd = process.cwd();
  const root = await findRepositoryRoot(cwd);
  const file = findConfigFile(cwd, root, globalOptions(command).config);
  const shown = displayPath(cwd, file);
  const text = await readFile(file, "utf8").catch(() => {
    throw new UsageError(`${shown} does not exist`, {
      hint: `Create it first with \`${conductorCommand(["init"])}\`.`,
    });
  });
  // gh's output is redacted with the secrets the config names (its env, its copied env files).
  const reader = await gitHubReader(
    root,
    `conductor import ${kind}`,
    await configOf(text, shown, root),
  );
  const tasks: ImportedTask[] =
    kind === "issues"
      ? (await listIssues(reader, filter)).map((issue) => ({
          id: issueTaskId(issue.number, issue.title),
          key: "issue",
          number: issue.number,
        }))
      : (await listPullRequests(reader, filter)).map((pr) => ({
          id: issueTaskId(pr.number, pr.title),
          key: "pr",
          number: pr.number,
          prompt: `Finish pull request #${pr.number} (${pr.title}): address its review comments and make its checks pass.`,
        }));
  let result: ReturnType<typeof appendTasks>;
  try {
    result = appendTasks(text, tasks);
  } catch (error) {
    throw new UsageError(`${shown} ${(error as Error).message}; nothing was added`);
  }
  // The file must stay valid: refuse rather than write a config conductor would then reject.
  try {
    parseConfig(new TextEncoder().encode(result.text), shown);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new ConfigError(error.issues, { hint: "Nothing was written; fix the file first." });
    }
    throw error;
  }
  const what = kind === "issues" ? "issue" : "pull request";
  if (result.added.length > 0) {
    const verb = options.dryRun ? "Would add" : "Added";
    const block = stringify(
      result.added.map((task) => ({
        id: task.id,
        [task.key]: task.number,
        ...(task.prompt === undefined ? {} : { prompt: task.prompt }),
      })),
      { lineWidth: 0 },
    );
    process.stdout.write(
      `${verb} ${result.added.length} task${result.added.length === 1 ? "" : "s"} to ${shown}:\n${block
        .trimEnd()
        .split("\n")
        .map((line) => `  ${line}`)
        .join("\n")}\n`,
    );
  } else {
    process.stdout.write(`No new ${what}s to add to ${shown}.\n`);
  }
  for (const { task, reason } of result.skipped) {
    process.stdout.write(`Skipped ${what} #${task.number}: ${reason}\n`);
  }
  if (!options.dryRun && result.added.length > 0) {
    await writeFile(file, result.text);
    process.stdout.write(`Check it with \`${conductorCommand(["plan"])}\`.\n`);
  }
}

/** The config as written, with the repository's settings; undefined when it does not load. */
async function configOf(text: string, shown: string, root: string): Promise<Config | undefined> {
  try {
    return parseConfig(new TextEncoder().encode(text), shown, await readRepoSettings(root)).config;
  } catch {
    return undefined;
  }
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 200) {
    throw new UsageError(`--limit ${text} is not a count: give a whole number from 1 to 200`);
  }
  return value;
}
