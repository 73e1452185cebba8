// conductor ui: the page. State comes from the server's event stream (the CLI's own fold of
// events.jsonl): one `state` message, then `update`s; EventSource reconnects with Last-Event-ID.
import { openStream } from "./api.js";
import * as detail from "./detail.js";
import * as sidebar from "./sidebar.js";

const $ = (id) => document.getElementById(id);
let selected;

function select(name, focusList = false) {
  if (!name) return;
  selected = name;
  sidebar.markSelected(name);
  const row = sidebar.rowData(name);
  if (row) detail.show(row);
  if (focusList) $("workspaces").focus();
}

function showRun(run) {
  $("run-title").textContent =
    `run ${run.runId} · ${run.baseRef}${run.configFile ? ` · ${run.configFile}` : ""}`;
  const status = $("run-status");
  status.textContent = run.status;
  status.className = `badge status-${run.status}`;
  document.title = `conductor · ${run.runId} · ${run.status}`;
}

function onState(page) {
  if (!page) {
    $("run-title").textContent = "waiting for the run to start…";
    return;
  }
  showRun(page.run);
  sidebar.setRows(page.workspaces, select);
  const names = sidebar.names();
  if (!selected || !names.includes(selected)) selected = names[0];
  select(selected);
  if (document.body.dataset.ready !== "1") {
    document.body.dataset.ready = "1";
    // When the first rows reach the screen (the next frame), for `npm run bench`.
    requestAnimationFrame(() => {
      window.conductorTimings = { firstRender: performance.now() };
    });
  }
}

function onUpdate(update) {
  showRun(update.run);
  if (update.row) {
    sidebar.updateRow(update.row, select);
    if (update.row.name === selected) {
      sidebar.markSelected(selected);
      detail.show(update.row);
    }
  }
  if (update.entry) detail.appendEntry(update.workspace, update.entry);
}

function connect() {
  const stream = openStream();
  stream.addEventListener("state", (event) => onState(JSON.parse(event.data)));
  stream.addEventListener("update", (event) => onUpdate(JSON.parse(event.data)));
  stream.addEventListener("open", () => {
    $("connection").textContent = "live";
  });
  stream.addEventListener("error", () => {
    $("connection").textContent =
      stream.readyState === EventSource.CLOSED ? "disconnected (reload to retry)" : "reconnecting…";
  });
}

function move(by) {
  const names = sidebar.names();
  if (names.length === 0) return;
  const at = Math.max(0, names.indexOf(selected));
  select(names[Math.min(names.length - 1, Math.max(0, at + by))], true);
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLSelectElement
  )
    return;
  const keys = {
    j: () => move(1),
    ArrowDown: () => move(1),
    k: () => move(-1),
    ArrowUp: () => move(-1),
  };
  const tabs = { d: "diff", a: "activity", l: "logs" };
  if (keys[event.key] && (event.key.length === 1 || target === $("workspaces"))) {
    event.preventDefault();
    keys[event.key]();
  } else if (tabs[event.key]) {
    event.preventDefault();
    detail.selectTab(tabs[event.key], true);
  }
});

detail.setRowSource((name) => sidebar.rowData(name));
detail.wire();
connect();
setInterval(sidebar.tick, 1000);
