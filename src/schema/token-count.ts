/** A token count as written: `200000`, `200k`, `1.5M`. */
export const TOKEN_COUNT_PATTERN = /^\d+(?:\.\d+)?[kKmM]?$/;

/** `200k` → 200000, `1.5M` → 1500000; a number stays as it is. */
export function parseTokenCount(written: number | string): number {
  if (typeof written === "number") return written;
  const unit = written.slice(-1).toLowerCase();
  const factor = unit === "k" ? 1000 : unit === "m" ? 1_000_000 : 1;
  return Math.round(Number(factor === 1 ? written : written.slice(0, -1)) * factor);
}
