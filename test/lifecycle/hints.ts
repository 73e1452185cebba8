import { mkdir, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { LAUNCHER } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git-repo.js";

/** The commands a text prints between backticks that start with `conductor ` (or `npx conductor `). */
export function printedCommands(text: string): string[] {
  return [...text.matchAll(/`((?:npx )?conductor [^`]+)`/g)].map((match) => match[1] as string);
}

/**
 * Runs a printed command as a person pastes it into a shell in `cwd`: `conductor` on the PATH is
 * the package's bin/conductor, linked as npm links it.
 */
export async function runAsPrinted(
  command: string,
  options: { cwd: string; home: string },
): Promise<{ exitCode: number; all: string; stdout: string; stderr: string }> {
  const bin = path.join(options.home, "bin");
  await mkdir(bin, { recursive: true });
  const link = path.join(bin, "conductor");
  await rm(link, { force: true });
  await symlink(LAUNCHER, link);
  const result = await execa("sh", ["-c", command], {
    cwd: options.cwd,
    reject: false,
    all: true,
    env: {
      ...gitEnv(options.home),
      CI: "1",
      NO_COLOR: "1",
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    },
  });
  return {
    exitCode: result.exitCode ?? -1,
    all: result.all as string,
    stdout: result.stdout as string,
    stderr: result.stderr as string,
  };
}
