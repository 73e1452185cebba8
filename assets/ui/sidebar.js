// The sidebar: one row per workspace, kept by name and updated in place (no re-render of the
// list), so 50 rows and a stream of events stay cheap.
import { duration, elapsed, tokens } from "./format.js";

const list = document.getElementById("workspaces");
const rows = new Map(); // name → { element, data }

/** Rows in plan order. */
export function names() {
  return [...rows.keys()];
}

/** The data of a row. */
export function rowData(name) {
  return rows.get(name)?.data;
}

/** Replaces every row (a new state). */
export function setRows(workspaces, onSelect) {
  const keep = new Set(workspaces.map((row) => row.name));
  for (const [name, entry] of rows) {
    if (!keep.has(name)) {
      entry.element.remove();
      rows.delete(name);
    }
  }
  for (const data of workspaces) updateRow(data, onSelect);
  // Plan order, also for rows added by a resume with a changed plan.
  for (const data of workspaces) list.append(rows.get(data.name).element);
}

/** Updates (or adds) one row. */
export function updateRow(data, onSelect) {
  let entry = rows.get(data.name);
  if (!entry) {
    const element = document.createElement("div");
    element.className = "ws";
    element.setAttribute("role", "option");
    element.id = `ws-${cssId(data.name)}`;
    element.dataset.name = data.name;
    element.innerHTML =
      '<div class="line1"><span class="name"></span><span class="badge status"></span><span class="winner" hidden title="winner of its attempts">★ winner</span></div>' +
      '<div class="line2"><span class="step"></span><span class="elapsed"></span><span class="tokens"></span><span class="check"></span><span class="review"></span><span class="diffstat"></span><span class="served"></span></div>' +
      '<div class="line3"></div>';
    element.addEventListener("click", () => onSelect(data.name));
    entry = { element, data };
    rows.set(data.name, entry);
    list.append(element);
  }
  entry.data = data;
  const { element } = entry;
  element.dataset.status = data.status;
  element.dataset.step = data.step ?? "";
  element.querySelector(".name").textContent = data.name;
  const status = element.querySelector(".status");
  status.textContent = data.busy
    ? `${data.status} · ${data.busy}…`
    : data.archived
      ? "archived"
      : data.status;
  status.className = `badge status status-${data.status}`;
  element.querySelector(".winner").hidden = !data.winner;
  element.querySelector(".step").textContent = data.step ? `step: ${data.step}` : "";
  element.querySelector(".elapsed").textContent = duration(elapsed(data));
  element.querySelector(".tokens").textContent = tokens(data.tokens);
  const check = element.querySelector(".check");
  check.textContent = data.check && data.check !== "none" ? `check ${data.check}` : "";
  check.className = `check check-${data.check ?? "none"}`;
  const review = element.querySelector(".review");
  review.textContent = reviewText(data.review);
  review.className = `review ${data.review ? (data.review.correct === false ? "review-incorrect" : data.review.correct ? "review-correct" : "") : ""}`;
  // Text nodes, not HTML: the counts come from the run's record, a file an agent can write to.
  element
    .querySelector(".diffstat")
    .replaceChildren(
      ...(data.diff
        ? [
            span("added", `+${data.diff.insertions}`),
            " ",
            span("removed", `−${data.diff.deletions}`),
          ]
        : []),
    );
  element.querySelector(".served").textContent = data.servedPort
    ? `serving :${data.servedPort}`
    : "";
  element.querySelector(".line3").textContent =
    data.status === "failed" ? (data.failure ?? "") : (data.lastActivity ?? "");
  element.setAttribute(
    "aria-label",
    `${data.name}: ${data.status}${data.step ? `, step ${data.step}` : ""}${data.check && data.check !== "none" ? `, check ${data.check}` : ""}${data.review ? `, ${reviewText(data.review)}` : ""}${data.winner ? ", winner" : ""}`,
  );
}

/** Refreshes the elapsed time of running rows (once a second). */
export function tick() {
  for (const { element, data } of rows.values()) {
    if (data.status === "running")
      element.querySelector(".elapsed").textContent = duration(elapsed(data));
  }
}

/** Marks the selected row. */
export function markSelected(name) {
  for (const [rowName, { element }] of rows)
    element.setAttribute("aria-selected", String(rowName === name));
  const entry = rows.get(name);
  if (entry) {
    list.setAttribute("aria-activedescendant", entry.element.id);
    entry.element.scrollIntoView({ block: "nearest" });
  }
}

function reviewText(review) {
  if (!review) return "";
  if (review.status === "failed") return "review failed";
  if (review.status === "skipped") return "review skipped";
  const open = review.byPriority
    .map((count, priority) => (count ? `${count}×P${priority}` : ""))
    .filter(Boolean);
  const verdict =
    review.correct === true
      ? "review: correct"
      : review.correct === false
        ? "review: incorrect"
        : "reviewed";
  return open.length ? `${verdict} (${open.join(" ")})` : verdict;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function cssId(name) {
  return name.replace(/[^\w-]/g, "_");
}
