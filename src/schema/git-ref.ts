/**
 * Why `name` is not a valid git branch name (the rules of `git check-ref-format --branch`), or
 * undefined when it is. Checked without running git so that validation stays free of I/O.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name === "@") return "is '@', which git reserves";
  if (name === "HEAD") return "is 'HEAD', which git reserves";
  if (name.startsWith("-")) return "starts with '-'";
  if (name.startsWith("/") || name.endsWith("/")) return "starts or ends with '/'";
  if (name.endsWith(".")) return "ends with '.'";
  if (name.includes("..")) return "contains '..'";
  if (name.includes("//")) return "contains '//'";
  if (name.includes("@{")) return "contains '@{'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in refs
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) return `contains ${JSON.stringify(bad[0])}, which git does not allow in branch names`;
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return `has a path component starting with '.' (${part})`;
    if (part.endsWith(".lock")) return `has a path component ending with '.lock' (${part})`;
  }
  return undefined;
}
