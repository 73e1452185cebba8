import type { AgentActivity } from "./types.js";

/** Why an agent was ended early for making no progress. */
export type Stall =
  /** It kept failing to reach its provider for `connectTimeoutMs`. */
  | { kind: "unreachable"; timeoutMs: number; lastError: string }
  /** It printed nothing for `idleMs`. */
  | { kind: "idle"; idleMs: number };

/** Limits of a {@link StallWatch}; undefined turns a watch off. */
export interface StallLimits {
  connectTimeoutMs: number | undefined;
  idleTimeoutMs: number | undefined;
}

/**
 * Watches one agent run for the two ways it can hang without ending: a provider it cannot reach
 * (codex retries "waiting for network" forever; claude backs off for minutes) and silence. The
 * connect clock starts at the first connection error after the last sign of progress and stops at
 * the next one, so a slow model or a blip that recovers is never ended. `signal` aborts when the
 * run is cancelled from outside or a stall is found; `stall` then tells which.
 */
export class StallWatch {
  /** Aborts on the outer signal or on a stall. */
  readonly signal: AbortSignal;
  /** Set once a stall ended the run. */
  stall: Stall | undefined;

  private readonly controller = new AbortController();
  private connectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastError = "";
  private readonly onOuterAbort = () => this.controller.abort();

  constructor(
    private readonly outer: AbortSignal,
    private readonly limits: StallLimits,
  ) {
    this.signal = this.controller.signal;
    if (outer.aborted) this.controller.abort();
    else outer.addEventListener("abort", this.onOuterAbort, { once: true });
    this.output();
  }

  /** Any output at all: restarts the idle clock. */
  output(): void {
    const idleMs = this.limits.idleTimeoutMs;
    if (idleMs === undefined || this.stall) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.end({ kind: "idle", idleMs }), idleMs);
  }

  /** An activity the agent reported: a connection error starts the connect clock, progress stops it. */
  activity(activity: AgentActivity): void {
    switch (activity.kind) {
      case "connection-error":
        this.connectionFailed(activity.message);
        return;
      case "command":
      case "file-change":
      case "message":
      case "reasoning":
      case "usage":
        clearTimeout(this.connectTimer);
        this.connectTimer = undefined;
        return;
      default:
        return; // session, warnings and errors say nothing about the connection
    }
  }

  /** Stops the clocks and lets go of the outer signal. */
  dispose(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    this.outer.removeEventListener("abort", this.onOuterAbort);
  }

  private connectionFailed(message: string): void {
    this.lastError = message;
    const timeoutMs = this.limits.connectTimeoutMs;
    if (timeoutMs === undefined || this.connectTimer !== undefined || this.stall) return;
    this.connectTimer = setTimeout(
      () => this.end({ kind: "unreachable", timeoutMs, lastError: this.lastError }),
      timeoutMs,
    );
  }

  private end(stall: Stall): void {
    if (this.stall || this.outer.aborted) return;
    this.stall = stall;
    this.dispose();
    this.controller.abort();
  }
}
