import { describe, expect, it } from "vitest";
import type { Step } from "../../src/executor/types.js";
import { LOG_TAIL_LINES, renderJUnit, xmlSafe } from "../../src/report/junit.js";
import {
  FIX_BUG_LOG,
  foldRun,
  makePlan,
  mixedRun,
  runEvents,
  SECRET,
  toEvents,
  workspaceEvents,
} from "./fixtures.js";

/** An element of the tiny XML reader below. */
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: what XML 1.0 forbids
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes references, refusing a bare `&` (which makes a document not well-formed). */
function decode(raw: string): string {
  if (raw.replace(ENTITY, "").includes("&")) throw new Error(`bare & in ${JSON.stringify(raw)}`);
  return raw.replace(ENTITY, (_match, name: string, dec: string, hex: string) =>
    name !== undefined
      ? (NAMED[name] as string)
      : String.fromCodePoint(dec ? Number(dec) : Number.parseInt(hex, 16)),
  );
}

/**
 * A small well-formedness checker and reader: one root, tags nested and closed in order, quoted
 * attributes without duplicates, valid references, no characters XML 1.0 forbids.
 */
function parseXml(xml: string): XmlElement {
  if (FORBIDDEN.test(xml)) throw new Error("forbidden character");
  let rest = xml.replace(/^<\?xml [^?]*\?>/, "");
  const root: XmlElement = { name: "#document", attributes: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  while (rest.length > 0) {
    const top = stack.at(-1) as XmlElement;
    if (rest.startsWith("</")) {
      const match = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(rest);
      if (!match || match[1] !== top.name)
        throw new Error(`bad closing tag at ${rest.slice(0, 30)}`);
      stack.pop();
      rest = rest.slice(match[0].length);
    } else if (rest.startsWith("<")) {
      const match = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/.exec(rest);
      if (!match) throw new Error(`bad tag at ${rest.slice(0, 40)}`);
      const element: XmlElement = {
        name: match[1] as string,
        attributes: {},
        children: [],
        text: "",
      };
      for (const [, key, value] of (match[2] ?? "").matchAll(/([A-Za-z_][\w.-]*)="([^"<]*)"/g)) {
        if (key === undefined || value === undefined) continue;
        if (key in element.attributes) throw new Error(`duplicate attribute ${key}`);
        element.attributes[key] = decode(value);
      }
      if (top === root && root.children.length > 0) throw new Error("more than one root element");
      top.children.push(element);
      if (match[3] !== "/") stack.push(element);
      rest = rest.slice(match[0].length);
    } else {
      const end = rest.indexOf("<");
      const raw = end === -1 ? rest : rest.slice(0, end);
      if (top === root && raw.trim() !== "") throw new Error("text outside the root element");
      if (raw.includes("]]>")) throw new Error("]]> in text");
      top.text += decode(raw);
      rest = end === -1 ? "" : rest.slice(end);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  const [only] = root.children;
  if (only === undefined) throw new Error("no root element");
  return only;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [
    ...(child.name === name ? [child] : []),
    ...all(child, name),
  ]);
}

function testCases(xml: string): Map<string, XmlElement> {
  return new Map(all(parseXml(xml), "testcase").map((c) => [c.attributes.name as string, c]));
}

describe("JUnit XML", () => {
  it("is well-formed, with one conductor suite whose counts match its test cases", () => {
    const xml = renderJUnit(mixedRun());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    const root = parseXml(xml);
    expect(root.name).toBe("testsuites");
    const suites = all(root, "testsuite");
    expect(suites).toHaveLength(1);
    const suite = suites[0] as XmlElement;
    expect(suite.attributes.name).toBe("conductor");
    const cases = all(suite, "testcase");
    expect(cases).toHaveLength(7);
    for (const holder of [root, suite]) {
      expect(holder.attributes).toMatchObject({
        tests: String(cases.length),
        failures: String(all(suite, "failure").length),
        errors: String(all(suite, "error").length),
        skipped: String(all(suite, "skipped").length),
        time: "15.001",
      });
    }
    expect(suite.attributes).toMatchObject({ failures: "2", errors: "1", skipped: "0" });
    expect(suite.attributes.timestamp).toBe("2026-01-01T10:00:00.000Z");
  });

  it("has one test case per workspace, named after it, classed by task, timed in seconds", () => {
    const cases = testCases(renderJUnit(mixedRun()));
    expect([...cases.keys()]).toEqual(makePlan().workspaces.map((w) => w.name));
    expect(cases.get("add-auth")?.attributes).toEqual({
      classname: "conductor.add-auth",
      name: "add-auth",
      time: "7.000",
    });
    expect(cases.get("add-auth")?.children).toEqual([]);
    expect(cases.get("refactor-model-o4-mini")?.attributes.classname).toBe("conductor.refactor");
    expect(cases.get("fix-bug-2")?.attributes).toMatchObject({
      classname: "conductor.fix-bug",
      time: "4.500",
    });
  });

  it("gives failed workspaces a failure with the reason and the tail of the failing step's log", () => {
    const asked: [string, Step][] = [];
    const log = Array.from({ length: 200 }, (_, index) => `log line ${index + 1}`).join("\n");
    const xml = renderJUnit(mixedRun(), {
      readLogTail: (workspace, step) => {
        asked.push([workspace, step]);
        return workspace === "fix-bug" ? `${log}\n` : undefined;
      },
    });
    expect(asked).toEqual([
      ["fix-bug", "check"],
      ["refactor-model-o4-mini", "agent"],
    ]);
    const failure = all(testCases(xml).get("fix-bug") as XmlElement, "failure")[0];
    expect(failure?.attributes).toEqual({
      message: "check failed (exit 1)",
      type: "exit-non-zero",
    });
    const body = failure?.text.split("\n") ?? [];
    expect(body.slice(0, 4)).toEqual([
      "exit-non-zero in check: check exited with code 1",
      `log: ${FIX_BUG_LOG}`,
      "",
      "last lines of the check log:",
    ]);
    const tail = body.slice(4);
    expect(tail).toHaveLength(LOG_TAIL_LINES);
    expect(tail[0]).toBe("log line 151");
    expect(tail.at(-1)).toBe("log line 200");
    // Without a log, the failure still says what happened.
    const agent = all(testCases(xml).get("refactor-model-o4-mini") as XmlElement, "failure")[0];
    expect(agent?.attributes.type).toBe("agent-error");
    expect(agent?.text).toBe("agent-error in agent: unexpected status 401 Unauthorized");
  });

  it("marks interrupted workspaces as errors and skipped or unstarted ones as skipped", () => {
    const plan = makePlan();
    const events = runEvents(
      plan,
      [
        ...workspaceEvents("add-auth", {
          outcome: {
            kind: "failed",
            step: "setup",
            failure: {
              reason: "timeout",
              step: "setup",
              message: "setup timed out",
              timeoutMs: 60_000,
            },
          },
        }),
        ...workspaceEvents("auth-docs", {
          start: 5000,
          outcome: { kind: "skipped", dependency: "add-auth" },
        }),
        ...workspaceEvents("lint", { outcome: { kind: "interrupted", step: "check" } }),
      ],
      { status: "interrupted" },
    );
    const xml = renderJUnit(foldRun(plan, events));
    const cases = testCases(xml);
    expect(cases.get("auth-docs")?.children).toEqual([
      {
        name: "skipped",
        attributes: { message: "dependency add-auth did not succeed" },
        children: [],
        text: "",
      },
    ]);
    expect(cases.get("fix-bug")?.children[0]).toMatchObject({
      name: "skipped",
      attributes: { message: "not started" },
    });
    expect(cases.get("lint")?.children[0]).toMatchObject({
      name: "error",
      attributes: { message: "interrupted during check", type: "cancelled" },
    });
    expect(all(cases.get("add-auth") as XmlElement, "failure")[0]?.attributes).toEqual({
      message: "setup timed out after 1m00s",
      type: "timeout",
    });
    const suite = all(parseXml(xml), "testsuite")[0];
    expect(suite?.attributes).toMatchObject({
      tests: "7",
      failures: "1",
      errors: "1",
      skipped: "5",
    });
  });

  it("reports a workspace still running in a killed run as an error", () => {
    const plan = makePlan();
    const events = toEvents([
      [0, { type: "run.started", plan, resumed: false, concurrency: 1, pid: 1 }],
      // Through the copy step, into ports.
      ...workspaceEvents("lint").slice(0, 6),
    ]);
    const cases = testCases(renderJUnit(foldRun(plan, events)));
    expect(cases.get("lint")?.children[0]).toMatchObject({
      name: "error",
      attributes: { message: "did not finish (was in ports)" },
    });
  });

  it("escapes markup and strips what XML 1.0 forbids, from messages and logs alike", () => {
    const nasty = `bad <tag attr="x"> & 'quote' ]]> \u001b[31mred\u001b[0m\u0000\u0007\u000b\ufffe\ud800 tab\tend`;
    const plan = makePlan();
    const events = runEvents(
      plan,
      workspaceEvents("lint", {
        outcome: {
          kind: "failed",
          step: "setup",
          failure: { reason: "spawn-error", step: "setup", message: nasty },
        },
      }),
      { status: "failed" },
    );
    const xml = renderJUnit(foldRun(plan, events), {
      readLogTail: () => `${nasty}\nlast line\r\n`,
    });
    const failure = all(testCases(xml).get("lint") as XmlElement, "failure")[0];
    const clean = `bad <tag attr="x"> & 'quote' ]]> red tab\tend`;
    expect(failure?.attributes.message).toBe(`setup could not start: ${clean.replace("\t", " ")}`);
    expect(failure?.attributes.type).toBe("spawn-error");
    expect(failure?.text).toContain(`spawn-error in setup: ${clean}`);
    expect(failure?.text.endsWith(`${clean}\nlast line`)).toBe(true);
  });

  it("names the run, its status, plan and base as suite properties, and nothing secret", () => {
    const state = mixedRun();
    const xml = renderJUnit(state);
    const properties = all(parseXml(xml), "property").map((p) => [
      p.attributes.name,
      p.attributes.value,
    ]);
    expect(properties).toEqual([
      ["run", state.runId],
      ["status", "interrupted"],
      ["plan", state.plan.hash],
      ["base", `main ${state.plan.base.commit}`],
    ]);
    expect(JSON.stringify(state)).toContain(SECRET);
    expect(xml).not.toContain(SECRET);
  });

  it("xmlSafe keeps tabs, newlines, non-BMP characters and removes the rest", () => {
    expect(xmlSafe("a\tb\nc\rd 😀 \u0001\u001f\uffff")).toBe("a\tb\nc\rd 😀 ");
  });
});
