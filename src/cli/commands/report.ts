import path from "node:path";
import { Command } from "commander";
import { OperationError, UsageError } from "../../errors.js";
import { isRunLive } from "../../executor/load-run.js";
import { RunPaths, runsDir, writeFileAtomic } from "../../executor/run-store.js";
import { describeKind, type FileKind, targetKindOf } from "../../fs/regular-file.js";
import { shellQuote } from "../../hint/shell-quote.js";
import { REPORT_FILES, readLogTail, reportRedactor } from "../../report/files.js";
import { mergeRunStates } from "../../report/merge.js";
import { refuseOutInsideRecord } from "../../review/report-out.js";
import {
  parseReportFormat,
  REPORT_FORMATS,
  type ReportFormat,
  renderReport,
} from "../../review/reports.js";
import { expandRunFolders, loadRunAt } from "../../review/run-folder.js";
import { chosenRun, namedRun, RUN_OPTION_HELP } from "../run-choice.js";

interface ReportOptions {
  format: string;
  out?: string;
  run?: string;
  /** `report merge`: report the shards given even when others are missing. */
  partial?: boolean;
}

const FORMAT_HELP = `${REPORT_FORMATS.join(", ")}`;

/** `conductor report [run-id]` and `conductor report merge <run folders…>`. */
export function reportCommand(): Command {
  return new Command("report")
    .description("print or write a run's report: JSON summary, JUnit XML or Markdown")
    .argument("[run-id]", "same as --run")
    .option("--run <id>", RUN_OPTION_HELP)
    .option("--format <format>", FORMAT_HELP, "json")
    .option("--out <file>", "write the report to a file instead of printing it")
    .addCommand(mergeCommand())
    .action(async (runId: string | undefined, options: ReportOptions, command: Command) => {
      const format = parseReportFormat(options.format);
      const { root, run: state } = await chosenRun(command, namedRun(runId, options.run), {
        readOnly: true,
      });
      const paths = new RunPaths(root, state.runId);
      const redactor = await reportRedactor(state);
      const text = renderReport(
        state,
        format,
        (workspace, step) => readLogTail(paths.logFile(workspace, step), redactor),
        isRunLive(state),
      );
      await emit(redactor.redact(text), options.out, format, [runsDir(root)]);
    });
}

/** `conductor report merge`: one report from the run folders of a plan's CI shards. */
function mergeCommand(): Command {
  return new Command("merge")
    .description("join the run folders of several shards of one plan into one report")
    .argument(
      "<run-folders...>",
      "run folders (or folders that hold them, as downloaded artifacts)",
    )
    .option("--format <format>", FORMAT_HELP, "json")
    .option("--out <file>", "write the report to a file instead of printing it")
    .option("--partial", "report the shards given even when others of the plan are missing")
    .addHelpText(
      "after",
      "\nEvery folder must come from a shard of the same plan (same plan hash), and every shard of\n" +
        "the plan must be there (a missing one fails the merge, exit 2) unless --partial.\n" +
        "Example: conductor report merge shards/* --format junit --out conductor.xml",
    )
    .action(async (dirs: string[], _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<ReportOptions>();
      const format = parseReportFormat(options.format);
      const folders = await Promise.all(
        expandRunFolders(dirs.map((dir) => path.resolve(dir))).map(loadRunAt),
      );
      const merged = mergeRunStates(
        folders.map((folder) => folder.state),
        { partial: options.partial === true },
      );
      // Each workspace's logs are in the folder of the shard that ran it.
      const folderOf = new Map<string, string>();
      for (const folder of folders) {
        for (const name of Object.keys(folder.state.workspaces)) folderOf.set(name, folder.dir);
      }
      // Shard folders come from other machines: the secrets of this environment only.
      const redactor = await reportRedactor(undefined);
      const text = renderReport(merged, format, (workspace, step) => {
        const dir = folderOf.get(workspace);
        return dir === undefined
          ? undefined
          : readLogTail(path.join(dir, "workspaces", workspace, `${step}.log`), redactor);
      });
      await emit(
        redactor.redact(text),
        options.out,
        format,
        folders.map((folder) => folder.dir),
      );
    });
}

/**
 * Prints the report, or writes it to `out`; never into `recordDirs`, the run folders the report
 * is made from (see {@link refuseOutInsideRecord}).
 */
async function emit(
  text: string,
  out: string | undefined,
  format: ReportFormat,
  recordDirs: readonly string[],
): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  const file = path.resolve(out);
  const kind = await targetKindOf(file);
  if (kind !== "missing" && kind !== "file") {
    throw new UsageError(
      `--out ${out} is ${describeKind(kind)}: give the path of a file to write, e.g. --out ${shellQuote(path.join(out, REPORT_FILES[format]))}`,
    );
  }
  refuseOutInsideRecord(out, recordDirs, REPORT_FILES[format]);
  const blocker = await nonFolderAbove(file);
  if (blocker !== undefined) {
    throw new UsageError(
      `--out ${out}: ${blocker.path} is ${describeKind(blocker.kind)}, not a folder, so nothing can be written in it`,
      { hint: "Give the path of a file in a folder (missing folders are created)." },
    );
  }
  try {
    writeFileAtomic(file, text);
  } catch (error) {
    throw new OperationError(`could not write the report to ${out}: ${(error as Error).message}`);
  }
}

/**
 * The nearest existing path above `file` when it is not a folder (a file where a folder of the
 * path should be): writing would fail on it with a bare EEXIST or ENOTDIR, and the fix is the
 * command line's.
 */
async function nonFolderAbove(file: string): Promise<{ path: string; kind: FileKind } | undefined> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const kind = await targetKindOf(dir);
    if (kind === "directory") return undefined;
    if (kind !== "missing") return { path: dir, kind };
    if (path.dirname(dir) === dir) return undefined;
  }
}
