import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { endSpotlight, showWorkspace, spotlightState } from "../../src/spotlight/spotlight.js";
import { checkoutState, type SpotlightRepo, spotlightRepo } from "./rig.js";

let repo: SpotlightRepo | undefined;

afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const notServed = async () => false;

describe("a change cut off by a kill", () => {
  it("counts a file git was writing, cut short, as Spotlight's: --off restores without --force and keeps what it held", async () => {
    const current = await spotlightRepo();
    repo = current;
    await current.write({ "mine.txt": "mine\n" });
    const before = await checkoutState(current);
    const source = {
      workspace: "ws",
      runId: "test-run",
      worktree: current.worktree,
      start: current.start,
    };
    await showWorkspace(current.root, source, notServed);
    // As if conductor died while git wrote the files: the marker still says the change is under
    // way, and one file holds the first bytes of its new content only.
    const markerFile = path.join(current.root, ".git", "conductor", "spotlight.json");
    const marker = JSON.parse(readFileSync(markerFile, "utf8"));
    writeFileSync(
      markerFile,
      JSON.stringify({ ...marker, applied: marker.original, pending: { to: marker.applied } }),
    );
    writeFileSync(path.join(current.root, "feature/one.txt"), "feat");

    const ended = await endSpotlight(current.root, { force: false });
    expect(ended.leftRef).toBe("refs/conductor/spotlight/left");
    expect(await current.git("show", "refs/conductor/spotlight/left:feature/one.txt")).toBe("feat");
    expect(await spotlightState(current.root)).toBeUndefined();
    expect(await checkoutState(current)).toEqual(before);
  });

  it("still refuses a file the interrupted change was not writing that holds something else", async () => {
    const current = await spotlightRepo();
    repo = current;
    const source = {
      workspace: "ws",
      runId: "test-run",
      worktree: current.worktree,
      start: current.start,
    };
    await showWorkspace(current.root, source, notServed);
    const markerFile = path.join(current.root, ".git", "conductor", "spotlight.json");
    const marker = JSON.parse(readFileSync(markerFile, "utf8"));
    writeFileSync(
      markerFile,
      JSON.stringify({ ...marker, applied: marker.original, pending: { to: marker.applied } }),
    );
    writeFileSync(path.join(current.root, "docs/guide.md"), "the user's edit\n");
    await expect(endSpotlight(current.root, { force: false })).rejects.toThrow(
      "files were edited: docs/guide.md",
    );
  });
});
