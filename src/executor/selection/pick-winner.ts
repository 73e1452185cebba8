import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { branchValues, moveBranch } from "../../git/branch-move.js";
import { gitMessage } from "../../git/worktree.js";
import type { TaskSelection } from "../../planner/types.js";
import {
  candidatesForJudge,
  type Ranking,
  rankCandidates,
  rankFirstPassing,
} from "../../selection/rank.js";
import type { JudgeRecord, SelectionRecord } from "../events.js";
import { redactRecord } from "../redact-event.js";
import type { RunContext } from "../workspace-runner.js";
import { candidateFacts } from "./facts.js";
import { runJudge, selectionDir } from "./judge.js";

/**
 * Picks the winner of a task's candidates and records it (`selection.made`): ranks them, asks
 * a judge when the check and review leave a tie, then gives the winner's branch the task's plain
 * name. Interrupted while the judge runs, no pick is recorded (only what the judge spent): a
 * resume picks again.
 */
export async function pickWinner(
  run: RunContext,
  selection: TaskSelection,
  signal: AbortSignal,
): Promise<void> {
  const facts = await candidateFacts(run.recorder.state, selection, run.reviewOf);
  let ranking: Ranking;
  let judge: JudgeRecord | undefined;
  if (selection.mode === "first-passing") {
    ranking = rankFirstPassing(facts);
  } else {
    const asked = candidatesForJudge(facts);
    const outcome = asked.length < 2 ? undefined : await runJudge(run, selection, asked, signal);
    if (outcome?.cancelled) return;
    judge = outcome?.record;
    ranking = rankCandidates(facts, outcome?.verdict);
  }
  const record: SelectionRecord = {
    task: selection.taskId,
    winner: ranking.winner,
    ranking,
    manual: false,
    ...(judge === undefined ? {} : { judge }),
  };
  if (ranking.winner === undefined) record.note = "no candidate passed";
  else Object.assign(record, await takePlainBranch(run, selection, ranking.winner, undefined));
  await saveRanking(run.paths.dir, record, (text) => run.secrets.redact(text));
  run.recorder.emit({ type: "selection.made", ...record });
}

/**
 * Moves the winner's branch to the task's plain branch name; a previous winner (a manual pick
 * overriding it) first gets its own name back. Returns the branch it now has, or why it kept its
 * own.
 */
export async function takePlainBranch(
  run: Pick<RunContext, "plan" | "queue"> & Partial<Pick<RunContext, "refLedger" | "recorder">>,
  selection: TaskSelection,
  winner: string,
  previousWinner: string | undefined,
): Promise<Pick<SelectionRecord, "branch" | "note">> {
  const plain = selection.branch;
  if (plain === undefined) return {};
  const own = (name: string) =>
    selection.candidates.find((candidate) => candidate.name === name)?.branch as string;
  const root = run.plan.repo.root;
  try {
    const moves: [string, string][] = [];
    if (previousWinner !== undefined && previousWinner !== winner)
      moves.push([plain, own(previousWinner)]);
    if (previousWinner !== winner) moves.push([own(winner), plain]);
    if (moves.length === 0) return { branch: plain };
    const move = async () => {
      for (const [from, to] of moves) await moveBranch(root, from, to);
    };
    await run.queue.run(() => {
      const ledger = run.refLedger;
      if (ledger === undefined) return move();
      // Agents may be running: their checks must know these moves for conductor's. Each branch
      // is expected at the commit its workspace recorded, never at what is found there.
      const recorded = (name: string) => {
        const state = run.recorder?.state.workspaces[name];
        return state?.commit ?? state?.startCommit;
      };
      const holds = new Map<string, string | undefined>([[own(winner), recorded(winner)]]);
      if (previousWinner !== undefined) holds.set(plain, recorded(previousWinner));
      for (const [from, to] of moves) {
        holds.set(to, holds.get(from));
        holds.set(from, undefined);
      }
      const expected = new Map([...holds].map(([name, value]) => [`refs/heads/${name}`, value]));
      return ledger.movingBranches(move, expected, () => branchValues(root, moves.flat()));
    });
    return { branch: plain };
  } catch (error) {
    return {
      note: `${winner} keeps its branch ${own(winner)}: it could not take ${plain} (${gitMessage(error)})`,
    };
  }
}

/**
 * `selections/<task>/ranking.json`: the ranking as decided, for people and tools, through
 * `redact` (the judge's reasons may quote a secret).
 */
export async function saveRanking(
  runDir: string,
  record: SelectionRecord,
  redact: (text: string) => string,
): Promise<void> {
  const dir = selectionDir(runDir, record.task);
  await mkdir(dir, { recursive: true });
  const redacted = redactRecord(record, redact);
  await writeFile(path.join(dir, "ranking.json"), `${JSON.stringify(redacted, null, 2)}\n`);
}
