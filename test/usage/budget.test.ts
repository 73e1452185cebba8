// Budget accounting is pure: what tokens cost, what was spent, which limit was reached.
import { describe, expect, it } from "vitest";
import { parseUsageLine } from "../../src/agents/command-usage.js";
import { parseTokenCount } from "../../src/schema/token-count.js";
import {
  agentTimeLeftMs,
  costOf,
  describeReached,
  reachedLimit,
  spendingOf,
} from "../../src/usage/budget.js";
import { subtractUsage, type TokenUsage } from "../../src/usage/usage.js";

const usage = (input: number, output: number, cached = 0): TokenUsage => ({
  inputTokens: input,
  cachedInputTokens: cached,
  outputTokens: output,
  reasoningTokens: 0,
});

const PRICE = { input: 2, output: 8, cachedInput: 0.5 };

describe("costOf", () => {
  it("prices cached input at its own price and the rest at the input price", () => {
    // 600k uncached × $2 + 400k cached × $0.5 + 100k output × $8 = 1.2 + 0.2 + 0.8
    expect(costOf(usage(1_000_000, 100_000, 400_000), PRICE)).toBeCloseTo(2.2, 10);
  });
});

describe("spendingOf", () => {
  it("sums tokens, cost and agent time over workspaces", () => {
    const spent = spendingOf(
      [
        { usage: usage(1000, 200), model: "m", agentTimeMs: 5000 },
        { usage: undefined, model: "m", agentTimeMs: 0 },
        { usage: usage(500, 300), model: "m", agentTimeMs: 2000 },
      ],
      { m: PRICE },
    );
    expect(spent.tokens).toBe(2000);
    expect(spent.agentTimeMs).toBe(7000);
    expect(spent.cost).toBeCloseTo((1500 * 2 + 500 * 8) / 1e6, 12);
  });

  it("leaves the cost unknown when a model with tokens has no price", () => {
    const spent = spendingOf([{ usage: usage(10, 1), model: "other", agentTimeMs: 0 }], {
      m: PRICE,
    });
    expect(spent.cost).toBeUndefined();
    expect(spent.tokens).toBe(11);
  });
});

describe("reachedLimit", () => {
  const spent = { tokens: 2000, cost: 0.5, agentTimeMs: 60_000 };
  it("is reached at the limit, not only past it", () => {
    expect(reachedLimit({ tokens: 2000 }, spent)).toEqual({
      limit: "tokens",
      allowed: 2000,
      spent: 2000,
    });
    expect(reachedLimit({ tokens: 2001 }, spent)).toBeUndefined();
  });
  it("checks cost and agent time", () => {
    expect(reachedLimit({ cost: 0.25 }, spent)?.limit).toBe("cost");
    expect(reachedLimit({ agentTimeMs: 30_000 }, spent)?.limit).toBe("agent_time");
    expect(reachedLimit({ cost: 1, agentTimeMs: 120_000 }, spent)).toBeUndefined();
  });
  it("never reaches a cost limit it cannot price", () => {
    expect(reachedLimit({ cost: 0.01 }, { ...spent, cost: undefined })).toBeUndefined();
  });
  it("describes what was spent against the limit", () => {
    expect(describeReached({ limit: "tokens", allowed: 2000, spent: 2100 })).toBe(
      "2.1k of 2k tokens",
    );
    expect(describeReached({ limit: "cost", allowed: 1.5, spent: 1.62 })).toBe("$1.62 of $1.50");
  });
});

describe("agentTimeLeftMs", () => {
  it("divides the time left by the agents running at once", () => {
    expect(
      agentTimeLeftMs({ agentTimeMs: 10_000 }, { tokens: 0, cost: 0, agentTimeMs: 4000 }, 3),
    ).toBe(2000);
    expect(
      agentTimeLeftMs({ agentTimeMs: 10_000 }, { tokens: 0, cost: 0, agentTimeMs: 0 }, 0),
    ).toBeUndefined();
    expect(agentTimeLeftMs({}, { tokens: 0, cost: 0, agentTimeMs: 0 }, 2)).toBeUndefined();
  });
});

describe("usage of a turn", () => {
  it("is the session's usage less what the session had before, never negative", () => {
    expect(subtractUsage(usage(1500, 300), usage(1000, 400))).toEqual(usage(500, 0));
  });
});

describe("token counts as written", () => {
  it("reads 200k, 1.5M and plain numbers", () => {
    expect(parseTokenCount("200k")).toBe(200_000);
    expect(parseTokenCount("1.5M")).toBe(1_500_000);
    expect(parseTokenCount("1200")).toBe(1200);
    expect(parseTokenCount(42)).toBe(42);
  });
});

describe("command agent usage lines", () => {
  it("reads a conductor-usage line and ignores anything else", () => {
    expect(
      parseUsageLine(
        'conductor-usage: {"input_tokens": 1200, "output_tokens": 300, "cached_input_tokens": 200}',
      ),
    ).toEqual(usage(1200, 300, 200));
    expect(parseUsageLine("conductor-usage: not json")).toBeUndefined();
    expect(parseUsageLine('conductor-usage: {"model": "x"}')).toBeUndefined();
    expect(parseUsageLine('echo conductor-usage: {"input_tokens": 1}')).toBeUndefined();
  });
});
