import { Redactor } from "./redact.js";

/**
 * The secrets a run knows, growing as env files are copied: one set for the whole run, so a
 * secret of one workspace is redacted wherever it shows up, and every artefact of the run is
 * redacted against the same values.
 */
export class KnownSecrets {
  private readonly values = new Set<string>();
  private current = new Redactor([]);

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  /** Adds secrets; the redactor is rebuilt only when one is new. */
  add(values: Iterable<string>): void {
    const before = this.values.size;
    for (const value of values) this.values.add(value);
    if (this.values.size !== before) this.current = new Redactor(this.values);
  }

  /** A redactor for the secrets known now (streams keep the one they started with). */
  get redactor(): Redactor {
    return this.current;
  }

  /** `text` with every known secret replaced by `[redacted]`. */
  redact(text: string): string {
    return this.current.redact(text);
  }
}
