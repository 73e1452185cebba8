/**
 * The message of the commits conductor makes on a workspace branch: a subject people can scan in
 * `git log --oneline` (the task id and a short summary of the instructions), and trailers that
 * tie the commit to its run and say whether it passed its check, so `git log` tells a failed
 * commit from a good one.
 */

/** Longest subject line (git's convention). */
const SUBJECT_LENGTH = 72;

/** Names of conductor's trailers, in the order they are written. */
export const TRAILERS = {
  run: "Conductor-Run",
  task: "Conductor-Task",
  workspace: "Conductor-Workspace",
  check: "Conductor-Check",
} as const;

/** The check's verdict as a trailer states it. */
export type CheckTrailer = "passed" | "failed" | "none";

/** What a commit message is made of. */
export interface CommitMessageInput {
  taskId: string;
  workspace: string;
  runId: string;
  /** The instructions of the turn being committed: the task's prompt or a follow-up's. */
  instructions: string;
  /** The verdict of the check that ran on exactly this work. */
  check: CheckTrailer;
}

/** `<task>: <summary>`, a blank line, then the trailers. */
export function commitMessage(input: CommitMessageInput): string {
  const summary = summarize(input.instructions, SUBJECT_LENGTH - input.taskId.length - 2);
  const subject = summary === "" ? input.taskId : `${input.taskId}: ${summary}`;
  const trailers = [
    `${TRAILERS.run}: ${input.runId}`,
    `${TRAILERS.task}: ${input.taskId}`,
    `${TRAILERS.workspace}: ${input.workspace}`,
    `${TRAILERS.check}: ${input.check}`,
  ];
  return `${subject}\n\n${trailers.join("\n")}\n`;
}

/**
 * A one-line summary of instructions: their first line with text, without Markdown heading,
 * list or quote marks and a final full stop, starting in lower case after the task id ("Make"
 * becomes "make", "README" stays), cut at a word boundary to at most `max` characters.
 */
export function summarize(instructions: string, max: number): string {
  const first =
    instructions
      .split(/\r?\n/)
      .map(clean)
      .find((line) => line !== "") ?? "";
  const text = first.replace(/[.;:,]+$/, "").replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());
  if (text.length <= max) return text;
  const room = text.slice(0, Math.max(1, max - 1));
  const boundary = text[room.length] === " " ? room.length : room.lastIndexOf(" ");
  // A single very long word (a URL) is cut where it must be.
  const cut = boundary >= room.length / 2 ? room.slice(0, boundary) : room;
  return `${cut.replace(/[\s.;:,([{'"`-]+$/, "")}…`;
}

/** Whether a commit message carries the trailers of this run's workspace. */
export function isCommitOf(message: string, runId: string, workspace: string): boolean {
  const lines = new Set(message.split("\n").map((line) => line.trim()));
  return lines.has(`${TRAILERS.run}: ${runId}`) && lines.has(`${TRAILERS.workspace}: ${workspace}`);
}

/** The verdict a commit's `Conductor-Check` trailer states, or undefined when it has none. */
export function checkTrailerOf(message: string): CheckTrailer | undefined {
  const prefix = `${TRAILERS.check}: `;
  const value = message
    .split("\n")
    .map((line) => line.trim())
    .findLast((line) => line.startsWith(prefix))
    ?.slice(prefix.length);
  return value === "passed" || value === "failed" || value === "none" ? value : undefined;
}

function clean(line: string): string {
  return (
    line
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters never belong in a subject
      .replace(/[\u0000-\u001f\u007f]/g, " ")
      .replace(/^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d+[.)]\s+)+/, "")
      .replace(/\s+/g, " ")
      .trim()
  );
}
