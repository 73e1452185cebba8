import path from "node:path";
import { describe, expect, it } from "vitest";
import { isInside, isStrictlyInside, relativeInside } from "../../src/fs/is-inside.js";
import { workspacesDirProblem } from "../../src/planner/workspaces-dir.js";

const root = path.resolve("/repo/app");

describe("isInside", () => {
  it("treats folders whose names start with .. as inside", () => {
    expect(isInside(root, path.join(root, "..ws"))).toBe(true);
    expect(isInside(root, path.join(root, "..ws", "a"))).toBe(true);
    expect(relativeInside(root, path.join(root, "..ws"))).toBe("..ws");
  });

  it("treats the parent, its siblings and other roots as outside", () => {
    expect(isInside(root, path.dirname(root))).toBe(false);
    expect(isInside(root, path.resolve("/repo/app-workspaces"))).toBe(false);
    expect(isInside(root, path.resolve("/repo/..ws"))).toBe(false);
    expect(isInside(root, path.resolve("/elsewhere"))).toBe(false);
  });

  it("counts the folder itself as inside, but not strictly", () => {
    expect(isInside(root, root)).toBe(true);
    expect(isStrictlyInside(root, root)).toBe(false);
    expect(isStrictlyInside(root, path.join(root, "..ws"))).toBe(true);
  });
});

describe("workspaces.dir containment", () => {
  it("refuses a ..ws folder inside the repository", () => {
    expect(workspacesDirProblem(path.join(root, "..ws"), root)?.message).toContain(
      "is inside the repository",
    );
  });

  it("accepts a folder beside the repository", () => {
    expect(workspacesDirProblem(path.resolve("/repo/..ws"), root)).toBeUndefined();
  });
});
