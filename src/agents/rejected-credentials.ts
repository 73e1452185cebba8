/**
 * How the agents say the model provider refused their credentials: codex's `unexpected status
 * 401 Unauthorized: …` (403 Forbidden alike), claude's `Invalid API key · … (HTTP 401)` and
 * `Failed to authenticate. API Error: 401 …`.
 */
const REJECTED =
  /\b(?:status|HTTP|API Error:?)\s*(?:401|403)\b|\b401 Unauthorized\b|\b403 Forbidden\b|\binvalid api key\b|\bfailed to authenticate\b/i;

/**
 * Whether an agent's error says the provider refused its credentials (a wrong, expired or revoked
 * key, a lapsed login): every session with the same credentials fails the same way.
 */
export function rejectsCredentials(message: string): boolean {
  return REJECTED.test(message);
}
