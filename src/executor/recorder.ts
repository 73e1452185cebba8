import type { Reporter, RunEvent } from "./events.js";
import { appendEvent, type RunPaths, saveRunState } from "./run-store.js";
import { applyEvent } from "./state-fold.js";
import type { RunState } from "./types.js";

/** An event as the executor emits it; the recorder stamps time and run id. */
export type EventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, "time" | "runId">
    : never
  : never;

/** Agent activity is frequent; the state file is rewritten for it at most this often. */
const SAVE_INTERVAL_MS = 250;

/**
 * The single place events go through: each is stamped, appended to `events.jsonl` (synchronously,
 * so a crash loses at most the event being written), folded into the run state, saved to
 * `run.json` (atomically, throttled for agent activity), and handed to every reporter.
 */
export class RunRecorder {
  private current: RunState;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saveFailure: Error | undefined;

  constructor(
    private readonly paths: RunPaths,
    initial: RunState,
    private readonly reporters: readonly Reporter[],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = initial;
  }

  /** The state as of the last event. */
  get state(): RunState {
    return this.current;
  }

  /** Records and publishes one event. */
  emit(input: EventInput): void {
    const event = {
      ...input,
      time: this.now().toISOString(),
      runId: this.current.runId,
    } as RunEvent;
    appendEvent(this.paths, event);
    this.current = applyEvent(this.current, event);
    for (const reporter of this.reporters) reporter.onEvent(event);
    if (event.type === "agent.activity") this.scheduleSave();
    else this.saveNow();
  }

  /** Waits until the latest state is on disk; throws if it could not be written. */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.saveNow();
    }
    await this.saving;
    if (this.saveFailure) throw this.saveFailure;
  }

  private scheduleSave(): void {
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, SAVE_INTERVAL_MS);
  }

  private saveNow(): void {
    const snapshot = this.current;
    // Saves run one after another so an older state never overwrites a newer one.
    this.saving = this.saving.then(() =>
      saveRunState(this.paths, snapshot).then(
        () => {
          this.saveFailure = undefined;
        },
        (error: Error) => {
          this.saveFailure = error;
        },
      ),
    );
  }
}
