/** Tokens an agent used so far in a workspace (cumulative over turns). */
export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** A usage of zero tokens. */
export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
};

/** Sums token usages field by field. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

/** `a − b` field by field, never below zero: what an invocation added to a session's usage. */
export function subtractUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: Math.max(0, a.inputTokens - b.inputTokens),
    cachedInputTokens: Math.max(0, a.cachedInputTokens - b.cachedInputTokens),
    outputTokens: Math.max(0, a.outputTokens - b.outputTokens),
    reasoningTokens: Math.max(0, a.reasoningTokens - b.reasoningTokens),
  };
}

/**
 * Tokens a usage stands for: input plus output. Cached input is part of input and reasoning part
 * of output in both codex and claude accounting, so adding them would count tokens twice.
 */
export function totalTokens(usage: TokenUsage | undefined): number {
  return usage === undefined ? 0 : usage.inputTokens + usage.outputTokens;
}

/** Compact token count for people: `850`, `12.3k`, `12k`, `4.5M`. */
export function formatTokens(count: number): string {
  if (count < 1000) return String(Math.round(count));
  const [value, suffix] = count < 999_950 ? [count / 1000, "k"] : [count / 1_000_000, "M"];
  // One decimal below 100 (12.3k), none above (123k): the same width as people read them.
  const text = value < 99.95 ? value.toFixed(1) : value.toFixed(0);
  return `${text.replace(/\.0$/, "")}${suffix}`;
}
