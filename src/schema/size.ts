/** Sizes in the config: a whole number of bytes, or a number with a unit (`10MB`, `512 KiB`, `2GB`). */

/** What a written size looks like (checked by the schema). */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)\s*$/i;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Bytes of a size as written (a number, or text matching {@link SIZE_PATTERN}). */
export function parseSize(written: number | string): number {
  if (typeof written === "number") return written;
  const match = SIZE_PATTERN.exec(written);
  if (!match) throw new Error(`not a size: ${written}`);
  return Math.round(Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number));
}

/** A size for people: `2.1 GB`, `10 MB`, `512 B`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1000 ** 3) return `${(bytes / 1000 ** 3).toFixed(1)} GB`;
  if (bytes >= 1000 ** 2) return `${(bytes / 1000 ** 2).toFixed(1)} MB`;
  if (bytes >= 1000) return `${(bytes / 1000).toFixed(1)} KB`;
  return `${bytes} B`;
}
