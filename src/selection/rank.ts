/**
 * Ranking the candidates of a task that picks a winner (`select: best | first-passing`). Pure:
 * the executor gathers the facts and runs the judge; everything decided from them is here.
 * Order of criteria: the check passed; the review's verdict and open P0/P1 findings (when every
 * passing candidate was reviewed); the judge's ranking; the smaller diff; plan order.
 */

/** What the ranking knows of one candidate workspace. */
export interface CandidateFacts {
  name: string;
  /** Where the workspace ended: only `succeeded` can win. */
  status: "pending" | "running" | "succeeded" | "failed" | "skipped" | "interrupted";
  /** The check's result; `none` without a check script. */
  check: "passed" | "failed" | "none" | undefined;
  /** Lines changed on its branch against its start (insertions + deletions); undefined: unknown. */
  diffLines: number | undefined;
  /** The review's verdict, when `conductor review` ran on it. */
  review?: { correct: boolean | undefined; openP0P1: number } | undefined;
  /** When it finished (ISO time), for `first-passing`. */
  finishedAt?: string | undefined;
}

/** The judge's answer, as its JSON schema asks for it. */
export interface JudgeVerdict {
  winner: string;
  ranking: string[];
  reasons: string;
}

/** The criterion that separated the winner from the runner-up. */
export type DecidedBy =
  /** Only one candidate passed. */
  | "check"
  | "review"
  | "judge"
  | "diff"
  /** Everything else tied: the earlier workspace of the plan. */
  | "order"
  /** `first-passing`: the first candidate to pass. */
  | "first-passing"
  /** Picked by hand (`conductor pick`). */
  | "manual";

/** One candidate's place in the ranking, with what it was ranked by. */
export interface RankedCandidate {
  name: string;
  passed: boolean;
  /** One line: `passed check, 0 findings, judge #1, +12 −1`. */
  summary: string;
  /** 1-based place the judge gave it, when a judge ranked it. */
  judgePlace?: number;
}

/** The outcome of ranking: candidates best first, and the winner (none when nobody passed). */
export interface Ranking {
  candidates: RankedCandidate[];
  winner: string | undefined;
  decidedBy: DecidedBy | undefined;
}

/** Whether a candidate may win: its workspace succeeded (so its check, if any, passed). */
export function passedCandidate(candidate: CandidateFacts): boolean {
  return candidate.status === "succeeded" && candidate.check !== "failed";
}

/** Whether the review criterion applies: every passing candidate was reviewed. */
function reviewApplies(candidates: readonly CandidateFacts[]): boolean {
  const passing = candidates.filter(passedCandidate);
  return passing.length > 0 && passing.every((candidate) => candidate.review !== undefined);
}

type Compare = (a: CandidateFacts, b: CandidateFacts) => number;

const byCheck: Compare = (a, b) => Number(passedCandidate(b)) - Number(passedCandidate(a));

/** A correct verdict first, an incorrect one last; then fewer open P0/P1 findings. */
const byReview: Compare = (a, b) => {
  const verdict = (candidate: CandidateFacts) =>
    candidate.review?.correct === true ? 0 : candidate.review?.correct === false ? 2 : 1;
  return verdict(a) - verdict(b) || (a.review?.openP0P1 ?? 0) - (b.review?.openP0P1 ?? 0);
};

const byDiff: Compare = (a, b) =>
  (a.diffLines ?? Number.MAX_SAFE_INTEGER) - (b.diffLines ?? Number.MAX_SAFE_INTEGER);

/**
 * The passing candidates still tied after the check and review criteria: the ones a judge must
 * tell apart. Fewer than two means no judge is needed.
 */
export function candidatesForJudge(candidates: readonly CandidateFacts[]): string[] {
  const passing = candidates.filter(passedCandidate);
  if (passing.length < 2) return [];
  const useReview = reviewApplies(candidates);
  const best = [...passing].sort((a, b) => (useReview ? byReview(a, b) : 0))[0] as CandidateFacts;
  const tied = passing.filter((candidate) => !useReview || byReview(candidate, best) === 0);
  return tied.length < 2 ? [] : tied.map((candidate) => candidate.name);
}

/**
 * Ranks the candidates (given in plan order) by every criterion in turn; `judge` is the judge's
 * valid answer about the candidates {@link candidatesForJudge} named, when it gave one.
 */
export function rankCandidates(
  candidates: readonly CandidateFacts[],
  judge?: JudgeVerdict | undefined,
): Ranking {
  const useReview = reviewApplies(candidates);
  const place = judgePlaces(judge);
  const byJudge: Compare = (a, b) =>
    (place.get(a.name) ?? Number.MAX_SAFE_INTEGER) - (place.get(b.name) ?? Number.MAX_SAFE_INTEGER);
  const order = new Map(candidates.map((candidate, index) => [candidate.name, index]));
  const byOrder: Compare = (a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0);
  const criteria: [DecidedBy, Compare][] = [
    ["check", byCheck],
    ...(useReview ? [["review", byReview] as [DecidedBy, Compare]] : []),
    ["judge", byJudge],
    ["diff", byDiff],
    ["order", byOrder],
  ];
  const sorted = [...candidates].sort((a, b) => {
    for (const [, compare] of criteria) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  });
  const [first, second] = sorted;
  const winner = first !== undefined && passedCandidate(first) ? first : undefined;
  let decidedBy: DecidedBy | undefined;
  if (winner !== undefined) {
    decidedBy =
      second === undefined
        ? "check"
        : criteria.find(([, compare]) => compare(winner, second) !== 0)?.[0];
  }
  return {
    candidates: sorted.map((candidate) => ranked(candidate, useReview, place.get(candidate.name))),
    winner: winner?.name,
    decidedBy,
  };
}

/** `first-passing`: the candidate that passed first wins; the rest are ranked as for `best`. */
export function rankFirstPassing(candidates: readonly CandidateFacts[]): Ranking {
  const passing = candidates
    .filter(passedCandidate)
    .sort((a, b) => (a.finishedAt ?? "").localeCompare(b.finishedAt ?? ""));
  const first = passing[0];
  const rest = rankCandidates(candidates);
  if (first === undefined) return rest;
  const winner = rest.candidates.find((candidate) => candidate.name === first.name);
  return {
    candidates: [
      ...(winner ? [winner] : []),
      ...rest.candidates.filter((candidate) => candidate.name !== first.name),
    ],
    winner: first.name,
    decidedBy: "first-passing",
  };
}

/** The ranking after a manual pick: the picked candidate first, the others as they were. */
export function pickedByHand(ranking: Ranking, name: string): Ranking {
  const picked = ranking.candidates.find((candidate) => candidate.name === name);
  return {
    candidates: [
      ...(picked ? [picked] : []),
      ...ranking.candidates.filter((candidate) => candidate.name !== name),
    ],
    winner: name,
    decidedBy: "manual",
  };
}

function judgePlaces(judge: JudgeVerdict | undefined): Map<string, number> {
  const places = new Map<string, number>();
  if (judge === undefined) return places;
  const order = [judge.winner, ...judge.ranking.filter((name) => name !== judge.winner)];
  order.forEach((name, index) => {
    if (!places.has(name)) places.set(name, index + 1);
  });
  return places;
}

function ranked(
  candidate: CandidateFacts,
  useReview: boolean,
  judgePlace: number | undefined,
): RankedCandidate {
  const parts = [checkLabel(candidate)];
  if (useReview && candidate.review !== undefined) {
    const { correct, openP0P1 } = candidate.review;
    parts.push(
      `${openP0P1} finding${openP0P1 === 1 ? "" : "s"}${correct === false ? " (patch incorrect)" : ""}`,
    );
  }
  if (judgePlace !== undefined) parts.push(`judge #${judgePlace}`);
  if (candidate.diffLines !== undefined)
    parts.push(`${candidate.diffLines} line${candidate.diffLines === 1 ? "" : "s"} changed`);
  return {
    name: candidate.name,
    passed: passedCandidate(candidate),
    summary: parts.join(", "),
    ...(judgePlace === undefined ? {} : { judgePlace }),
  };
}

function checkLabel(candidate: CandidateFacts): string {
  // A first-passing pick does not wait for the others: the label is kept with the ranking and
  // read after they finished, so it says it was true at the pick.
  if (candidate.status === "running" || candidate.status === "pending")
    return `${candidate.status === "running" ? "still running" : "not started"} when picked`;
  if (candidate.status !== "succeeded")
    return candidate.check === "failed" ? "failed check" : candidate.status;
  return candidate.check === "none" ? "succeeded (no check)" : "passed check";
}

/**
 * Checks a judge's parsed JSON against the candidates it was asked about; returns the verdict
 * or why it is not one.
 */
export function validJudgeVerdict(
  value: unknown,
  asked: readonly string[],
): { verdict: JudgeVerdict } | { problem: string } {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { problem: "the answer is not a JSON object" };
  const record = value as Record<string, unknown>;
  if (typeof record.winner !== "string") return { problem: "winner is not a string" };
  if (!asked.includes(record.winner))
    return { problem: `winner "${record.winner}" is not one of ${asked.join(", ")}` };
  if (!Array.isArray(record.ranking) || record.ranking.some((name) => typeof name !== "string"))
    return { problem: "ranking is not a list of workspace names" };
  const unknown = (record.ranking as string[]).find((name) => !asked.includes(name));
  if (unknown !== undefined)
    return { problem: `ranking names "${unknown}", which is not one of ${asked.join(", ")}` };
  const reasons = typeof record.reasons === "string" ? record.reasons : "";
  return {
    verdict: { winner: record.winner, ranking: record.ranking as string[], reasons },
  };
}

/**
 * The JSON value in a judge's answer: the whole text, else the last line that is a JSON object,
 * else the text inside a ```json fence.
 */
export function parseJudgeAnswer(text: string): unknown {
  const attempts = [
    text.trim(),
    ...text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("{"))
      .reverse(),
    /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1]?.trim() ?? "",
  ];
  for (const attempt of attempts) {
    if (attempt === "") continue;
    try {
      return JSON.parse(attempt);
    } catch {
      // try the next shape
    }
  }
  return undefined;
}
