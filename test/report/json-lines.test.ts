import { describe, expect, it } from "vitest";
import { createJsonLinesReporter } from "../../src/report/json-lines.js";
import { makePlan, mixedRunEvents, toEvents } from "./fixtures.js";

describe("JSON lines reporter", () => {
  it("streams every event as one line of JSON, in order", async () => {
    const events = mixedRunEvents(makePlan());
    const writes: string[] = [];
    const reporter = createJsonLinesReporter({ write: (text) => writes.push(text) });
    for (const event of events) reporter.onEvent(event);
    await reporter.close();
    expect(writes).toHaveLength(events.length);
    for (const text of writes) {
      expect(text.endsWith("\n")).toBe(true);
      expect(text.slice(0, -1)).not.toContain("\n");
    }
    expect(writes.map((text) => JSON.parse(text))).toEqual(events);
  });

  it("keeps multi-line agent text on its line", () => {
    const [event] = toEvents([
      [
        0,
        {
          type: "agent.activity",
          workspace: "lint",
          activity: { kind: "message", text: "a\nb\r\nc\u2028d" },
        },
      ],
    ]);
    const writes: string[] = [];
    createJsonLinesReporter({ write: (text) => writes.push(text) }).onEvent(event as never);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.split("\n")).toHaveLength(2);
    expect(JSON.parse(writes[0] ?? "")).toEqual(event);
  });
});
