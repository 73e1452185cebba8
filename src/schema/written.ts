import * as z from "zod";
import { DURATION_PATTERN } from "./duration.js";
import { RUN_MODES } from "./repo-settings.js";
import { writtenSeedSchema } from "./seed.js";
import { SIZE_PATTERN } from "./size.js";
import { parseTokenCount, TOKEN_COUNT_PATTERN } from "./token-count.js";

/**
 * The configuration file exactly as a user writes it (snake_case keys, shorthands allowed).
 * This schema is also the source of the published JSON Schema, so every field carries a
 * description that editors show on hover. Cross-field rules (unique ids, dependencies, paths,
 * templates) live in `rules.ts`; the normalized, defaulted shape the planner sees is in `config.ts`.
 */

const TASK_ID_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const MATRIX_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_PATTERN = /^(?!CONDUCTOR_)[A-Za-z_][A-Za-z0-9_]*$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * What is wrong with a value that is not a duration. A bare number (`timeout: 5`, or `"5"`) is
 * the likeliest slip, and a unit cannot be guessed: the message offers the readings there are.
 */
function durationError(issue: { input?: unknown }): string {
  const { input } = issue;
  const bare =
    (typeof input === "number" && input >= 0) ||
    (typeof input === "string" && /^\d+(?:\.\d+)?$/.test(input));
  if (!bare) return "must be a duration such as 90s, 30m, 2h or 1h30m";
  const shown = typeof input === "number" ? `the number ${input}` : `the string "${input}"`;
  const written = Number(input);
  const readings = Number.isInteger(written)
    ? `write ${written}m (minutes) or ${written}s (seconds)`
    : "write it in whole units";
  return `must be a duration with a unit, not ${shown}: ${readings}, e.g. 300s or 1h30m (units: ms, s, m, h)`;
}

const duration = z
  .string({ error: durationError })
  .regex(DURATION_PATTERN, { error: durationError })
  .describe("A duration: a number followed by ms, s, m or h, e.g. 90s, 30m, 2h, 1h30m.");

const envMap = z
  .record(
    z.string().regex(ENV_NAME_PATTERN, {
      error:
        "environment variable names are letters, digits and _, not starting with a digit or CONDUCTOR_ (reserved)",
    }),
    scalar,
  )
  .describe(
    "Environment variables. Values may use {{task}}, {{attempt}}, {{run}}, {{matrix.KEY}}.",
  );

const relativePath = z
  .string()
  .min(1, { error: "must not be empty" })
  .describe("A path relative to the repository root; it must stay inside the repository.");

/** Names of the agents conductor can drive. */
export const AGENT_KINDS = ["codex", "claude", "command"] as const;
/** Codex sandbox policies (`codex exec -s`). */
export const SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"] as const;
/** How a file from the main checkout reaches a workspace. */
export const COPY_MODES = ["copy", "symlink", "clone"] as const;
/** How `conductor merge` lands a workspace on the base branch. */
export const MERGE_METHODS = ["ff", "merge", "squash"] as const;
/** How a task with several workspaces (attempts, matrix) picks the one its dependents build on. */
export const SELECT_MODES = ["manual", "first-passing", "best"] as const;
/** When workspaces are reviewed: by `conductor review` only, or after every passing check. */
export const REVIEW_MODES = ["manual", "auto"] as const;
/** The four scripts of a workspace's life. */
export const SCRIPT_NAMES = ["setup", "check", "run", "archive"] as const;

const copyEntry = z.union([
  relativePath.describe(
    "A glob of files (gitignored ones included) copied from the main checkout.",
  ),
  z
    .strictObject({
      path: relativePath.describe("A glob of files matched in the main checkout."),
      mode: z
        .enum(COPY_MODES, { error: `must be one of ${COPY_MODES.join(", ")}` })
        .optional()
        .describe(
          "copy (default), symlink (to the main checkout's file) or clone (copy-on-write where supported).",
        ),
    })
    .describe("A glob with an explicit copy mode."),
]);

const agentFields = {
  kind: z
    .enum(AGENT_KINDS, { error: `must be one of ${AGENT_KINDS.join(", ")}` })
    .optional()
    .describe("Which agent does the coding: codex (default), claude or command."),
  model: z.string().min(1).optional().describe("Model name passed to the agent (-m / --model)."),
  sandbox: z
    .enum(SANDBOX_MODES, { error: `must be one of ${SANDBOX_MODES.join(", ")}` })
    .optional()
    .describe("Codex sandbox policy; default workspace-write."),
  args: z
    .array(z.string())
    .optional()
    .describe("Extra arguments appended to the agent's command line."),
  config: z
    .record(z.string().min(1), scalar)
    .optional()
    .describe("Codex configuration overrides, passed as -c key=value."),
  command: z
    .string()
    .min(1)
    .optional()
    .describe(
      "kind command: the shell command that does the work (prompt in $CONDUCTOR_PROMPT). " +
        "kind codex/claude: path of the agent binary to use.",
    ),
  review_command: z
    .string()
    .min(1)
    .optional()
    .describe(
      "kind command: the shell command that reviews a workspace (conductor review); it prints the review JSON on stdout. Base commit in $CONDUCTOR_REVIEW_BASE, review prompt in $CONDUCTOR_REVIEW_PROMPT.",
    ),
  timeout: duration.optional().describe("Longest time the agent may run, e.g. 30m."),
  judge_command: z
    .string()
    .min(1)
    .optional()
    .describe(
      "kind command: the shell command that judges best-of-N candidates (prompt in $CONDUCTOR_PROMPT); its last output line is the JSON answer {winner, ranking, reasons}.",
    ),
  connect_timeout: duration
    .optional()
    .describe(
      "How long codex or claude may keep failing to reach its model provider before the workspace fails as unreachable; default 60s.",
    ),
  idle_timeout: duration
    .optional()
    .describe(
      "End an agent that prints nothing for this long (failure reason idle); off by default.",
    ),
};

const budgetFields = {
  tokens: z
    .union([
      z
        .int({ error: "must be a whole number of tokens or a count such as 200k or 1.5M" })
        .min(1, { error: "must be at least 1 token" }),
      // `0k` or `0.0001k` count 0 tokens, as `0` does: a budget nothing could start under.
      z
        .string()
        .regex(TOKEN_COUNT_PATTERN, {
          error: "must be a number of tokens such as 200000, 200k or 1.5M",
        })
        .refine((written) => parseTokenCount(written) >= 1, {
          error: "must be at least 1 token",
        }),
    ])
    .optional()
    .describe("Most input + output tokens the agents may use, as they report them (e.g. 200k)."),
  cost: z
    .number({ error: "must be a number of dollars, e.g. 5 or 2.50" })
    .positive({ error: "must be more than 0" })
    .optional()
    .describe("Most dollars the agents' tokens may cost, priced by `prices`."),
  agent_time: duration
    .optional()
    .describe("Most time agents may work, their turns summed (e.g. 2h)."),
};

const taskBudget = z
  .strictObject(budgetFields)
  .describe(
    "This task's own budget over all its workspaces: when reached, its running agent turns stop after budget.grace and its workspaces fail with reason budget.",
  );

const price = z.number({ error: "must be dollars per million tokens" }).min(0, {
  error: "must be 0 or more",
});

const agent = z.strictObject(agentFields).describe("Which agent runs in each workspace, and how.");

const scriptsFields = Object.fromEntries(
  SCRIPT_NAMES.map((name) => [name, z.string().optional()]),
) as Record<(typeof SCRIPT_NAMES)[number], z.ZodOptional<z.ZodString>>;

const scripts = z
  .strictObject({
    setup: scriptsFields.setup.describe(
      "Runs in the new workspace before the agent (install dependencies, prepare resources).",
    ),
    check: scriptsFields.check.describe(
      "Runs after the agent; its exit code decides pass or fail.",
    ),
    run: scriptsFields.run.describe(
      "The dev server a person starts for review (conductor serve); use $CONDUCTOR_PORT.",
    ),
    archive: scriptsFields.archive.describe("Runs before a workspace is removed."),
    run_mode: z
      .enum(RUN_MODES, { error: `must be one of ${RUN_MODES.join(", ")}` })
      .optional()
      .describe(
        "concurrent (default): every workspace's run script may run at once; nonconcurrent: serving one workspace stops the others' first.",
      ),
    timeout: duration
      .optional()
      .describe("Longest time setup, check or archive may run; default 30m."),
  })
  .describe("Shell commands run with the workspace as working directory.");

const taskScripts = z
  .strictObject(
    Object.fromEntries(
      SCRIPT_NAMES.map((name) => [
        name,
        z.string().nullable().optional().describe(`Overrides scripts.${name}; null disables it.`),
      ]),
    ),
  )
  .describe("Per-task script overrides; null disables a script for this task.");

const selectMode = z.enum(SELECT_MODES, { error: `must be one of ${SELECT_MODES.join(", ")}` });

const select = z
  .union([
    selectMode,
    z.strictObject({
      mode: selectMode.optional(),
      archive_losers: z
        .boolean({ error: "must be true or false" })
        .optional()
        .describe(
          "Archive the candidates that did not win once the winner is picked (branches kept under refs/conductor/).",
        ),
    }),
  ])
  .describe(
    "How a task with several workspaces picks its winner: manual, first-passing or best (default when attempts > 1 or a matrix is set).",
  );
const githubNumber = z
  .int({ error: "must be a whole number (the number GitHub shows after #)" })
  .min(1, { error: "must be at least 1" });

const task = z
  .strictObject({
    id: z
      .string()
      .max(64, { error: "must be at most 64 characters" })
      .regex(TASK_ID_PATTERN, {
        error:
          "must be lowercase letters and digits, with single '.', '_' or '-' between them (e.g. add-auth)",
      })
      .describe("Unique id of the task; names its workspace and branch."),
    prompt: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .describe("What to do (with issue: extra instructions after the issue)."),
    prompt_file: relativePath
      .optional()
      .describe("A file holding the prompt, inside the repository."),
    depends_on: z
      .array(z.string())
      .optional()
      .describe("Tasks that must succeed first; this task starts from their branches."),
    attempts: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(100, { error: "must be at most 100" })
      .optional()
      .describe("Best-of-N: how many independent workspaces try this task."),
    matrix: z
      .record(
        z.string().regex(MATRIX_KEY_PATTERN, {
          error: "matrix keys are letters, digits and _, not starting with a digit",
        }),
        z.array(scalar).min(1, { error: "must list at least one value" }),
      )
      .optional()
      .describe(
        "Each combination of values is one workspace. Keys model and sandbox also set the agent's.",
      ),
    env: envMap.optional(),
    timeout: duration.optional().describe("Longest time this task's agent may run."),
    agent: z.strictObject(agentFields).optional().describe("Overrides of the top-level agent."),
    scripts: taskScripts.optional(),
    select: select.optional(),
    from: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .describe(
        "Branch, tag or commit this task's new branch starts from; default: base. The plan pins the commit it resolves to.",
      ),
    branch: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .describe(
        "An existing local branch to continue on instead of a new one; conductor pr pushes it to its upstream.",
      ),
    pr: githubNumber
      .optional()
      .describe(
        "A pull request to work on: refs/pull/<n>/head is fetched from origin and the task starts there; conductor pr updates that pull request.",
      ),
    issue: githubNumber
      .optional()
      .describe(
        "A GitHub issue whose title, body and comments are the prompt (through gh); prompt adds instructions; the pull request closes it.",
      ),
    budget: taskBudget.optional(),
  })
  .describe("One unit of work: a prompt plus optional overrides.");

/** Schema of a `conductor.yaml` as written. */
export const writtenConfigSchema = z
  .strictObject({
    version: z.literal(1, { error: "must be 1 (the only config version so far)" }),
    base: z
      .string()
      .min(1)
      .optional()
      .describe("Ref new branches start from; default: the repository's default branch."),
    concurrency: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(256, { error: "must be at most 256" })
      .optional()
      .describe("Workspaces worked on at once; default: the number of CPUs."),
    retries: z
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be 0 or more" })
      .max(10, { error: "must be at most 10" })
      .optional()
      .describe("How many times a failed step is retried."),
    fail_fast: z
      .boolean({ error: "must be true or false" })
      .optional()
      .describe("Stop everything on the first failure."),
    env: envMap.optional(),
    workspaces: z
      .strictObject({
        dir: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Where worktrees go; default ~/.conductor/workspaces/<repo-name>-<hash of its path>. ~ and paths relative to the repository root are allowed.",
          ),
        branch: z
          .string()
          .min(1)
          .optional()
          .describe("Branch name template; default conductor/{{task}}."),
        ports: z
          .int({ error: "must be a whole number" })
          .min(1, { error: "must be at least 1" })
          .max(1000, { error: "must be at most 1000" })
          .optional()
          .describe("Consecutive ports reserved per workspace; CONDUCTOR_PORT is the first."),
        max_file_size: z
          .union([
            z.int({ error: "must be a whole number of bytes or a size such as 10MB" }).min(1),
            z.string().regex(SIZE_PATTERN, { error: "must be a size such as 10MB, 512KiB or 2GB" }),
          ])
          .optional()
          .describe(
            "Largest file conductor commits (default 10MB): a bigger new or changed file fails the workspace at its commit step, naming the file.",
          ),
        copy: z
          .array(copyEntry)
          .optional()
          .describe("Gitignored files (globs) copied from the main checkout, e.g. .env.local."),
        context: z
          .array(relativePath)
          .optional()
          .describe("Files (globs) placed in each workspace's .context/ folder."),
        seed: writtenSeedSchema.optional(),
      })
      .optional()
      .describe("Where and how workspaces are made."),
    agent: agent.optional(),
    scripts: scripts.optional(),
    merge: z
      .strictObject({
        method: z
          .enum(MERGE_METHODS, { error: `must be one of ${MERGE_METHODS.join(", ")}` })
          .optional()
          .describe(
            "How conductor merge lands a workspace: ff (fast-forward only), merge (a merge commit) or squash (one commit); default merge.",
          ),
      })
      .optional()
      .describe("How conductor merge lands workspaces on the base branch."),
    select: select.optional(),
    review: z
      .union([
        z.enum(REVIEW_MODES, { error: `must be one of ${REVIEW_MODES.join(", ")}, or a map` }),
        z.strictObject({
          mode: z
            .enum(REVIEW_MODES, { error: `must be one of ${REVIEW_MODES.join(", ")}` })
            .optional()
            .describe("manual (default): conductor review only; auto: after every passing check."),
          instructions: z
            .string()
            .min(1)
            .optional()
            .describe("The repository's review guidance, given to the reviewing agent."),
          instructions_file: relativePath
            .optional()
            .describe("A file holding the review guidance, inside the repository."),
        }),
      ])
      .optional()
      .describe(
        "The reviewing agent (conductor review): auto reviews every workspace after a passing check.",
      ),
    budget: z
      .strictObject({
        ...budgetFields,
        grace: duration
          .optional()
          .describe(
            "How long running agent turns may go on once a budget is reached before they are cancelled; default 30s.",
          ),
      })
      .optional()
      .describe(
        "Limits of the whole run. When one is reached no new agent turn starts, running turns stop after `grace`, and the run fails with reason budget.",
      ),
    prices: z
      .record(
        z.string().min(1),
        z
          .strictObject({
            input: price.describe("Dollars per million input tokens."),
            output: price.describe("Dollars per million output tokens."),
            cached_input: price
              .optional()
              .describe("Dollars per million cached input tokens; default: the input price."),
          })
          .describe("Prices of one model."),
      )
      .optional()
      .describe("Prices per model (agent.model) in dollars per million tokens, for cost budgets."),
    tasks_from: z
      .strictObject({
        github_issues: z
          .strictObject({
            label: z.string().min(1).optional().describe("Only issues with this label."),
            assignee: z.string().min(1).optional().describe("Only issues assigned to this login."),
            limit: z
              .int({ error: "must be a whole number" })
              .min(1, { error: "must be at least 1" })
              .max(200, { error: "must be at most 200" })
              .optional()
              .describe("At most this many issues (gh's default: 30)."),
          })
          .describe("One task per open issue that gh issue list finds with these filters."),
      })
      .optional()
      .describe(
        "Tasks made at plan time: one per GitHub issue (prompt from the issue); the plan hash changes when an issue does.",
      ),
    tasks: z
      .array(task)
      .min(1, { error: "must list at least one task" })
      .optional()
      .describe("The tasks (may be left out with tasks_from)."),
  })
  .describe("conductor configuration, version 1.");

/** The configuration as written, after schema validation and before normalization. */
export type WrittenConfig = z.infer<typeof writtenConfigSchema>;
/** One task as written. */
export type WrittenTask = NonNullable<WrittenConfig["tasks"]>[number];
/** Agent settings as written (top level or per task). */
export type WrittenAgent = NonNullable<WrittenConfig["agent"]>;
