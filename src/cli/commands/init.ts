import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { entryExists } from "../../fs/entry-exists.js";
import { isInside } from "../../fs/is-inside.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { conductorCommand, currentInvocation } from "../../hint/command.js";
import { type SchemaReference, starterConfig } from "../../init/starter-config.js";
import { surveyRepository } from "../../init/survey.js";
import { SCHEMA_FILE } from "../../schema/json-schema.js";
import { globalOptions } from "../global-options.js";
import { PACKAGE_ROOT, packageName } from "../package-info.js";
import { CONFIG_FILE_NAME, displayPath, findConfigFile } from "../project.js";

/** `conductor init`: writes a commented conductor.yaml that fits the repository it is run in. */
export function initCommand(): Command {
  return new Command("init")
    .description(
      `write a commented ${CONFIG_FILE_NAME} for this repository (install command, check scripts and gitignored .env files it finds)`,
    )
    .option("-f, --force", "overwrite an existing file")
    .action(async (options: { force?: boolean }, command: Command) => {
      const cwd = process.cwd();
      const root = await findRepositoryRoot(cwd);
      const written = globalOptions(command).config;
      const target = findConfigFile(cwd, undefined, written ?? path.join(root, CONFIG_FILE_NAME));
      // lstat, not existsSync: a dangling symbolic link is there too, and writing through it
      // would create a file wherever it points, outside the repository as likely as not.
      if (entryExists(target) && !options.force) {
        throw new UsageError(`${displayPath(cwd, target)} already exists; not overwriting it`, {
          hint: "Pass --force to replace it, or -c FILE to write elsewhere.",
        });
      }
      const name = packageName();
      const survey = await surveyRepository(root, name);
      const installedHere = survey.dependsOnConductor || isInside(root, PACKAGE_ROOT);
      const schema = schemaReference(root, target, name, survey.dependsOnConductor);
      const text = starterConfig(survey, schema);
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new UsageError(`cannot write ${displayPath(cwd, target)} (${reason})`, {
          hint: "Name a file in a folder you can write to with -c FILE.",
        });
      }
      // The next steps as commands that work from here: with the -C/-c given, and through npx
      // when conductor is a dependency of this repository rather than on PATH (unless the
      // hints already say npx, as they do when npx started this conductor).
      const npx = installedHere && currentInvocation().program === undefined;
      const next = (name: string) => `${npx ? "npx " : ""}${conductorCommand([name])}`;
      process.stdout.write(
        `Wrote ${displayPath(cwd, target)}. Edit its tasks, then run \`${next("validate")}\` and \`${next("plan")}\`.\n`,
      );
    });
}

/**
 * A schema path that works on every clone: into this repository's node_modules when conductor
 * is a dependency (declared or installed), into conductor itself when this is its repository, relative to the new file. Never an absolute or
 * machine-specific path; undefined when conductor lives outside the repository.
 */
function schemaReference(
  root: string,
  target: string,
  name: string,
  declared: boolean,
): SchemaReference {
  const dependency = path.join(root, "node_modules", name);
  const packageRoot =
    declared || existsSync(dependency)
      ? dependency
      : isInside(root, PACKAGE_ROOT)
        ? PACKAGE_ROOT
        : undefined;
  if (packageRoot === undefined) return undefined;
  const relative = path.relative(path.dirname(target), path.join(packageRoot, SCHEMA_FILE));
  return { path: relative.split(path.sep).join("/") };
}
