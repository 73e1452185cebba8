import type { Reporter } from "../executor/events.js";

/** Options of {@link createJsonLinesReporter}. */
export interface JsonLinesReporterOptions {
  /** Receives one line (one JSON object and a newline) per event. */
  write: (text: string) => void;
}

/**
 * `--output json`: every event as one line of JSON, in order, exactly as the executor emitted it
 * (the same shape as `events.jsonl`), so tools can follow a run with `jq` or a line reader.
 */
export function createJsonLinesReporter(options: JsonLinesReporterOptions): Reporter {
  return {
    onEvent(event) {
      // JSON.stringify escapes newlines inside strings, so one event is always one line.
      options.write(`${JSON.stringify(event)}\n`);
    },
    close() {
      return Promise.resolve();
    },
  };
}
