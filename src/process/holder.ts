import { readFileSync, readlinkSync } from "node:fs";
import { processExists } from "./exists.js";
import { statFields } from "./proc-stat.js";

/**
 * A process named so that another process can later be sure it is gone: a pid alone may have been
 * handed to a new process since (so the start time is kept too), and it means nothing on another
 * machine, after a reboot or in another pid namespace (so the pid space is kept too).
 */
export interface Holder {
  pid: number;
  /** Start time in clock ticks after boot (field 22 of /proc/<pid>/stat); Linux only. */
  start?: string;
  /** The boot and pid namespace the pid belongs to; undefined when they cannot be read. */
  space?: string;
}

/** Index of the start time among the fields after the command name (field 22 of 52). */
const START_FIELD = 19;

/** This process, as a holder. */
export function thisProcess(): Holder {
  const start = statFields(String(process.pid))?.[START_FIELD];
  const space = pidSpace();
  return {
    pid: process.pid,
    ...(start === undefined ? {} : { start }),
    ...(space === undefined ? {} : { space }),
  };
}

/**
 * Whether the holder is surely gone: it lived in this process's pid space and no process with its
 * pid and start time runs there now (a zombie counts as gone: it holds nothing anymore). False when
 * that cannot be told: another machine, another namespace, no /proc.
 */
export function holderIsGone(holder: Holder): boolean {
  if (!holderIsVisible(holder)) return false;
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  const fields = statFields(String(holder.pid));
  if (fields === undefined) return !processExists(holder.pid);
  return fields[0] === "Z" || fields[START_FIELD] !== holder.start;
}

/**
 * Whether this process can tell if the holder is gone: it lived in this process's pid space (this
 * machine since its boot, this container), and its start time is known.
 */
export function holderIsVisible(holder: Holder): boolean {
  const space = pidSpace();
  return space !== undefined && holder.space === space && holder.start !== undefined;
}

/** Whether a value read from elsewhere (a file) has the shape of a holder. */
export function isHolder(value: unknown): value is Holder {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Number.isInteger(record.pid) &&
    (record.start === undefined || typeof record.start === "string") &&
    (record.space === undefined || typeof record.space === "string")
  );
}

let ownSpace: string | null | undefined;

/** This machine's boot and this process's pid namespace, read once; undefined without /proc. */
function pidSpace(): string | undefined {
  if (ownSpace === undefined) {
    try {
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
      ownSpace = `${boot} ${readlinkSync("/proc/self/ns/pid")}`;
    } catch {
      ownSpace = null;
    }
  }
  return ownSpace ?? undefined;
}
