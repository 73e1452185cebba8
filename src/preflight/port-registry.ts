/** The check that the machine-wide port registry can be used: every run reserves ports first. */
import path from "node:path";
import { portRegistryHealth, type RegistryHealth } from "../executor/ports.js";
import { shellCommand } from "../hint/shell-quote.js";
import { type CheckResult, result } from "./check.js";
import { namedFailure, writableFolderCheck } from "./workspaces.js";

/**
 * What stops every run at its ports step, or undefined: something other than a file where the
 * registry goes, or a folder for it that cannot be made (a file named `~/.conductor`). Only read,
 * never made; a damaged registry is rebuilt by the next reservation, so it is no problem here.
 */
export async function portRegistryProblem(
  homeDir: string,
  read?: RegistryHealth,
): Promise<CheckResult | undefined> {
  const check = "port registry";
  const health = read ?? (await portRegistryHealth(homeDir));
  const { file } = health;
  if (health.state === "not-a-file") {
    return result(
      check,
      "fail",
      `${file} is ${health.kind}, not conductor's port registry: every run stops at its ports`,
      shellCommand(["mv", file, `${file}.moved`]),
    );
  }
  if (health.state !== "missing") return undefined;
  const folder = await writableFolderCheck(check, path.dirname(file), undefined);
  return folder.status === "ok" ? undefined : namedFailure(folder);
}
