// Small formatters shared by the sidebar and the detail view.

/** `1m 05s`, `3.2s`. */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${(ms / 1000).toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** `12.3k tok`. */
export function tokens(count) {
  if (!count) return "";
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k tok` : `${count} tok`;
}

/** Elapsed time of a row: finished sessions plus the running one. */
export function elapsed(row, now = Date.now()) {
  const running = row.status === "running" && row.startedAt ? now - Date.parse(row.startedAt) : 0;
  return (row.durationMs ?? 0) + Math.max(0, running);
}

/** `HH:MM:SS` of an ISO time. */
export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}
