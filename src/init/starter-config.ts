import { stringify } from "yaml";
import type { RepositorySurvey } from "./survey.js";

/** Where the new file's first line points editors for completion; undefined when nowhere works. */
export type SchemaReference = { path: string } | undefined;

/**
 * The text of a starting `conductor.yaml` for the surveyed repository: only what was found there
 * (install command, check scripts, gitignored env files), the rest as comments, one example task.
 * Pure, so what `init` writes follows from the survey alone.
 */
export function starterConfig(survey: RepositorySurvey, schema: SchemaReference): string {
  const lines = [
    ...schemaLines(schema),
    "#",
    "# conductor.yaml: coding tasks, each run by an agent in its own git worktree and branch.",
    "# `conductor validate` checks this file, `conductor plan` shows what `conductor run` will do.",
    "# Every field is described in docs/config.md of codex-conductor.",
    "",
    "version: 1",
    "",
    ...workspacesLines(survey),
    "",
    ...scriptsLines(survey),
    "",
    ...taskLines(survey),
  ];
  return `${lines.join("\n")}\n`;
}

function schemaLines(schema: SchemaReference): string[] {
  if (schema) return [`# yaml-language-server: $schema=${schema.path}`];
  // Installed outside this repository: any path to the schema would only work on this machine.
  return [
    "# Editor completion: `conductor schema > conductor.schema.json` writes the JSON Schema; then",
    "# add the first line `# yaml-language-server: $schema=conductor.schema.json` to this file.",
  ];
}

function workspacesLines(survey: RepositorySurvey): string[] {
  const copy = survey.settings.copy;
  if (copy !== undefined) {
    return [
      `# Gitignored files copied into every workspace come from ${copy.file}:`,
      ...copy.value.map((glob) => `#   ${glob}`),
      "# A workspaces.copy list here would replace them.",
    ];
  }
  if (survey.envFiles.length === 0) {
    return [
      "# Gitignored files every workspace needs (globs), copied from the main checkout:",
      "# workspaces:",
      "#   copy: []",
    ];
  }
  return [
    "workspaces:",
    "  # Gitignored files every workspace needs, copied from the main checkout (found here).",
    "  copy:",
    ...survey.envFiles.map((file) => `    - ${scalar(file)}`),
  ];
}

function scriptsLines(survey: RepositorySurvey): string[] {
  const check = survey.checks.join(" && ");
  const { settings } = survey;
  // Scripts the repository's settings files already give are read from there, not copied here:
  // one place to change them, for the app and for conductor.
  const inherited = (["setup", "run", "archive", "runMode"] as const).flatMap((name) => {
    const found = settings[name];
    if (found === undefined) return [];
    const key = name === "runMode" ? "run_mode" : name;
    const from = `(from ${found.file}; set it here to override)`;
    const valueLines = found.value.trim().split("\n");
    if (valueLines.length === 1) return [`# ${key}: ${found.value}  ${from}`];
    // A multi-line script (a TOML """…""" string): every line must stay inside the comment, or
    // its second line would be YAML of its own and the written file would not load.
    return [`# ${key} ${from}:`, ...valueLines.map((line) => `#   ${line}`.trimEnd())];
  });
  const scripts = [
    {
      name: "setup",
      value: settings.setup === undefined ? survey.install?.command : undefined,
      about: survey.install
        ? `Runs in each new workspace before the agent (from ${survey.install.lockfile})`
        : "Runs in each new workspace before the agent, e.g. to install dependencies",
    },
    {
      name: "check",
      value: check === "" ? undefined : check,
      about:
        check === ""
          ? "Runs after the agent; a non-zero exit fails the workspace, e.g. your tests"
          : "Runs after the agent; a non-zero exit fails the workspace (from package.json)",
    },
    {
      name: "run",
      value: undefined,
      about: 'The dev server `conductor serve <workspace>` starts, on its own "$CONDUCTOR_PORT"',
    },
  ];
  const active = scripts.some((script) => script.value !== undefined);
  // With no script found the whole section stays a comment: `scripts:` alone would be null.
  const lines = [...inherited, active ? "scripts:" : "# scripts:"];
  for (const script of scripts) {
    if (settings[script.name as "setup" | "run"] !== undefined) continue;
    lines.push(`${active ? "  " : "#   "}# ${script.about}`);
    lines.push(
      script.value === undefined
        ? `${active ? "  # " : "#   "}${script.name}: ...`
        : `  ${script.name}: ${scalar(script.value)}`,
    );
  }
  return lines;
}

function taskLines(survey: RepositorySurvey): string[] {
  const verify = survey.checks.length > 0 ? `with \`${survey.checks.join(" && ")}\`` : "";
  return [
    "tasks:",
    "  # One entry per task; each gets its own workspace on the branch conductor/<id>. A good prompt",
    "  # says what to change, what not to touch, how to verify it and when to stop.",
    "  - id: first-task",
    "    prompt: |",
    "      Replace this prompt with the first task for this repository: what to change, what",
    `      not to touch, how to verify it${verify === "" ? "" : ` (${verify})`}, and when to stop.`,
  ];
}

/** One YAML scalar, quoted only when plain text would be read as something else. */
function scalar(value: string): string {
  return stringify(value).trimEnd();
}
