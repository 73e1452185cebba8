import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnsafeOperationError } from "../../src/errors.js";
import {
  endSpotlight,
  type SpotlightSource,
  showWorkspace,
  spotlightState,
} from "../../src/spotlight/spotlight.js";
import {
  checkoutState,
  randomMainState,
  randomSource,
  resetMain,
  type SpotlightRepo,
  spotlightRepo,
} from "../spotlight/rig.js";
import { SEED, seedFor } from "./rig.js";

/**
 * How many random main-checkout states (about 0.3 s each, so this lives in the reliability suite);
 * RELIABILITY_SEED replays a failure, SPOTLIGHT_STATES changes the count.
 */
const STATES = Number(process.env.SPOTLIGHT_STATES ?? 200);
const STATE_SEED = seedFor("spotlight-restore");

let repo: SpotlightRepo;
let source: SpotlightSource;
const notServed = async () => false;

beforeAll(async () => {
  repo = await spotlightRepo();
  source = { workspace: "ws", runId: "test-run", worktree: repo.worktree, start: repo.start };
});

afterAll(async () => {
  await repo?.remove();
});

describe("Spotlight restores the main checkout", () => {
  it(`gives back ${STATES} random main-checkout states byte for byte, index and ignored files included`, async () => {
    const random = randomSource(STATE_SEED);
    let shown = 0;
    let refused = 0;
    for (let round = 0; round < STATES; round++) {
      await resetMain(repo);
      const steps = await randomMainState(repo, random);
      const context = `RELIABILITY_SEED=${SEED}, state ${round}: ${steps.join("; ")}`;
      const before = await checkoutState(repo);
      try {
        await showWorkspace(repo.root, source, notServed);
      } catch (error) {
        // A refusal (a conflict with the checkout's own edits) must leave everything as it was.
        if (!(error instanceof UnsafeOperationError)) throw new Error(`${context}: ${error}`);
        refused++;
        expect(await spotlightState(repo.root), context).toBeUndefined();
        expect(await checkoutState(repo), context).toEqual(before);
        continue;
      }
      shown++;
      // The workspace's changes are there: committed, uncommitted, and its deletion.
      expect(readFileSync(path.join(repo.root, "feature/one.txt"), "utf8"), context).toBe(
        "feature one\n",
      );
      expect(readFileSync(path.join(repo.root, "feature/draft.txt"), "utf8"), context).toBe(
        "draft, not committed\n",
      );
      if (round % 4 === 0) {
        // Syncing with nothing new changes nothing and keeps the restore exact.
        expect((await showWorkspace(repo.root, source, notServed)).changed, context).toEqual([]);
      }
      await endSpotlight(repo.root, { force: false });
      expect(await spotlightState(repo.root), context).toBeUndefined();
      expect(await checkoutState(repo), context).toEqual(before);
    }
    // Both paths were exercised.
    expect(shown).toBeGreaterThan(STATES / 2);
    expect(refused).toBeGreaterThan(0);
  });
});
