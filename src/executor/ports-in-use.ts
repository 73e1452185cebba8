import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { socketOwners } from "../process/socket-owners.js";

/**
 * Which TCP ports a block may not use because some socket holds them right now. On Linux the
 * kernel's socket tables (`/proc/net/tcp`, `/proc/net/tcp6`) answer for every port at once: two
 * reads per round of reservations. A bind check per port (a server listened and closed) cost a
 * socket, four system calls and a libuv handle each, 640 of them for 64 workspaces of 10 ports,
 * about 50 ms of CPU at the start of every such run. Elsewhere each port is bound once.
 */
export interface PortsInUse {
  /** Whether none of the `count` ports from `start` is held. */
  allFree(start: number, count: number): Promise<boolean>;
}

/** The kernel's tables read now, or bind checks where they cannot be read. */
export async function portsInUse(): Promise<PortsInUse> {
  const held = await heldPorts();
  if (held === undefined) return { allFree: allBindable };
  return {
    allFree: async (start, count) => {
      for (let port = start; port < start + count; port++) if (held.has(port)) return false;
      return true;
    },
  };
}

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];

/**
 * Local ports of every TCP socket in the kernel's tables, whatever its address and state: a
 * listener on another address, or a connection bound to the port, would still be in the way of
 * a dev server in the workspace that binds all addresses. So would a connection's port in
 * TIME_WAIT: a socket that did not set SO_REUSEADDR (a client's) keeps it from every bind until
 * it is gone. Undefined when the IPv4 table cannot be read (not Linux), or when the tables list no
 * socket at all (a sandbox that shows empty tables); a missing IPv6 table (IPv6 off) holds
 * nothing.
 */
async function heldPorts(): Promise<Set<number> | undefined> {
  const sockets = await socketTables();
  if (sockets === undefined) return undefined;
  const held = new Set(sockets.map((socket) => socket.port));
  return held.size === 0 ? undefined : held;
}

/** One row of the kernel's TCP socket tables. */
interface SocketRow {
  port: number;
  /** The state as the table writes it (`0A`: listening). */
  state: string | undefined;
  inode: string | undefined;
}

/**
 * The rows of `/proc/net/tcp` and `/proc/net/tcp6`: undefined when the IPv4 table cannot be read
 * (not Linux); a missing IPv6 table (IPv6 off) has none.
 */
async function socketTables(): Promise<SocketRow[] | undefined> {
  const [ipv4, ipv6] = await Promise.all(
    TABLES.map((table) => readFile(table, "latin1").catch(() => undefined)),
  );
  if (ipv4 === undefined) return undefined;
  const rows: SocketRow[] = [];
  for (const table of [ipv4, ipv6 ?? ""]) {
    for (const line of table.split("\n").slice(1)) {
      // "sl local_address rem_address st … uid timeout inode", the local address as
      // `<hex ip>:<hex port>`.
      const fields = line.trim().split(/\s+/);
      const port = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      if (Number.isInteger(port)) rows.push({ port, state: fields[3], inode: fields[9] });
    }
  }
  return rows;
}

async function allBindable(start: number, count: number): Promise<boolean> {
  const ports = Array.from({ length: count }, (_, index) => start + index);
  return (await Promise.all(ports.map(bindable))).every(Boolean);
}

/** Whether a process could listen on `port` of 127.0.0.1 right now (a listener on 0.0.0.0 takes it too). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1" }, () => server.close(() => resolve(true)));
  });
}

/** A port some TCP socket listens on, and the processes that hold the socket (when visible). */
export interface PortListener {
  port: number;
  pids: number[];
}

/** The kernel's state number of a listening socket in its tables. */
const LISTEN_STATE = "0A";

/**
 * The ports of `ports` some socket listens on now, each with the pids that hold the socket
 * (those of this user; another user's listener has none). Linux only; elsewhere, none.
 */
export async function listenersOn(ports: readonly number[]): Promise<PortListener[]> {
  const wanted = new Set(ports);
  const inodesOf = new Map<number, Set<string>>();
  for (const { port, state, inode } of (await socketTables()) ?? []) {
    if (state !== LISTEN_STATE || !wanted.has(port) || inode === undefined) continue;
    inodesOf.set(port, (inodesOf.get(port) ?? new Set()).add(inode));
  }
  const owners = socketOwners(new Set([...inodesOf.values()].flatMap((inodes) => [...inodes])));
  return [...inodesOf]
    .sort(([a], [b]) => a - b)
    .map(([port, inodes]) => ({
      port,
      pids: [...new Set([...inodes].flatMap((inode) => owners.get(inode) ?? []))],
    }));
}
