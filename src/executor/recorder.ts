import type { KnownSecrets } from "../secrets/known-secrets.js";
import { monotonicMs } from "../timers/monotonic.js";
import type { Reporter, RunEvent } from "./events.js";
import { RecordGuard } from "./record-guard.js";
import { redactEvent, redactPrompts } from "./redact-event.js";
import { EventsFile, type RunPaths, saveRunState } from "./run-store.js";
import { applyEvent } from "./state-fold.js";
import type { RunState } from "./types.js";

/** An event as the executor emits it; the recorder stamps time and run id. */
export type EventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, "time" | "runId">
    : never
  : never;

/**
 * Events after which run.json is saved: the boundaries of the run and of each workspace. Saving
 * after every event rewrote a file that grows with N about ten times per workspace (quadratic
 * in N); events.jsonl has every event anyway, and readers fold it (see load-run.ts).
 */
const SAVED_AFTER: ReadonlySet<RunEvent["type"]> = new Set([
  "run.started",
  "follow-up.started",
  "workspace.finished",
  "selection.made",
  "review.finished",
  "run.interrupting",
  "run.finished",
  "follow-up.finished",
]);

/**
 * The least time between two saves of run.json in a run (see saveNow()), and the pace of writing
 * that lengthens it for a large state: a 64-workspace run with instant agents saved 37 times in
 * 2 s, each time its whole 200 KB state.
 */
const SAVE_SPACING_MS = 250;
const SAVE_BYTES_PER_SECOND = 200 * 1024;

/**
 * The single place events go through: each is stamped, redacted (known secrets, also as the
 * agents' JSON decoded them, out of every free text), appended to `events.jsonl` (synchronously,
 * so a crash loses at most the event being written), folded into the run state, saved to
 * `run.json` at run and workspace boundaries (atomically), and handed to every reporter.
 */
export class RunRecorder {
  private current: RunState;
  private saving: Promise<void> = Promise.resolve();
  private savePending = false;
  /** Whether an event changed the state since the last save began. */
  private unsaved = false;
  private saveFailure: Error | undefined;
  /** The first event that could not be appended to events.jsonl; the run goes on regardless. */
  private appendFailure: Error | undefined;
  /** When the last save began (`monotonicMs()`) and what it wrote, for the spacing of saves. */
  private lastSaveAt = Number.NEGATIVE_INFINITY;
  private lastSaveLength = 0;
  private flushing = false;
  /** Ends the wait of a save for its turn (see spacing()). */
  private endSpacing: () => void = () => {};
  private readonly guard: RecordGuard;
  private readonly events: EventsFile;

  constructor(
    private readonly paths: RunPaths,
    initial: RunState,
    private readonly reporters: readonly Reporter[],
    /** Taken out of every event before anything sees it. */
    private readonly secrets: KnownSecrets,
    private readonly now: () => Date = () => new Date(),
    /** The least time between the starts of two saves of run.json, but for flush(). */
    private readonly saveSpacingMs = SAVE_SPACING_MS,
  ) {
    this.guard = new RecordGuard(paths.eventsFile);
    this.events = new EventsFile(paths);
    // The plan given to a run still has its prompts as written; the state on disk must not.
    this.current = {
      ...initial,
      plan: redactPrompts(initial.plan, (text) => secrets.redact(text)),
    };
  }

  /** The state as of the last event. */
  get state(): RunState {
    return this.current;
  }

  /** Records and publishes one event. */
  emit(input: EventInput): void {
    const stamped = {
      ...input,
      time: this.now().toISOString(),
      runId: this.current.runId,
    } as RunEvent;
    // Every artefact of the run (events.jsonl, run.json, reports, live views, pr bodies) is
    // derived from these events, so secrets taken out here are out of all of them.
    const event = this.secrets.redactor.active
      ? redactEvent(stamped, (text) => this.secrets.redact(text))
      : stamped;
    try {
      const appended = this.events.append(event);
      this.guard.appended(appended.text, appended.before, appended.after);
    } catch (error) {
      // The state folder cannot be written (replaced by a file, disk full). Stopping here would
      // abandon agents and uncommitted work half way; the run finishes its work, and flush()
      // reports the failure once at the end.
      this.appendFailure ??= error as Error;
    }
    this.current = applyEvent(this.current, event);
    this.unsaved = true;
    for (const reporter of this.reporters) reporter.onEvent(event);
    if (SAVED_AFTER.has(event.type)) this.saveNow();
  }

  /**
   * Undefined when events.jsonl holds what was recorded (see {@link RecordGuard}); otherwise puts
   * it back and says so. Asked after every step that ran the workspace's code.
   */
  checkRecord(): string | undefined {
    const { problem, rewritten } = this.guard.check(
      this.current.runId,
      (name) => this.current.workspaces[name]?.status,
    );
    // Written back under its name: a new file, which the next append opens.
    if (rewritten) this.events.reopen();
    return problem;
  }

  /** Waits until the latest state is on disk; throws if it could not be written. */
  async flush(): Promise<void> {
    this.flushing = true;
    this.endSpacing();
    try {
      if (this.unsaved) this.saveNow();
      await this.saving;
    } finally {
      this.flushing = false;
      // Opened again by an event recorded after (there is none at the end of a session).
      this.events.close();
    }
    if (this.appendFailure) throw this.appendFailure;
    if (this.saveFailure) throw this.saveFailure;
  }

  private saveNow(): void {
    // Saves run one after another so an older state never overwrites a newer one, and at most
    // one waits: it writes the state as it is when its turn comes. A burst of events (32
    // workspaces finishing steps) then costs a few writes of run.json, not one per event;
    // events.jsonl, written synchronously, still has every event. Saves also begin at least
    // SAVE_SPACING_MS apart, longer for a state that writes more than SAVE_BYTES_PER_SECOND
    // (flush() does not wait): each writes the whole state, which grows with the workspaces, and
    // readers fold events.jsonl anyway.
    if (this.savePending) return;
    this.savePending = true;
    this.saving = this.saving.then(async () => {
      await this.spacing();
      this.savePending = false;
      this.unsaved = false;
      this.lastSaveAt = monotonicMs();
      try {
        this.lastSaveLength = saveRunState(this.paths, this.current);
        this.saveFailure = undefined;
      } catch (error) {
        this.saveFailure = error as Error;
      }
    });
  }

  /** Waits until the spacing has passed since the last save began, or a flush. */
  private spacing(): Promise<void> {
    const pace = (this.lastSaveLength / SAVE_BYTES_PER_SECOND) * 1000;
    const wait = this.lastSaveAt + Math.max(this.saveSpacingMs, pace) - monotonicMs();
    if (wait <= 0 || this.flushing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.endSpacing = done;
    });
  }
}
