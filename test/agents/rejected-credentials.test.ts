import { describe, expect, it } from "vitest";
import { rejectsCredentials } from "../../src/agents/rejected-credentials.js";

describe("rejectsCredentials", () => {
  it("knows how codex and claude say the provider refused their key", () => {
    for (const message of [
      // codex (the scripted server's and the real API's wording)
      'unexpected status 401 Unauthorized: {"error":{"message":"Incorrect API key provided"}}, url: http://127.0.0.1:9/v1/responses',
      "unexpected status 403 Forbidden: project not allowed, url: https://api.openai.com/v1/responses",
      // claude
      "Invalid API key · Fix external API key (HTTP 401)",
      "Failed to authenticate. API Error: 401 scripted status 401",
    ]) {
      expect(rejectsCredentials(message), message).toBe(true);
    }
  });

  it("leaves other errors, and a 401 that is not a status", () => {
    for (const message of [
      "unexpected status 500 Internal Server Error: boom",
      "unexpected status 429 Too Many Requests: rate limit reached",
      "stream disconnected before completion: x",
      "renamed 401 files, then the model stopped: context window exceeded",
      "unexpected status 404 Not Found: model scripted-model does not exist",
    ]) {
      expect(rejectsCredentials(message), message).toBe(false);
    }
  });
});
