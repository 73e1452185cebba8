// The page's calls to its server. Every URL is relative, so it carries the token the page was
// opened with (/<token>/), and the run the page was asked for (?run=<id>).

const run = new URLSearchParams(location.search).get("run");

/** A relative API URL with the page's run. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams(params);
  if (run) query.set("run", run);
  const text = query.toString();
  return `api/${path}${text ? `?${text}` : ""}`;
}

/** GETs JSON; throws an Error with the server's message. */
export async function getJson(path, params) {
  const response = await fetch(apiUrl(path, params));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** POSTs an action; resolves with the command's result (ok, command, output). */
export async function postAction(workspace, action, input = {}) {
  const response = await fetch(
    apiUrl(`workspaces/${encodeURIComponent(workspace)}/actions/${action}`),
    {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(input),
    },
  );
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    return { ok: false, command: "", output: `conductor: ${body.error ?? response.statusText}\n` };
  return body;
}

/** The event stream of the run. */
export function openStream() {
  return new EventSource(apiUrl("events"));
}
