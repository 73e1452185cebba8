// The selected workspace: diff (diff2html, shipped with the package), activity timeline and final
// message, step logs (the tail, earlier slices on demand), and actions.
import { getJson, postAction } from "./api.js";
import { clock } from "./format.js";

const $ = (id) => document.getElementById(id);
const TABS = ["diff", "activity", "logs", "actions"];
let current; // the selected workspace's name
let tab = "diff";
let logStart = 0; // byte offset where the shown log text starts
let diffKey = ""; // what the shown diff was loaded for (name and commit)
let diffLoad = 0; // the latest diff load; an older one that finishes later draws nothing
let archiveRefused = false;

let renderer; // diff2html, loaded with the first diff: the rows need none of its 300 KB
function diffRenderer() {
  renderer ??= new Promise((resolve, reject) => {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "vendor/diff2html.min.css";
    document.head.append(style);
    const script = document.createElement("script");
    script.src = "vendor/diff2html-ui.min.js";
    script.onload = () => resolve(window.Diff2HtmlUI);
    script.onerror = () => reject(new Error("the diff renderer did not load"));
    document.head.append(script);
  });
  return renderer;
}

/** Shows a workspace (or refreshes it when it is the one shown). */
export function show(row) {
  const changed = row.name !== current;
  current = row.name;
  $("empty").hidden = true;
  $("workspace").hidden = false;
  $("ws-name").textContent = row.name;
  $("ws-summary").textContent = `${row.branch} · ${row.status}${row.archived ? " · archived" : ""}`;
  updateActions(row);
  if (changed) {
    archiveRefused = false;
    $("archive-force").checked = false;
    $("archive-force").disabled = true;
    $("action-output").textContent = "";
    $("action-output").classList.remove("error");
    diffKey = "";
    void load();
  } else if (
    tab === "diff" &&
    diffKey !== `${row.name}@${row.diff ? JSON.stringify(row.diff) : ""}`
  ) {
    void loadDiff(row);
  }
}

/** The workspace shown. */
export function shown() {
  return current;
}

/** Switches to a tab (`diff`, `activity`, `logs`, `actions`). */
export function selectTab(name, focus = false) {
  tab = name;
  for (const other of TABS) {
    const button = $(`tab-${other}`);
    button.setAttribute("aria-selected", String(other === name));
    button.tabIndex = other === name ? 0 : -1;
    $(`panel-${other}`).hidden = other !== name;
  }
  if (focus) $(`tab-${name}`).focus();
  if (current) void load();
}

/** Appends a live timeline entry of the shown workspace. */
export function appendEntry(workspace, entry) {
  if (workspace !== current || !entry) return;
  $("timeline").append(timelineItem(entry));
  if (entry.kind === "message") $("final-message").textContent = entry.text;
}

let rowOf = () => undefined;
/** Tells the detail view how to read a row's data. */
export function setRowSource(source) {
  rowOf = source;
}

async function load() {
  const row = rowOf(current);
  if (!row) return;
  if (tab === "diff") await loadDiff(row);
  if (tab === "activity") await loadTimeline(row);
  if (tab === "logs") await loadLog(row, undefined);
}

async function loadDiff(row) {
  const key = `${row.name}@${row.diff ? JSON.stringify(row.diff) : ""}`;
  diffKey = key;
  const load = ++diffLoad;
  const note = $("diff-note");
  note.textContent = "loading the diff…";
  try {
    const diff = await getJson(`workspaces/${encodeURIComponent(row.name)}/diff`);
    if (load !== diffLoad) return;
    const body = $("files").tBodies[0];
    body.replaceChildren(
      ...diff.files.map((file) => {
        const tr = document.createElement("tr");
        tr.innerHTML =
          '<td class="path"></td><td class="num added"></td><td class="num removed"></td>';
        tr.children[0].textContent = file.path;
        tr.children[1].textContent = file.binary ? "binary" : `+${file.added}`;
        tr.children[2].textContent = file.binary ? "" : `−${file.removed}`;
        return tr;
      }),
    );
    const files = diff.files.length;
    note.textContent =
      files === 0
        ? "No changes on the branch yet."
        : `${files} file${files === 1 ? "" : "s"} changed${diff.truncated ? " (the diff is cut short; `conductor diff` shows all of it)" : ""}`;
    const target = $("diff");
    target.replaceChildren();
    if (files > 0) {
      const Diff2HtmlUI = await diffRenderer();
      if (load !== diffLoad) return;
      const dark = matchMedia("(prefers-color-scheme: dark)").matches;
      const ui = new Diff2HtmlUI(target, diff.patch, {
        drawFileList: false,
        matching: "lines",
        outputFormat: "line-by-line",
        highlight: true,
        colorScheme: dark ? "dark" : "light",
      });
      ui.draw();
    }
    await showReview(row.name, load);
  } catch (error) {
    if (load === diffLoad) {
      note.textContent = error.message;
      $("files").tBodies[0].replaceChildren();
      $("diff").replaceChildren();
    }
  }
}

/** The latest review: its verdict, and each finding listed and anchored to its line in the diff. */
async function showReview(name, load) {
  const review = await getJson(`workspaces/${encodeURIComponent(name)}/review`).catch(() => null);
  if (load !== diffLoad) return;
  $("review").hidden = !review;
  if (!review) return;
  $("review-summary").textContent =
    `${review.status === "completed" ? `verdict: ${review.verdict}` : `review ${review.status}`}${review.explanation ? ` — ${review.explanation}` : ""}`;
  $("findings").replaceChildren(
    ...review.findings.map((finding, index) => {
      const li = document.createElement("li");
      li.className = `finding p${finding.priority}`;
      const where = finding.file
        ? ` — ${finding.file}${finding.lines ? `:${finding.lines.start}-${finding.lines.end}` : ""}`
        : "";
      const anchor = anchorFinding(finding, index);
      const title = document.createElement(anchor ? "a" : "strong");
      title.textContent = `[P${finding.priority}] ${finding.title}${where}`;
      if (anchor) title.href = `#${anchor}`;
      const body = document.createElement("div");
      body.textContent = finding.body;
      li.append(title, body);
      return li;
    }),
  );
}

/** Puts a finding under the diff line it names (the new side); returns the anchor's id. */
function anchorFinding(finding, index) {
  if (!finding.file || !finding.lines) return undefined;
  const file = [...document.querySelectorAll("#diff .d2h-file-wrapper")].find(
    (wrapper) => wrapper.querySelector(".d2h-file-name")?.textContent?.trim() === finding.file,
  );
  const line = [...(file?.querySelectorAll("tr") ?? [])].find(
    (tr) => Number(tr.querySelector(".line-num2")?.textContent) === finding.lines.end,
  );
  if (!line) return undefined;
  const note = document.createElement("tr");
  note.className = `finding-note p${finding.priority}`;
  note.id = `finding-${index}`;
  const cell = document.createElement("td");
  cell.colSpan = 2;
  cell.textContent = `[P${finding.priority}] ${finding.title}: ${finding.body}`;
  note.append(cell);
  line.after(note);
  return note.id;
}

async function loadTimeline(row) {
  const name = row.name;
  try {
    const data = await getJson(`workspaces/${encodeURIComponent(name)}/timeline`);
    if (current !== name) return;
    $("final-message").textContent = data.finalMessage ?? "(no final message yet)";
    const items = data.entries.map(timelineItem);
    if (data.omitted > 0) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = `${data.omitted} earlier entries not shown`;
      items.unshift(li);
    }
    $("timeline").replaceChildren(...items);
  } catch (error) {
    $("final-message").textContent = error.message;
  }
}

function timelineItem(entry) {
  const li = document.createElement("li");
  li.className = `kind-${entry.kind}`;
  const time = document.createElement("time");
  time.dateTime = entry.time;
  time.textContent = clock(entry.time);
  li.append(time, document.createTextNode(entry.text));
  return li;
}

async function loadLog(row, before) {
  const name = row.name;
  const select = $("log-step");
  const step = select.value || undefined;
  const params = {};
  if (step) params.step = step;
  if (before !== undefined) params.before = String(before);
  try {
    const data = await getJson(`workspaces/${encodeURIComponent(name)}/logs`, params);
    if (current !== name) return;
    const chosen = data.slice?.step;
    select.replaceChildren(
      ...data.steps.map((entry) => {
        const option = document.createElement("option");
        option.value = entry.step;
        option.textContent = `${entry.step} (${Math.ceil(entry.size / 1024)} KB)`;
        option.selected = entry.step === chosen;
        return option;
      }),
    );
    const log = $("log");
    if (!data.slice) {
      log.textContent = "(no logs yet)";
      $("log-more").disabled = true;
      return;
    }
    log.textContent = before === undefined ? data.slice.text : data.slice.text + log.textContent;
    logStart = data.slice.start;
    $("log-more").disabled = logStart === 0;
    $("log-note").textContent =
      logStart === 0
        ? "whole log"
        : `last ${Math.ceil((data.slice.size - logStart) / 1024)} KB of ${Math.ceil(data.slice.size / 1024)} KB`;
    if (before === undefined) log.scrollTop = log.scrollHeight;
  } catch (error) {
    $("log").textContent = error.message;
  }
}

function updateActions(row) {
  const busy = Boolean(row.busy);
  const finished = row.status !== "running" && row.status !== "pending";
  $("continue").disabled = busy || !finished || row.archived;
  $("archive").disabled = busy || row.archived;
  $("pr").disabled = busy || row.archived;
  $("merge").disabled = busy || !finished || row.archived;
  $("review-run").disabled = busy || !finished || row.archived;
  $("fix-review").disabled = busy || !finished || row.archived || !row.review;
  $("spotlight").disabled = busy || row.archived;
  $("serve-start").disabled = busy || row.archived || Boolean(row.servedPort) || !row.hasRunScript;
  $("serve-stop").disabled = !row.servedPort;
  const served = $("served");
  served.replaceChildren();
  if (row.servedPort) {
    const link = document.createElement("a");
    link.href = `http://127.0.0.1:${row.servedPort}/`;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = `http://127.0.0.1:${row.servedPort}/`;
    served.append("serving on ", link);
  } else if (!row.hasRunScript) {
    served.textContent = "no run script (scripts.run) to serve";
  }
}

async function act(action, input) {
  const name = current;
  const output = $("action-output");
  output.classList.remove("error");
  output.textContent = `running ${action} on ${name}…`;
  const result = await postAction(name, action, input);
  if (current !== name) return result;
  output.textContent = `${result.command ? `$ ${result.command}\n` : ""}${result.output || (result.ok ? "done\n" : "")}`;
  output.classList.toggle("error", !result.ok);
  return result;
}

/** Wires the tabs, the log buttons and the action buttons. */
export function wire() {
  for (const name of TABS) $(`tab-${name}`).addEventListener("click", () => selectTab(name));
  $("log-step").addEventListener(
    "change",
    () => rowOf(current) && loadLog(rowOf(current), undefined),
  );
  $("log-refresh").addEventListener(
    "click",
    () => rowOf(current) && loadLog(rowOf(current), undefined),
  );
  $("log-more").addEventListener(
    "click",
    () => rowOf(current) && loadLog(rowOf(current), logStart),
  );
  $("continue-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("continue-text").value.trim();
    if (!text) return;
    const result = await act("continue", { text });
    if (result.ok) {
      $("continue-text").value = "";
      diffKey = "";
    }
  });
  $("archive").addEventListener("click", async () => {
    const force = $("archive-force").checked;
    if (force && !confirm(`Archive ${current} with --force? The work listed above is lost.`))
      return;
    const result = await act("archive", { force });
    // A refusal lists what would be lost; only then may the person choose to force.
    archiveRefused = !result.ok && /--force/.test(result.output);
    $("archive-force").disabled = !archiveRefused;
    if (result.ok) $("archive-force").checked = false;
  });
  $("pr").addEventListener("click", () => act("pr", {}));
  $("merge").addEventListener("click", () => act("merge", {}));
  $("review-run").addEventListener("click", async () => {
    if ((await act("review", {})).ok) diffKey = "";
  });
  $("fix-review").addEventListener("click", async () => {
    if ((await act("fix-review", {})).ok) diffKey = "";
  });
  $("spotlight").addEventListener("click", () => act("spotlight", {}));
  $("spotlight-off").addEventListener("click", () => act("spotlight-off", {}));
  $("serve-start").addEventListener("click", () => act("serve-start", {}));
  $("serve-stop").addEventListener("click", () => act("serve-stop", {}));
}
