// The check that keeps a workspace's port block clear of ports other programs hold.

import { readFile } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { portsInUse } from "../../src/executor/ports-in-use.js";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const handle of open.splice(0)) handle.close();
});

async function listening(host: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host }, resolve);
  });
  open.push(server);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function ipv6Available(): Promise<boolean> {
  return listening("::1").then(
    () => true,
    () => false,
  );
}

describe("portsInUse", () => {
  it("counts a port held by a listener on 127.0.0.1, and only while it is held", async () => {
    const port = await listening("127.0.0.1");
    expect(await (await portsInUse()).allFree(port, 1)).toBe(false);
    expect(await (await portsInUse()).allFree(port - 2, 5)).toBe(false);
    open.splice(0).forEach((server) => {
      server.close();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await (await portsInUse()).allFree(port, 1)).toBe(true);
  });

  it("counts listeners on other addresses too: a dev server in the workspace may bind them all", async () => {
    const any = await listening("0.0.0.0");
    expect(await (await portsInUse()).allFree(any, 1)).toBe(false);
    if (!(await ipv6Available())) return; // IPv6 switched off: no tcp6 table to read
    const ipv6 = await listening("::1");
    expect(await (await portsInUse()).allFree(ipv6, 1)).toBe(false);
  });

  it("counts the local port of a connection", async () => {
    const server = await listening("127.0.0.1");
    const client = new Socket();
    await new Promise<void>((resolve, reject) => {
      client.once("error", reject);
      client.connect({ port: server, host: "127.0.0.1" }, resolve);
    });
    open.push({ close: () => client.destroy() });
    const local = client.localPort;
    if (local === undefined) throw new Error("no local port");
    expect(await (await portsInUse()).allFree(local, 1)).toBe(false);
  });

  it("counts a client connection's port in TIME_WAIT: no server can bind it yet", async () => {
    const server: Server = createServer((socket) => socket.on("end", () => socket.end()));
    await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
    open.push(server);
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const client = new Socket();
    await new Promise<void>((resolve) =>
      client.connect({ port: address.port, host: "127.0.0.1" }, resolve),
    );
    const local = client.localPort;
    if (local === undefined) throw new Error("no local port");
    // The side that closes first waits in TIME_WAIT once the other side has closed too.
    await new Promise<void>((resolve) => {
      client.on("close", () => resolve());
      client.end();
    });
    const hex = local.toString(16).toUpperCase().padStart(4, "0");
    const table = await readFile("/proc/net/tcp", "latin1");
    expect(table).toMatch(new RegExp(`:${hex} \\S+ 06 `)); // the kernel shows it in TIME_WAIT
    expect(await (await portsInUse()).allFree(local, 1)).toBe(false);
    // Why: a server's bind (with SO_REUSEADDR, as Node's) is refused while it lasts.
    const late = createServer();
    const bound = await new Promise<string>((resolve) => {
      late.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      late.listen({ port: local, host: "127.0.0.1" }, () => resolve("bound"));
    });
    open.push({ close: () => late.close() });
    expect(bound).toBe("EADDRINUSE");
  });

  it("finds a block clear of every held port free", async () => {
    const inUse = await portsInUse();
    // Ports below 1024 are rarely all free, but somewhere in conductor's range a block is.
    let found = false;
    for (let start = 20000; start < 32760 && !found; start += 10)
      found = await inUse.allFree(start, 10);
    expect(found).toBe(true);
  });
});
