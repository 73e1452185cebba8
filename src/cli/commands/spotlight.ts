import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { findWorkspace } from "../../executor/find-workspace.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { conductorCommand } from "../../hint/command.js";
import { scriptRedactor } from "../../review/workspace-process.js";
import { SAVED_REF } from "../../spotlight/marker.js";
import { isServed, spotlightSource } from "../../spotlight/source.js";
import {
  endSpotlight,
  type SpotlightChange,
  showWorkspace,
  spotlightState,
} from "../../spotlight/spotlight.js";
import { watchSpotlight } from "../../spotlight/watch.js";
import { interruptOnSignals } from "../interrupt.js";
import { chosenRun, RUN_OPTION_HELP } from "../run-choice.js";

interface SpotlightOptions {
  run?: string;
  watch?: boolean;
  off?: boolean;
  force?: boolean;
}

/** `conductor spotlight`: a workspace's changes shown in the main checkout, and restored after. */
export function spotlightCommand(): Command {
  return new Command("spotlight")
    .description(
      "show a workspace's changes in the main checkout as uncommitted changes; --off restores it exactly",
    )
    .argument("[workspace]", "workspace to show (another one switches); none: say what is shown")
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--watch", "keep bringing the workspace's new changes over until Ctrl-C")
    .option("--off", "end Spotlight: the main checkout as it was before")
    .option("--force", "with --off: restore even if the main checkout was changed meanwhile")
    .addHelpText(
      "after",
      `\nBefore anything changes, the main checkout's own uncommitted state is saved on ${SAVED_REF}.\n` +
        "Spotlight refuses, changing nothing, when the workspace's changes conflict with yours, would\n" +
        "overwrite an ignored file, or while the workspace is being served. Ignored files (node_modules,\n" +
        ".env.local) are never touched.",
    )
    .action(async (name: string | undefined, options: SpotlightOptions, command: Command) => {
      if (options.off) {
        if (name !== undefined || options.watch) {
          throw new UsageError("--off takes no workspace and no --watch");
        }
        const root = await findRepositoryRoot(process.cwd());
        const ended = await endSpotlight(root, { force: options.force === true });
        const left = ended.leftRef ? `; what it held was kept on ${ended.leftRef}` : "";
        process.stdout.write(
          `Spotlight is off: ${count(ended.restored.length, "path")} of the main checkout restored as they were before ${ended.workspace}${left}\n`,
        );
        return;
      }
      if (options.force) throw new UsageError("--force goes with --off");
      if (name === undefined) {
        if (options.watch) throw new UsageError("--watch needs the workspace to show");
        const root = await findRepositoryRoot(process.cwd());
        const marker = await spotlightState(root);
        process.stdout.write(
          marker === undefined
            ? "Spotlight is off\n"
            : `Spotlight shows ${marker.workspace} (run ${marker.runId}, ${count(marker.files, "file")}) since ${marker.startedAt}; \`${conductorCommand(["spotlight", "--off"])}\` ends it\n`,
        );
        return;
      }
      const { root, run } = await chosenRun(command, options.run);
      const found = findWorkspace(run, name);
      const source = await spotlightSource(found);
      // The paths it names may be a file whose name holds a secret the commit step refused.
      const redactor = await scriptRedactor(found);
      const before = await spotlightState(root);
      const shown = await showWorkspace(root, source, isServed);
      process.stdout.write(`${redactor.redact(describe(shown, before?.workspace))}\n`);
      if (before === undefined) {
        process.stdout.write(
          `Your own uncommitted changes are saved on ${SAVED_REF}; \`${conductorCommand(["spotlight", "--off"])}\` puts them back exactly.\n`,
        );
      }
      if (!options.watch) return;
      const interrupt = interruptOnSignals(() => {});
      try {
        process.stdout.write(
          `Watching ${source.workspace}; Ctrl-C stops watching (Spotlight stays on)\n`,
        );
        const why = await watchSpotlight(root, {
          shown: shown.workspaceTree,
          signal: interrupt.signal,
          onSync: (change) =>
            process.stdout.write(
              `${time()} ${redactor.redact(describe(change, change.workspace))}\n`,
            ),
          onRefused: (error) =>
            process.stdout.write(
              `${time()} not synced: ${redactor.redact(`${error.message}${error.hint ? ` (${error.hint})` : ""}`)}\n`,
            ),
        });
        if (why === "stopped") {
          process.stdout.write(
            `Stopped watching; Spotlight still shows ${source.workspace}: \`${conductorCommand(["spotlight", "--off"])}\` ends it\n`,
          );
        } else {
          process.stdout.write(
            why === "spotlight-ended"
              ? "Spotlight was ended elsewhere; stopped watching\n"
              : why === "workspace-gone"
                ? `The worktree of ${source.workspace} is gone; stopped watching. \`${conductorCommand(["spotlight", "--off"])}\` ends Spotlight\n`
                : "Spotlight was switched to another workspace elsewhere; stopped watching\n",
          );
        }
      } finally {
        interrupt.dispose();
      }
    });
}

function describe(change: SpotlightChange, previous: string | undefined): string {
  const what =
    previous === undefined
      ? `Spotlight shows ${change.workspace}`
      : previous === change.workspace
        ? `synced ${change.workspace}`
        : `Spotlight switched from ${previous} to ${change.workspace}`;
  const paths = change.changed.slice(0, 3).join(", ");
  const more = change.changed.length > 3 ? `, +${change.changed.length - 3} more` : "";
  return `${what}: ${count(change.files, "file")} of changes; ${count(change.changed.length, "path")} changed in the main checkout${paths === "" ? "" : ` (${paths}${more})`}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}
