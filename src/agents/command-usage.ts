import type { TokenUsage } from "../usage/usage.js";

/**
 * How a `command` agent reports the tokens it used: a line on stdout
 *
 *     conductor-usage: {"input_tokens": 1200, "output_tokens": 300, "cached_input_tokens": 200}
 *
 * Each such line adds to the usage of the command's turn (print one per model call), so a budget
 * sees the tokens while the command still runs. `cached_input_tokens` (part of the input) and
 * `reasoning_tokens` (part of the output) are optional.
 */
export const USAGE_LINE_PREFIX = "conductor-usage:";

/** The tokens a usage line reports, or undefined when the line is not one (or is malformed). */
export function parseUsageLine(line: string): TokenUsage | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(USAGE_LINE_PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed.slice(USAGE_LINE_PREFIX.length));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const input = count(fields.input_tokens);
  const output = count(fields.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  return {
    inputTokens: input ?? 0,
    cachedInputTokens: count(fields.cached_input_tokens) ?? 0,
    outputTokens: output ?? 0,
    reasoningTokens: count(fields.reasoning_tokens) ?? 0,
  };
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
