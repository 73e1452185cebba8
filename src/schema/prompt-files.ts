import { realpathSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { LINKS_OUTSIDE, realPlaceOf } from "../fs/real-place.js";
import type { Config } from "./config.js";
import type { PathIssue } from "./zod-issues.js";

/** Largest prompt file accepted. */
export const MAX_PROMPT_BYTES = 4 * 1024 * 1024;

/**
 * Reads every `prompt_file` of the config, relative to the repository root. A file must be a
 * regular text file inside the repository (after following symlinks); directories, fifos and
 * devices are refused without being opened, so a fifo can never block conductor.
 */
export async function readPromptFiles(
  config: Config,
  root: string,
): Promise<{ contents: Record<string, string>; problems: PathIssue[] }> {
  const contents: Record<string, string> = {};
  const problems: PathIssue[] = [];
  const realRoot = realpathSync.native(root);
  for (const [index, task] of config.tasks.entries()) {
    if (task.prompt.kind !== "file" || task.prompt.path in contents) continue;
    const written = task.prompt.path;
    const result = await readOne(realRoot, path.resolve(root, written));
    if ("problem" in result) {
      problems.push({
        keyPath: ["tasks", index, "prompt_file"],
        at: "value",
        message: `"${written}" ${result.problem}`,
      });
    } else {
      contents[written] = result.text;
    }
  }
  return { contents, problems };
}

async function readOne(
  realRoot: string,
  file: string,
): Promise<{ text: string } | { problem: string }> {
  const place = realPlaceOf(realRoot, file);
  if (place === undefined) {
    return { problem: "does not exist; prompt_file paths are relative to the repository root" };
  }
  if (!place.inside) return { problem: LINKS_OUTSIDE };
  const real = place.real;
  const info = await stat(real);
  if (!info.isFile())
    return {
      problem: `is not a regular file (${info.isDirectory() ? "a directory" : "a special file"})`,
    };
  if (info.size > MAX_PROMPT_BYTES)
    return { problem: `is larger than ${MAX_PROMPT_BYTES / 1024 / 1024} MiB` };
  const handle = await open(real, "r");
  try {
    const bytes = await handle.readFile();
    if (bytes.includes(0)) return { problem: "is not a text file" };
    return { text: bytes.toString("utf8") };
  } finally {
    await handle.close();
  }
}
