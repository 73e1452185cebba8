import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { findRepositoryRoot } from "../../git/facts.js";
import { SCHEMA_FILE } from "../../schema/json-schema.js";
import { globalOptions } from "../global-options.js";
import { PACKAGE_ROOT } from "../package-info.js";
import { CONFIG_FILE_NAME, displayPath, findConfigFile } from "../project.js";

const SCHEMA_LINE = /^# yaml-language-server: \$schema=.*$/m;

/** `conductor init`: writes a commented conductor.yaml from the packaged example. */
export function initCommand(): Command {
  return new Command("init")
    .description(`write a commented ${CONFIG_FILE_NAME} to start from`)
    .option("-f, --force", "overwrite an existing file")
    .action(async (options: { force?: boolean }, command: Command) => {
      const cwd = process.cwd();
      const root = await findRepositoryRoot(cwd);
      const target = findConfigFile(
        cwd,
        undefined,
        globalOptions(command).config ?? path.join(root, CONFIG_FILE_NAME),
      );
      if (existsSync(target) && !options.force) {
        throw new UsageError(`${displayPath(cwd, target)} already exists; not overwriting it`, {
          hint: "Pass --force to replace it, or -c FILE to write elsewhere.",
        });
      }
      const example = await readFile(path.join(PACKAGE_ROOT, "conductor.yaml.example"), "utf8");
      const schema = path.relative(path.dirname(target), path.join(PACKAGE_ROOT, SCHEMA_FILE));
      const text = example.replace(
        SCHEMA_LINE,
        `# yaml-language-server: $schema=${schema.split(path.sep).join("/")}`,
      );
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new UsageError(`cannot write ${displayPath(cwd, target)} (${reason})`, {
          hint: "Name a file in a folder you can write to with -c FILE.",
        });
      }
      process.stdout.write(
        `Wrote ${displayPath(cwd, target)}. Edit its tasks, then run \`conductor validate\` and \`conductor plan\`.\n`,
      );
    });
}
