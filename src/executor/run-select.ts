import { closeSync, openSync, readSync } from "node:fs";
import { StateError } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import { listRunIds, RunPaths, readRunState, resolveRunId } from "./run-store.js";

/** The config file runs of older versions were made from: they did not record it. */
const LEGACY_CONFIG_FILE = "conductor.yaml";

/** Which run a command reads: the one named by `--run`, else the latest of the config in use. */
export interface RunChoice {
  /** `--run <id>` (or a unique prefix of one), when given. */
  run?: string | undefined;
  /** The config file in use, as runs record it (relative to the repository root). */
  configFile: string;
  /** How messages name it (a path that works from the current folder); default: `configFile`. */
  shownAs?: string | undefined;
  /**
   * Told of a run newer than the one chosen whose record cannot be read: it may be the latest
   * run of this file (killed while writing its first event), passed over for an older one.
   */
  onPassedOver?: ((runId: string, chosen: string) => void) | undefined;
}

/**
 * The run a command acts on. An explicit id names any run of the repository; otherwise the
 * latest run made from the config file in use, never another file's run.
 */
export async function chooseRunId(root: string, choice: RunChoice): Promise<string> {
  if (choice.run !== undefined) return resolveRunId(root, choice.run);
  const ids = listRunIds(root);
  let unreadable: string | undefined;
  for (const id of [...ids].reverse()) {
    const configFile = await runConfigFile(root, id);
    if (configFile === choice.configFile) {
      if (unreadable !== undefined) choice.onPassedOver?.(unreadable, id);
      return id;
    }
    if (configFile === undefined) unreadable ??= id;
  }
  // A run whose record cannot be read may well be this file's (a torn or emptied events.jsonl):
  // saying there are no runs would send the user to start one instead of looking at it.
  if (unreadable !== undefined) {
    throw new StateError(
      `there is no readable run of ${choice.shownAs ?? choice.configFile}: run ${unreadable}, the latest whose config file cannot be told, is damaged`,
      {
        hint: `\`${conductorCommand(["status", "--run", unreadable])}\` says what is wrong with its record; \`${conductorCommand(["runs"])}\` lists the readable runs.`,
      },
    );
  }
  if (ids.length === 0) {
    throw new StateError("there are no runs in this repository yet", {
      hint: `Start one with \`${conductorCommand(["run"])}\`.`,
    });
  }
  throw new StateError(
    `there are no runs of ${choice.shownAs ?? choice.configFile} in this repository yet`,
    {
      hint: `\`${conductorCommand(["runs"])}\` lists the ${ids.length === 1 ? "run" : `${ids.length} runs`} of other config files; name one with --run <id>, or start one with \`${conductorCommand(["run"])}\`.`,
    },
  );
}

/** The ids of the runs made from `configFile`, oldest first. */
export async function runIdsOf(root: string, configFile: string): Promise<string[]> {
  const ids: string[] = [];
  for (const id of listRunIds(root)) {
    if ((await runConfigFile(root, id)) === configFile) ids.push(id);
  }
  return ids;
}

/**
 * The config file a run was made from, read from the first event (the start, which carries the
 * plan) without folding the whole log; run.json when there is no log.
 */
export async function runConfigFile(root: string, runId: string): Promise<string | undefined> {
  const paths = new RunPaths(root, runId);
  const first = firstLine(paths.eventsFile);
  let plan: { configFile?: string } | undefined;
  try {
    plan = first === undefined ? undefined : (JSON.parse(first) as { plan?: typeof plan }).plan;
  } catch {
    plan = undefined;
  }
  if (plan === undefined) plan = (await readRunState(paths.stateFile).catch(() => undefined))?.plan;
  if (plan === undefined) return undefined;
  return plan.configFile ?? LEGACY_CONFIG_FILE;
}

/** The first line of a file (read in chunks: a plan can be large), or undefined. */
function firstLine(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      const end = chunk.subarray(0, read).indexOf(0x0a);
      if (end >= 0) {
        chunks.push(Buffer.from(chunk.subarray(0, end)));
        break;
      }
      chunks.push(Buffer.from(chunk.subarray(0, read)));
    }
    const line = Buffer.concat(chunks).toString("utf8");
    return line === "" ? undefined : line;
  } finally {
    closeSync(fd);
  }
}
