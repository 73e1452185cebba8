import type { Workspace } from "../planner/types.js";
import type { Failure, Step } from "./types.js";

/** How a prepared workspace ends instead of taking a slot (fail-fast, Ctrl-C, a spent budget). */
export interface SlotRefusal {
  /** `pending`: it did not start its heavy work, and a resume starts it (Ctrl-C). */
  status: "skipped" | "pending";
  failure?: Failure;
}

/** What the scheduler says about a waiting workspace: take a free slot, keep waiting, or end. */
export type SlotVerdict = "go" | "wait" | SlotRefusal;

/** Where a started workspace stands with respect to the concurrency limit. */
type Phase = "ahead" | "slot" | "tail";

interface Waiter {
  name: string;
  /** A review (`review: auto`) of a finished workspace: served before workspaces to start. */
  review: boolean;
  /** For workspaces: the workspace and the step it waits to start. */
  workspace?: Workspace;
  step?: Step;
  signal?: AbortSignal;
  resolve(verdict: SlotRefusal | undefined): void;
}

/**
 * The slots of the concurrency limit. A slot covers a workspace's heavy work (seed, setup, agent,
 * check, and a `review: auto` review); its worktree, copy and ports steps run ahead of it, and its
 * commit after it, so conductor's own git work overlaps with other workspaces' agents. At most
 * `size` workspaces are ahead (started, not yet in a slot) at once, and they take their slots in
 * plan order.
 */
export class SlotGate {
  private held = 0;
  private readonly phases = new Map<string, Phase>();
  private readonly waiters: Waiter[] = [];

  /**
   * @param judge decides, whenever something changed, about each workspace waiting for a slot
   * @param order the plan position of a workspace: waiting workspaces are served in plan order
   * @param changed told when the number of workspaces ahead went down (another may be prepared)
   */
  constructor(
    private readonly size: number,
    private readonly judge: (workspace: Workspace, step: Step, signal: AbortSignal) => SlotVerdict,
    private readonly order: (name: string) => number,
    private readonly changed: () => void,
  ) {}

  /** Workspaces started and not yet in a slot: preparing, or prepared and waiting. */
  get ahead(): number {
    let count = 0;
    for (const phase of this.phases.values()) if (phase === "ahead") count++;
    return count;
  }

  /** Workspaces in a slot or past it (committing, reviewing): their outcome may still change things. */
  get beyond(): number {
    return this.phases.size - this.ahead;
  }

  /** Workspaces past their slot whose outcome is not known yet (committing). */
  get committing(): number {
    let count = 0;
    for (const phase of this.phases.values()) if (phase === "tail") count++;
    return count;
  }

  /** A workspace starts its preparation. */
  enter(name: string): void {
    this.phases.set(name, "ahead");
  }

  /**
   * Waits until the workspace may start `step` in a slot of its own; resolves undefined then,
   * or how the workspace ends instead. `onWait` is called when it cannot have one at once.
   */
  acquire(
    workspace: Workspace,
    step: Step,
    signal: AbortSignal,
    onWait: () => void,
  ): Promise<SlotRefusal | undefined> {
    if (this.phases.get(workspace.name) === "slot") return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        name: workspace.name,
        review: false,
        workspace,
        step,
        signal,
        resolve,
      };
      this.waiters.push(waiter);
      // A budget may stop this workspace alone: it then learns so at once.
      signal.addEventListener("abort", () => this.pump(), { once: true });
      this.pump();
      if (this.waiters.includes(waiter)) onWait();
    });
  }

  /** Waits for a slot for a finished workspace's review; resolves false when the run stopped. */
  acquireForReview(name: string, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.push({
        name,
        review: true,
        signal,
        resolve: (refused) => resolve(refused === undefined),
      });
      signal.addEventListener("abort", () => this.pump(), { once: true });
      this.pump();
    });
  }

  /** The workspace's heavy work is done (or never needed): its slot goes to the next one. */
  release(name: string): void {
    const phase = this.phases.get(name);
    if (phase === undefined || phase === "tail") return;
    this.phases.set(name, "tail");
    if (phase === "slot") this.held--;
    else this.changed();
    this.pump();
  }

  /** The workspace ended: whatever it held is free. */
  leave(name: string): void {
    this.release(name);
    this.phases.delete(name);
    // Verdicts may depend on it having ended (a commit under fail_fast, a held provider).
    this.pump();
  }

  /** Settles what can be settled: refusals at once, then free slots in order (reviews first). */
  pump(): void {
    this.waiters.sort(
      (a, b) => Number(b.review) - Number(a.review) || this.order(a.name) - this.order(b.name),
    );
    for (const waiter of [...this.waiters]) {
      const verdict = this.verdictOf(waiter);
      if (verdict === "wait") continue;
      if (verdict === "go" && this.held + this.reservedBefore(waiter) >= this.size) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      if (verdict === "go") {
        this.held++;
        this.phases.set(waiter.name, "slot");
        // Resolved first: the workspace announces its step before another one is prepared.
        waiter.resolve(undefined);
        if (!waiter.review) this.changed();
      } else {
        waiter.resolve(verdict);
      }
    }
  }

  /**
   * Slots kept for workspaces earlier in the plan that are still being prepared: workspaces take
   * their slots in plan order, as the user wrote the tasks, whichever was prepared first (their
   * worktrees are made side by side, and which one is done first is chance).
   */
  private reservedBefore(waiter: Waiter): number {
    if (waiter.review) return 0;
    const position = this.order(waiter.name);
    let count = 0;
    for (const [name, phase] of this.phases) {
      if (phase !== "ahead" || this.order(name) >= position) continue;
      if (!this.waiters.some((other) => other.name === name)) count++;
    }
    return count;
  }

  private verdictOf(waiter: Waiter): SlotVerdict {
    const { workspace, step, signal } = waiter;
    if (waiter.review || workspace === undefined || step === undefined || signal === undefined) {
      return waiter.signal?.aborted ? { status: "pending" } : "go";
    }
    return this.judge(workspace, step, signal);
  }
}
