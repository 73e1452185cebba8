import { describe, expect, it } from "vitest";
import {
  type CandidateFacts,
  candidatesForJudge,
  parseJudgeAnswer,
  pickedByHand,
  rankCandidates,
  rankFirstPassing,
  validJudgeVerdict,
} from "../../src/selection/rank.js";

const passed = (name: string, diffLines: number, extra: Partial<CandidateFacts> = {}) =>
  ({ name, status: "succeeded", check: "passed", diffLines, ...extra }) as CandidateFacts;
const failed = (name: string, diffLines = 1) =>
  ({ name, status: "failed", check: "failed", diffLines }) as CandidateFacts;

describe("ranking best-of-N candidates", () => {
  it("puts the only candidate that passed its check first, decided by the check", () => {
    const ranking = rankCandidates([failed("fix", 1), passed("fix-2", 50)]);
    expect(ranking.winner).toBe("fix-2");
    expect(ranking.decidedBy).toBe("check");
    expect(ranking.candidates.map((candidate) => candidate.name)).toEqual(["fix-2", "fix"]);
  });

  it("has no winner when no candidate passed", () => {
    const ranking = rankCandidates([failed("fix"), failed("fix-2")]);
    expect(ranking.winner).toBeUndefined();
    expect(ranking.decidedBy).toBeUndefined();
    expect(candidatesForJudge([failed("fix"), failed("fix-2")])).toEqual([]);
  });

  it("asks no judge when one candidate passed", () => {
    expect(candidatesForJudge([failed("fix"), passed("fix-2", 3)])).toEqual([]);
  });

  it("ranks by review verdict and open P0/P1 findings when every passing candidate was reviewed", () => {
    const candidates = [
      passed("fix", 1, { review: { correct: true, openP0P1: 1 } }),
      passed("fix-2", 90, { review: { correct: true, openP0P1: 0 } }),
      passed("fix-3", 1, { review: { correct: false, openP0P1: 0 } }),
    ];
    expect(candidatesForJudge(candidates)).toEqual([]);
    const ranking = rankCandidates(candidates);
    expect(ranking.winner).toBe("fix-2");
    expect(ranking.decidedBy).toBe("review");
    expect(ranking.candidates.map((candidate) => candidate.name)).toEqual([
      "fix-2",
      "fix",
      "fix-3",
    ]);
    expect(ranking.candidates[0]?.summary).toBe("passed check, 0 findings, 90 lines changed");
  });

  it("skips the review criterion when a passing candidate was not reviewed", () => {
    const candidates = [
      passed("fix", 5, { review: { correct: true, openP0P1: 2 } }),
      passed("fix-2", 9),
    ];
    expect(candidatesForJudge(candidates)).toEqual(["fix", "fix-2"]);
    expect(rankCandidates(candidates).winner).toBe("fix");
  });

  it("asks the judge about the candidates the review left tied, and follows its ranking", () => {
    const candidates = [
      passed("fix", 2, { review: { correct: true, openP0P1: 0 } }),
      passed("fix-2", 40, { review: { correct: true, openP0P1: 0 } }),
      passed("fix-3", 1, { review: { correct: true, openP0P1: 3 } }),
    ];
    expect(candidatesForJudge(candidates)).toEqual(["fix", "fix-2"]);
    const ranking = rankCandidates(candidates, {
      winner: "fix-2",
      ranking: ["fix-2", "fix"],
      reasons: "handles empty input",
    });
    expect(ranking.winner).toBe("fix-2");
    expect(ranking.decidedBy).toBe("judge");
    expect(ranking.candidates.map((candidate) => [candidate.name, candidate.judgePlace])).toEqual([
      ["fix-2", 1],
      ["fix", 2],
      ["fix-3", undefined],
    ]);
  });

  it("falls back to the smaller diff without a judge, then to plan order", () => {
    expect(rankCandidates([passed("fix", 30), passed("fix-2", 4)])).toMatchObject({
      winner: "fix-2",
      decidedBy: "diff",
    });
    expect(rankCandidates([passed("fix", 4), passed("fix-2", 4)])).toMatchObject({
      winner: "fix",
      decidedBy: "order",
    });
  });

  it("lets a workspace without a check script win when it succeeded", () => {
    const ranking = rankCandidates([failed("fix"), passed("fix-2", 2, { check: "none" })]);
    expect(ranking.winner).toBe("fix-2");
    expect(ranking.candidates[0]?.summary).toBe("succeeded (no check), 2 lines changed");
  });

  it("picks the first candidate to pass with first-passing", () => {
    const ranking = rankFirstPassing([
      passed("fix", 1, { finishedAt: "2026-12-04T10:00:05.000Z" }),
      passed("fix-2", 9, { finishedAt: "2026-12-04T10:00:01.000Z" }),
      failed("fix-3"),
    ]);
    expect(ranking.winner).toBe("fix-2");
    expect(ranking.decidedBy).toBe("first-passing");
    expect(ranking.candidates.map((candidate) => candidate.name)).toEqual([
      "fix-2",
      "fix",
      "fix-3",
    ]);
  });

  it("puts a hand-picked candidate first, marked manual", () => {
    const automatic = rankCandidates([passed("fix", 1), passed("fix-2", 9)]);
    const picked = pickedByHand(automatic, "fix-2");
    expect(picked.winner).toBe("fix-2");
    expect(picked.decidedBy).toBe("manual");
    expect(picked.candidates.map((candidate) => candidate.name)).toEqual(["fix-2", "fix"]);
  });
});

describe("the judge's answer", () => {
  const asked = ["fix", "fix-2"];

  it("is read from the whole text, the last JSON line or a fenced block", () => {
    const json = '{"winner":"fix","ranking":["fix","fix-2"],"reasons":"r"}';
    expect(parseJudgeAnswer(json)).toEqual(JSON.parse(json));
    expect(parseJudgeAnswer(`thinking…\n${json}\n`)).toEqual(JSON.parse(json));
    expect(parseJudgeAnswer(`Here:\n\`\`\`json\n${json}\n\`\`\``)).toEqual(JSON.parse(json));
    expect(parseJudgeAnswer("no json here")).toBeUndefined();
  });

  it("must name a winner among the candidates asked about", () => {
    expect(validJudgeVerdict({ winner: "fix", ranking: ["fix"], reasons: "ok" }, asked)).toEqual({
      verdict: { winner: "fix", ranking: ["fix"], reasons: "ok" },
    });
    expect(validJudgeVerdict({ winner: "other", ranking: [], reasons: "" }, asked)).toEqual({
      problem: 'winner "other" is not one of fix, fix-2',
    });
    expect(validJudgeVerdict({ winner: "fix", ranking: ["fix-9"] }, asked)).toEqual({
      problem: 'ranking names "fix-9", which is not one of fix, fix-2',
    });
    expect(validJudgeVerdict(undefined, asked)).toEqual({
      problem: "the answer is not a JSON object",
    });
    expect(validJudgeVerdict({ ranking: [] }, asked)).toEqual({
      problem: "winner is not a string",
    });
  });
});
