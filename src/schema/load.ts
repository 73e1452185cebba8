import { readFile, stat } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { type Config, normalizeConfig } from "./config.js";
import { formatKeyPath, type KeyPath, locate } from "./locate.js";
import { checkRules } from "./rules.js";
import { writtenConfigSchema } from "./written.js";
import { explainZodIssues, type PathIssue } from "./zod-issues.js";

/** Largest configuration file accepted; long prompts belong in prompt files. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** A validated configuration together with a way to point at its source. */
export interface LoadedConfig {
  config: Config;
  /** The file as the user named it (used in messages). */
  file: string;
  /** Turns problems found later (by the planner) into located issues of this file. */
  toConfigIssues(problems: readonly PathIssue[]): ConfigIssue[];
}

/**
 * Reads and validates a configuration file; throws {@link ConfigError} listing every problem.
 * `shownAs` is how messages name the file (usually relative to the current folder).
 */
export async function loadConfigFile(file: string, shownAs = file): Promise<LoadedConfig> {
  const problem = await unreadableProblem(file);
  if (problem) {
    const issue = {
      file: shownAs,
      line: undefined,
      column: undefined,
      keyPath: "",
      message: problem,
    };
    throw new ConfigError([issue]);
  }
  return parseConfig(await readFile(file), shownAs);
}

async function unreadableProblem(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return "is not a regular file";
    if (info.size > MAX_CONFIG_BYTES) {
      return `is ${(info.size / 1024 / 1024).toFixed(1)} MiB; a configuration file may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB (put long prompts in prompt_file)`;
    }
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return "does not exist; create one with `conductor init` or name another with -c FILE";
    if (code === "EACCES") return "cannot be read (permission denied)";
    return `cannot be read (${code ?? String(error)})`;
  }
}

/**
 * Parses and validates configuration text. Pure apart from nothing: the caller supplies the bytes.
 * All problems of the file are collected and thrown together.
 */
export function parseConfig(bytes: Uint8Array, file: string): LoadedConfig {
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
  if (nul !== -1 || text.includes("\uFFFD")) {
    const offset =
      nul !== -1 ? new TextDecoder().decode(bytes.subarray(0, nul)).length : text.indexOf("\uFFFD");
    for (const [index, char] of [...text].entries())
      if (char === "\n") lineCounter.addNewLine(index + 1);
    const { line, col } = lineCounter.linePos(offset);
    throw at(
      line,
      col,
      "is not a UTF-8 text file (found a binary byte); conductor.yaml must be YAML text",
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
          message: `YAML syntax error: ${yamlMessage(error.code, error.message)}`,
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
      "is empty; start from `conductor init` or conductor.yaml.example (version: 1, tasks: [...])",
    );
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw at(1, 1, `must be a map of settings (version: 1, tasks: ...), but it is ${kind}`);
  }

  const parsed = writtenConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      toConfigIssues(explainZodIssues(parsed.error.issues, writtenConfigSchema, value)),
    );
  }
  const ruleProblems = checkRules(parsed.data);
  if (ruleProblems.length > 0) throw new ConfigError(toConfigIssues(ruleProblems));
  return { config: normalizeConfig(parsed.data), file, toConfigIssues };
}

function yamlMessage(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "a key appears twice in the same map; keep one";
  if (code === "TAB_AS_INDENT") return "tabs are not allowed for indentation; use spaces";
  return message.split("\n")[0] ?? message;
}
