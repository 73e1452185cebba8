import type { Config, TaskConfig } from "../schema/config.js";
import type { PathIssue } from "../schema/zod-issues.js";
import type { RepoFacts } from "./types.js";

/** Longest task id the schema accepts. */
const MAX_ID = 64;

/**
 * A task id made from an issue or pull request: its number and title, e.g.
 * `12-fix-date-parsing`; valid as a task id whatever the title holds.
 */
export function issueTaskId(number: number, title: string): string {
  const words = title
    .normalize("NFKD")
    // Accents come apart from their letters under NFKD; dropping them keeps "crème" one word.
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const id = words === "" ? String(number) : `${number}-${words}`;
  return id.length <= MAX_ID
    ? id
    : id.slice(0, MAX_ID).replace(/-+[a-z0-9]*$/, "") || String(number);
}

/**
 * The config with one task per issue that `tasks_from.github_issues` found (listed in
 * `facts.issueList`): id from number and title, prompt from the issue. Issues that already have a
 * task of their own (`issue:`) are left to it. Pure: the CLI fetched the list before planning.
 */
export function withIssueTasks(config: Config, facts: RepoFacts, problems: PathIssue[]): Config {
  if (config.tasksFrom === undefined) return config;
  const numbers = facts.issueList;
  if (numbers === undefined) {
    problems.push({
      keyPath: ["tasks_from"],
      at: "key",
      message: "the issues of tasks_from were not listed before planning",
    });
    return config;
  }
  const taken = new Set(config.tasks.map((task) => task.id));
  const covered = new Set(
    config.tasks.flatMap((task) => (task.issue === undefined ? [] : [task.issue])),
  );
  const made: TaskConfig[] = [];
  for (const number of numbers) {
    const issue = facts.issues?.[String(number)];
    if (issue === undefined || covered.has(number)) continue;
    const id = issueTaskId(number, issue.title);
    if (taken.has(id)) {
      problems.push({
        keyPath: ["tasks_from"],
        at: "key",
        message: `issue #${number} would make task "${id}", which is also a task id of the file; rename that task`,
      });
      continue;
    }
    taken.add(id);
    made.push({
      id,
      prompt: { kind: "inline", text: "" },
      dependsOn: [],
      attempts: 1,
      matrix: {},
      env: {},
      timeoutMs: undefined,
      agent: {},
      scripts: {},
      budget: undefined,
      issue: number,
    });
  }
  return { ...config, tasks: [...config.tasks, ...made] };
}
