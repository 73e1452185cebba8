import { unreachable } from "../errors.js";
import type { RunState, Step, WorkspaceState } from "../executor/types.js";
import { runWorkedMs } from "../executor/worked-time.js";
import type { Workspace } from "../planner/types.js";
import { budgetLine, runReason } from "./budget-view.js";
import { cleanText, describeFailure, describeReview, failureLogPath } from "./format.js";

/** How many trailing lines of the failing step's log a JUnit failure carries. */
export const LOG_TAIL_LINES = 50;

/** Options of {@link renderJUnit}. */
export interface JUnitOptions {
  /**
   * Returns the end of a step's log of a workspace, or undefined when there is none. Reading is
   * the caller's business so that rendering stays pure; only the last {@link LOG_TAIL_LINES}
   * lines of what it returns are used.
   */
  readLogTail?: (workspace: string, step: Step) => string | undefined;
  /**
   * The run's conductor is still working (`conductor report` during a run): its running
   * workspaces have not finished yet, rather than been cut off by a killed run.
   */
  live?: boolean;
}

/**
 * JUnit XML of a run, for CI test reports: one `<testsuite name="conductor">`, one `<testcase>`
 * per workspace (classname `conductor.<task id>`). Failed workspaces carry a `<failure>` with the
 * reason as its type and the tail of the failing step's log; skipped and never-started ones
 * `<skipped>`; interrupted ones, running ones of a killed run (did not finish) and of a live one
 * (still running) an `<error>`.
 */
export function renderJUnit(state: RunState, options: JUnitOptions = {}): string {
  const cases = state.plan.workspaces
    .filter((planned) => state.workspaces[planned.name] !== undefined)
    .map((planned) => testCase(planned, state.workspaces[planned.name] as WorkspaceState, options));
  const count = (kind: TestCase["kind"]) => cases.filter((c) => c.kind === kind).length;
  // Time spent working (sessions summed), not the time since the run was created.
  const time = seconds(runWorkedMs(state));
  const counts =
    `tests="${cases.length}" failures="${count("failure")}" errors="${count("error")}" ` +
    `skipped="${count("skipped")}" time="${time}"`;
  const properties = [
    ["run", state.runId],
    ["status", state.status],
    ["plan", state.plan.hash],
    ["base", `${state.plan.base.ref} ${state.plan.base.commit}`],
    ...budgetProperties(state),
  ]
    .map(
      ([name, value]) =>
        `      <property name="${attr(name ?? "")}" value="${attr(value ?? "")}"/>`,
    )
    .join("\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="conductor" ${counts}>`,
    `  <testsuite name="conductor" ${counts} timestamp="${attr(state.createdAt)}">`,
    "    <properties>",
    properties,
    "    </properties>",
    ...cases.map((c) => c.xml),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

interface TestCase {
  kind: "passed" | "failure" | "error" | "skipped";
  xml: string;
}

function testCase(planned: Workspace, workspace: WorkspaceState, options: JUnitOptions): TestCase {
  const open =
    `    <testcase classname="${attr(`conductor.${planned.taskId}`)}" ` +
    `name="${attr(workspace.name)}" time="${seconds(workspace.durationMs ?? 0)}"`;
  const { failure } = workspace;
  const review =
    workspace.review === undefined
      ? ""
      : `      <system-out>${text(`review: ${describeReview(workspace.review)}`)}</system-out>\n`;
  const close = `${review}    </testcase>`;
  switch (workspace.status) {
    case "succeeded":
      return { kind: "passed", xml: review === "" ? `${open}/>` : `${open}>\n${close}` };
    case "failed": {
      const message = failure === undefined ? "failed" : describeFailure(failure);
      const type = failure?.reason ?? "failed";
      const body = failureBody(workspace, options);
      return {
        kind: "failure",
        xml: `${open}>\n      <failure message="${attr(message)}" type="${attr(type)}">${text(body)}</failure>\n${close}`,
      };
    }
    case "interrupted":
    case "running": {
      // A running workspace of a live run (`conductor report` during the run) has not finished
      // yet; in a finished report it belongs to a killed run: it did not finish. Either way an
      // error: CI must not take a run that is not done for a passing one.
      const at = workspace.step === undefined ? "" : workspace.step;
      if (workspace.status === "running" && options.live === true) {
        const message = `still running${at === "" ? "" : ` (in ${at})`} when this report was made`;
        return {
          kind: "error",
          xml: `${open}>\n      <error message="${attr(message)}" type="running"/>\n${close}`,
        };
      }
      const message =
        workspace.status === "interrupted"
          ? `interrupted${at === "" ? "" : ` during ${at}`}`
          : `did not finish${at === "" ? "" : ` (was in ${at})`}`;
      const type = failure?.reason ?? "cancelled";
      return {
        kind: "error",
        xml: `${open}>\n      <error message="${attr(message)}" type="${attr(type)}"/>\n${close}`,
      };
    }
    case "skipped":
    case "pending": {
      const message =
        workspace.status === "pending"
          ? "not started"
          : failure === undefined
            ? "skipped"
            : describeFailure(failure);
      return {
        kind: "skipped",
        xml: `${open}>\n      <skipped message="${attr(message)}"/>\n${close}`,
      };
    }
    default:
      return unreachable(workspace.status);
  }
}

/** `reason budget` and what was spent against the budget, for a run with a budget or prices. */
function budgetProperties(state: RunState): string[][] {
  const line = budgetLine(state, new Date(state.updatedAt));
  const reason = runReason(state);
  return [
    ...(reason === null ? [] : [["reason", reason]]),
    ...(line === undefined ? [] : [["budget", line]]),
  ];
}

/** The failure's reason and message, where its log is, and the tail of that log. */
function failureBody(workspace: WorkspaceState, options: JUnitOptions): string {
  const { failure } = workspace;
  if (failure === undefined) return `${workspace.name} failed`;
  const lines = [`${failure.reason} in ${failure.step}: ${failure.message}`];
  const logPath = failureLogPath(failure);
  if (logPath !== undefined) lines.push(`log: ${logPath}`);
  const tail = options.readLogTail?.(workspace.name, failure.step);
  if (tail !== undefined && tail.trim() !== "") {
    lines.push("", `last lines of the ${failure.step} log:`, lastLines(tail, LOG_TAIL_LINES));
  }
  return lines.join("\n");
}

function lastLines(text: string, count: number): string {
  const lines = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n");
  return lines.slice(-count).join("\n");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * Makes text safe for XML 1.0: terminal escapes and the characters XML cannot carry at all (not
 * even as references) removed. Logs of programs that print binary junk contain them, and a single
 * one makes the whole report unreadable to CI.
 */
export function xmlSafe(value: string): string {
  return cleanText(value);
}

/** Escapes character data (element content). */
function text(value: string): string {
  return xmlSafe(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes an attribute value; whitespace characters become references so parsers keep them. */
function attr(value: string): string {
  return xmlSafe(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}
