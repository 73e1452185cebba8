import type { NamedSecret } from "./names.js";
import { Redactor } from "./redact.js";

/**
 * What keeps secrets out of commits: the secrets no committed file may hold, and what holds each
 * (a variable, an env file), so that a refusal can name it without showing it.
 */
export interface CommitGuard {
  /** Finds the secrets barred from commits (see {@link NamedSecret.barredFromCommits}). */
  readonly redactor: Redactor;
  /** What holds `value`: `OPENAI_API_KEY`, `API_TOKEN from .env.local`; empty when unknown. */
  namesOf(value: string): readonly string[];
}

/**
 * The secrets a run knows, growing as env files are copied: one set for the whole run, so a
 * secret of one workspace is redacted wherever it shows up, and every artefact of the run is
 * redacted against the same values.
 */
export class KnownSecrets {
  private readonly values = new Set<string>();
  private current = new Redactor([]);
  private readonly names = new Map<string, string[]>();
  private readonly barred = new Set<string>();
  /** The redactor of {@link barred}, made when first asked for after a change. */
  private guard: Redactor | undefined;

  constructor(values: Iterable<string | NamedSecret> = []) {
    this.add(values);
  }

  /**
   * Adds secrets; the redactor is rebuilt only when one is new. A bare value is only redacted; a
   * named one may also keep files out of commits.
   */
  add(secrets: Iterable<string | NamedSecret>): void {
    const before = this.values.size;
    for (const secret of secrets) {
      if (typeof secret === "string") {
        this.values.add(secret);
        continue;
      }
      this.values.add(secret.value);
      const names = this.names.get(secret.value) ?? [];
      if (!names.includes(secret.name)) this.names.set(secret.value, [...names, secret.name]);
      if (secret.barredFromCommits && !this.barred.has(secret.value)) {
        this.barred.add(secret.value);
        this.guard = undefined;
      }
    }
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

  /** The secrets no committed file may hold, as known now. */
  commitGuard(): CommitGuard {
    this.guard ??= new Redactor(this.barred);
    const names = this.names;
    return { redactor: this.guard, namesOf: (value) => names.get(value) ?? [] };
  }
}
