import { Command } from "commander";
import { describeSources } from "../../schema/settings-layers.js";
import { globalOptions } from "../global-options.js";
import { loadProject, planProject } from "../project.js";

/** `conductor validate`: checks the configuration and prints a one-line summary. */
export function validateCommand(): Command {
  return new Command("validate")
    .description("check conductor.yaml and report every problem with its file:line:col")
    .action(async (_options: object, command: Command) => {
      const project = await loadProject(process.cwd(), globalOptions(command));
      const plan = planProject(project);
      const tasks = project.loaded.config.tasks.length;
      process.stdout.write(
        `${project.loaded.file} is valid: ${count(tasks, "task")}, ${count(plan.workspaces.length, "workspace")} (plan ${plan.hash.slice(0, 12)})\n`,
      );
      for (const line of describeSources(project.loaded.sources))
        process.stdout.write(`  ${line}\n`);
    });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
