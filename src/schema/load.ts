import { isUtf8 } from "node:buffer";
import { readFile, stat } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { conductorCommand } from "../hint/command.js";
import { type Config, normalizeConfig } from "./config.js";
import { formatKeyPath, type KeyPath, locate } from "./locate.js";
import { MAX_FLOW_DEPTH, tooDeepAt } from "./nesting.js";
import { NO_REPO_SETTINGS, type RepoSettings } from "./repo-settings.js";
import { checkRules } from "./rules.js";
import { layerRepoSettings, type SettingSource } from "./settings-layers.js";
import { type WrittenConfig, type WrittenTask, writtenConfigSchema } from "./written.js";
import { explainZodIssues, type PathIssue } from "./zod-issues.js";

/**
 * How the config is parsed: without the parser zod compiles for each object schema (with `new
 * Function`) at its first parse, which pays off over many parses. A command parses one file once,
 * and the compiling was half the time of it (a 16-task file: 5.0 ms cold, 2.5 ms without).
 */
const PARSE_ONCE = { jitless: true } as const;

/** Largest configuration file accepted; long prompts belong in prompt files. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** A validated configuration together with a way to point at its source. */
export interface LoadedConfig {
  config: Config;
  /** The file as the user named it (used in messages). */
  file: string;
  /** Turns problems found later (by the planner) into located issues of this file. */
  toConfigIssues(problems: readonly PathIssue[]): ConfigIssue[];
  /**
   * Where the scripts, run mode and copied files came from, when the repository has settings
   * files of its own (empty otherwise: then everything is the config file's).
   */
  sources: SettingSource[];
}

/**
 * Reads and validates a configuration file; throws {@link ConfigError} listing every problem.
 * `shownAs` is how messages name the file (usually relative to the current folder).
 */
export async function loadConfigFile(
  file: string,
  shownAs = file,
  settings: RepoSettings = NO_REPO_SETTINGS,
  fileProblems?: FileProblems,
): Promise<LoadedConfig> {
  const unreadable = await unreadableConfigError(file, shownAs);
  if (unreadable) throw unreadable;
  const { loaded, ruleProblems } = parseLayers(await readFile(file), shownAs, settings);
  // The files the config names (prompt, context, copied files) are looked at also when a rule
  // failed, so that one `validate` lists every path problem, not one kind after the other.
  const found =
    fileProblems === undefined ? [] : await fileProblems(loaded.config, ruleProblems.length > 0);
  const problems = [
    ...ruleProblems,
    ...found.filter(
      (problem) => !ruleProblems.some((rule) => overlaps(rule.keyPath, problem.keyPath)),
    ),
  ];
  if (problems.length > 0) throw new ConfigError(loaded.toConfigIssues(problems));
  return loaded;
}

/**
 * Looks at the files a config names in the repository; its problems are listed with the file's.
 * `rulesFailed`: the file's own rules already failed (what comes before the files, such as the
 * repository's own problems, is then not asked about).
 */
export type FileProblems = (config: Config, rulesFailed: boolean) => Promise<PathIssue[]>;

/**
 * The error {@link loadConfigFile} throws for a file it does not get to parse (missing, not a
 * regular file, unreadable, too large), or undefined when the file can be read.
 */
export async function unreadableConfigError(
  file: string,
  shownAs = file,
): Promise<ConfigError | undefined> {
  const problem = await unreadableProblem(file);
  if (!problem) return undefined;
  // A file too large to read is still a file: point at its start like every content problem.
  const position = problem.tooLarge ? 1 : undefined;
  const issue = {
    file: shownAs,
    line: position,
    column: position,
    keyPath: "",
    message: problem.message,
  };
  return new ConfigError([issue]);
}

async function unreadableProblem(
  file: string,
): Promise<{ message: string; tooLarge?: boolean } | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { message: "is not a regular file" };
    if (info.size > MAX_CONFIG_BYTES) {
      return {
        message: `is ${(info.size / 1024 / 1024).toFixed(1)} MiB; a configuration file may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB (put long prompts in prompt_file)`,
        tooLarge: true,
      };
    }
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return {
        // As the user started conductor (-C, -c): `init` then writes the very file named.
        message: `does not exist; create one with \`${conductorCommand(["init"])}\` or name another with -c FILE`,
      };
    if (code === "EACCES") return { message: "cannot be read (permission denied)" };
    return { message: `cannot be read (${code ?? String(error)})` };
  }
}

/**
 * Parses and validates configuration text. Pure apart from nothing: the caller supplies the bytes.
 * All problems of the file are collected and thrown together.
 */
export function parseConfig(
  bytes: Uint8Array,
  file: string,
  settings: RepoSettings = NO_REPO_SETTINGS,
): LoadedConfig {
  const { loaded, ruleProblems } = parseLayers(bytes, file, settings);
  if (ruleProblems.length > 0) throw new ConfigError(loaded.toConfigIssues(ruleProblems));
  return loaded;
}

/**
 * {@link parseConfig} up to its cross-field rules: throws for a file that fails the schema, and
 * hands back the problems of a file that fails only the rules with its config (normalized all
 * the same), so that the files it names can still be looked at.
 */
function parseLayers(
  bytes: Uint8Array,
  file: string,
  settings: RepoSettings,
): { loaded: LoadedConfig; ruleProblems: PathIssue[] } {
  const at = (line: number | undefined, column: number | undefined, message: string): ConfigError =>
    new ConfigError([{ file, line, column, keyPath: "", message }]);

  if (bytes.byteLength > MAX_CONFIG_BYTES) {
    throw at(
      1,
      1,
      `is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; put long prompts in prompt_file`,
    );
  }
  const nul = bytes.indexOf(0);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const lineCounter = new LineCounter();
  // Invalid UTF-8 decodes to U+FFFD; a U+FFFD written in the file itself is text, not binary.
  const invalid = isUtf8(bytes) ? -1 : text.indexOf("\uFFFD");
  if (nul !== -1 || invalid !== -1) {
    const nulOffset = nul === -1 ? -1 : new TextDecoder().decode(bytes.subarray(0, nul)).length;
    const offset = Math.min(...[nulOffset, invalid].filter((found) => found !== -1));
    // Offsets are UTF-16 positions in `text`, and line 1 starts at 0 (the parser is not run here).
    lineCounter.addNewLine(0);
    for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1))
      lineCounter.addNewLine(index + 1);
    const { line, col } = lineCounter.linePos(offset);
    throw at(
      line,
      col,
      "is not a UTF-8 text file (found a binary byte); conductor.yaml must be YAML text",
    );
  }

  const deep = tooDeepAt(text);
  if (deep !== -1) {
    const before = text.slice(0, deep);
    const line = before.split("\n").length;
    throw at(
      line,
      deep - before.lastIndexOf("\n"),
      `nests lists or maps more than ${MAX_FLOW_DEPTH} levels deep; no conductor.yaml needs that many`,
    );
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return {
          file,
          line,
          column: col,
          keyPath: "",
          message:
            error.code === "MULTIPLE_DOCS"
              ? secondDocument(text, error.pos[0])
              : `YAML syntax error: ${yamlMessage(error.code, error.message)}`,
        };
      }),
    );
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw at(1, 1, `cannot be read as YAML: ${(error as Error).message}`);
  }
  const toConfigIssues = (problems: readonly PathIssue[]): ConfigIssue[] =>
    problems
      .map((problem) => {
        const position = locate(doc, lineCounter, problem.keyPath as KeyPath, problem.at);
        return {
          file,
          line: position.line,
          column: position.column,
          keyPath: formatKeyPath(problem.keyPath),
          message: problem.message,
        };
      })
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));

  if (value === null || value === undefined) {
    throw at(
      1,
      1,
      // `init` refuses a file that exists, empty or not: --force writes the starter in its place.
      `is empty; start from \`${conductorCommand(["init", "--force"])}\` (it writes a starter file in its place) or conductor.yaml.example (version: 1, tasks: [...])`,
    );
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw at(1, 1, `must be a map of settings (version: 1, tasks: ...), but it is ${kind}`);
  }

  const parsed = writtenConfigSchema.safeParse(value, PARSE_ONCE);
  if (!parsed.success) {
    const problems = explainZodIssues(parsed.error.issues, writtenConfigSchema, value);
    // Report every problem of the file in one run: the cross-field rules still check the parts that
    // are valid on their own, wherever the schema had nothing to say.
    const ruleProblems = checkRules(validParts(value as Record<string, unknown>)).filter(
      (rule) => !problems.some((problem) => overlaps(problem.keyPath, rule.keyPath)),
    );
    throw new ConfigError(toConfigIssues([...problems, ...ruleProblems]));
  }
  // The repository's own settings fill what the file leaves out; they were checked when read.
  const layered = layerRepoSettings(parsed.data, settings, file);
  const ruleProblems = checkRules(layered.written);
  const sources = settings.files.length > 0 ? layered.sources : [];
  return {
    loaded: { config: normalizeConfig(layered.written), file, toConfigIssues, sources },
    ruleProblems,
  };
}

/**
 * The fields of a config that fails the schema which are valid on their own, shaped as a written
 * config for {@link checkRules}. Tasks without a valid id are left as holes so indexes still match.
 * An invalid matrix keeps its keys, so templates naming them are not also reported as unknown.
 */
function validParts(value: Record<string, unknown>): WrittenConfig {
  const shape = writtenConfigSchema.shape;
  const tasks: WrittenTask[] = [];
  if (Array.isArray(value.tasks)) {
    value.tasks.forEach((item: unknown, index) => {
      const task = validFields(item, shape.tasks.unwrap().element.shape);
      const matrix = (item as { matrix?: unknown } | null)?.matrix;
      if (task.matrix === undefined && isMap(matrix)) {
        task.matrix = Object.fromEntries(Object.keys(matrix).map((key) => [key, [""]]));
      }
      if (typeof task.id === "string") tasks[index] = task as WrittenTask;
    });
  }
  return {
    ...validFields(value, { env: shape.env }),
    workspaces: validFields(value.workspaces, shape.workspaces.unwrap().shape),
    tasks,
  } as WrittenConfig;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function validFields(value: unknown, shape: Record<string, z.ZodType>): Record<string, unknown> {
  if (!isMap(value)) return {};
  const valid: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // Own keys only: a config key such as `constructor` or `__proto__` must not reach Object's.
    const parsed = Object.hasOwn(shape, key) ? shape[key]?.safeParse(field, PARSE_ONCE) : undefined;
    if (parsed?.success) valid[key] = parsed.data;
  }
  return valid;
}

/** Whether one key path lies within the other (or they are equal). */
function overlaps(a: KeyPath, b: KeyPath): boolean {
  const length = Math.min(a.length, b.length);
  return a.slice(0, length).every((segment, index) => segment === b[index]);
}

/**
 * What is wrong with a file that holds a second YAML document, starting at `offset` (the library's
 * own message sends its programmer to parseAllDocuments). Conductor reads one document.
 */
function secondDocument(text: string, offset: number): string {
  const start = text.startsWith("---", offset)
    ? "a second one starts at this `---`"
    : "a second one starts here, after the `...` that ends the first";
  return `holds more than one YAML document: ${start}; keep one document (move what follows into the first, or delete it)`;
}

function yamlMessage(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "a key appears twice in the same map; keep one";
  if (code === "TAB_AS_INDENT") return "tabs are not allowed for indentation; use spaces";
  return message.split("\n")[0] ?? message;
}
