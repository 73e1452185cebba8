import { describe, expect, it } from "vitest";
import { actionArgs } from "../../src/ui/actions.js";

describe("the page's actions as CLI arguments", () => {
  it("name the run, and put workspace names and instructions after --", () => {
    expect(actionArgs("continue", "add-auth", "r1", { text: "  --force the tests  " })).toEqual([
      "continue",
      "--run",
      "r1",
      "--output",
      "plain",
      "--",
      "add-auth",
      "--force the tests",
    ]);
    expect(actionArgs("archive", "add-auth", "r1", {})).toEqual([
      "archive",
      "--run",
      "r1",
      "--",
      "add-auth",
    ]);
    expect(actionArgs("archive", "add-auth", "r1", { force: true })).toEqual([
      "archive",
      "--run",
      "r1",
      "--force",
      "--",
      "add-auth",
    ]);
    expect(actionArgs("fix-review", "add-auth", "r1", {})).toEqual([
      "continue",
      "--fix-review",
      "--run",
      "r1",
      "--output",
      "plain",
      "--",
      "add-auth",
    ]);
    expect(actionArgs("review", "a", "r1", {})).toEqual(["review", "--run", "r1", "--", "a"]);
    expect(actionArgs("spotlight", "a", "r1", {})).toEqual(["spotlight", "--run", "r1", "--", "a"]);
    expect(actionArgs("spotlight-off", "a", "r1", {})).toEqual(["spotlight", "--off"]);
  });

  it("refuses a continue without instructions", () => {
    expect(() => actionArgs("continue", "a", "r1", { text: "   " })).toThrow(
      "continue needs instructions for the agent",
    );
  });
});
