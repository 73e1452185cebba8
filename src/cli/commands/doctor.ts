import { existsSync } from "node:fs";
import os from "node:os";
import { Command } from "commander";
import { blocks, type DoctorContext, doctorChecks } from "../../doctor/doctor.js";
import { ConductorError, ConfigError } from "../../errors.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { conductorCommand } from "../../hint/command.js";
import type { CheckResult } from "../../preflight/check.js";
import { renderTable } from "../../report/table.js";
import { type GlobalOptions, globalOptions } from "../global-options.js";
import { findConfigFile, loadProject, planProject } from "../project.js";

/** `conductor doctor`: checks everything conductor depends on; exit 1 when something blocks. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .description(
      "check what conductor depends on: node, git, codex/claude and their logins, ports, workspaces",
    )
    .option("--json", "print the checks as JSON")
    .addHelpText("after", "\nExit codes: 0 nothing blocks, 1 something does (see its fix).")
    .action(async (options: { json?: boolean }, command: Command) => {
      const checks = await doctorChecks(await doctorContext(globalOptions(command)));
      const ok = !blocks(checks);
      process.stdout.write(
        options.json ? `${JSON.stringify({ ok, checks }, null, 2)}\n` : renderChecks(checks, ok),
      );
      process.exitCode = ok ? 0 : 1;
    });
}

async function doctorContext(options: GlobalOptions): Promise<DoctorContext> {
  const cwd = process.cwd();
  const root = await findRepositoryRoot(cwd).catch(() => undefined);
  const base = { homeDir: os.homedir(), env: process.env, root };
  const file = findConfigFile(cwd, root, options.config);
  if (!existsSync(file)) {
    return {
      ...base,
      plan: undefined,
      config: row(
        "config",
        "info",
        `no ${file}: checking the default agent (codex)`,
        conductorCommand(["init"]),
      ),
    };
  }
  try {
    const plan = planProject(await loadProject(cwd, options));
    const count = `${plan.workspaces.length} workspace${plan.workspaces.length === 1 ? "" : "s"}`;
    return { ...base, plan, config: row("config", "ok", `${file}: ${count}`) };
  } catch (error) {
    if (!(error instanceof ConductorError)) throw error;
    const first = error.message.split("\n").slice(0, 2).join(" ").trim();
    // A config's problems are listed, each located, by validate; any other refusal (a repository
    // without commits, a base branch missing) carries its own remedy, which validate would only
    // repeat as an error.
    const fix =
      error instanceof ConfigError || error.hint === undefined
        ? conductorCommand(["validate"])
        : error.hint;
    return { ...base, plan: undefined, config: row("config", "fail", first, fix) };
  }
}

function row(check: string, status: CheckResult["status"], detail: string, fix = ""): CheckResult {
  return { check, status, detail, fix };
}

function renderChecks(checks: readonly CheckResult[], ok: boolean): string {
  const rows = [
    ["CHECK", "STATUS", "DETAIL", "FIX"],
    ...checks.map((check) => [check.check, check.status, check.detail, check.fix]),
  ];
  const failed = checks.filter((check) => check.status === "fail").length;
  const verdict = ok
    ? "Nothing blocks conductor."
    : `${failed} problem${failed === 1 ? "" : "s"} block${failed === 1 ? "s" : ""} conductor: see FIX.`;
  return `${renderTable(rows)}\n\n${verdict}\n`;
}
