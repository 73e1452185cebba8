/**
 * Puts back the variable that bin/conductor set aside for conductor's own start (see there),
 * before any other module runs: every program conductor starts gets the environment conductor
 * was started with. Imported first by main.ts. Carrier variable -> the variable it carries.
 */
const SET_ASIDE = { CONDUCTOR_NODE_EXTRA_CA_CERTS: "NODE_EXTRA_CA_CERTS" } as const;

for (const [carrier, name] of Object.entries(SET_ASIDE)) {
  const value = process.env[carrier];
  if (value === undefined) continue;
  process.env[name] = value;
  delete process.env[carrier];
}
