/**
 * A small, strict XML reader and the structural rules of the JUnit XML that CI systems read
 * (the Jenkins / Ant junit schema): enough to prove a report is well-formed and well-shaped
 * without an XML library.
 */

/** One element: its name, attributes, child elements and text. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;

/** Parses a whole XML document; throws on anything not well-formed. */
export function parseXml(xml: string): XmlElement {
  let rest = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (rest.length > 0) {
    if (rest.startsWith("</")) {
      const match = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(rest);
      const open = stack.pop();
      if (!match || !open || open.name !== match[1])
        throw new Error(`mismatched close tag near: ${rest.slice(0, 40)}`);
      rest = rest.slice(match[0].length);
      if (stack.length === 0) root = open;
    } else if (rest.startsWith("<")) {
      const name = NAME.exec(rest.slice(1))?.[0];
      if (!name) throw new Error(`bad tag near: ${rest.slice(0, 40)}`);
      rest = rest.slice(1 + name.length);
      const element: XmlElement = { name, attributes: {}, children: [], text: "" };
      for (;;) {
        const attribute = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/.exec(rest);
        if (!attribute) break;
        const key = attribute[1] as string;
        if (key in element.attributes) throw new Error(`duplicate attribute ${key} on <${name}>`);
        element.attributes[key] = decode(attribute[2] as string);
        rest = rest.slice(attribute[0].length);
      }
      const end = /^\s*(\/?)>/.exec(rest);
      if (!end) throw new Error(`unterminated <${name}> near: ${rest.slice(0, 40)}`);
      rest = rest.slice(end[0].length);
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root !== undefined || stack.length > 0)
        throw new Error("more than one root element");
      if (end[1] === "/") {
        if (!parent) root = element;
      } else {
        stack.push(element);
      }
    } else {
      const next = rest.indexOf("<");
      const text = next === -1 ? rest : rest.slice(0, next);
      const parent = stack.at(-1);
      if (!parent) {
        if (text.trim() !== "") throw new Error("text outside the root element");
      } else {
        parent.text += decode(text);
      }
      rest = next === -1 ? "" : rest.slice(next);
    }
  }
  if (stack.length > 0 || root === undefined) throw new Error("unclosed elements");
  return root;
}

function decode(text: string): string {
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text))
    throw new Error(`bad entity in: ${text.slice(0, 60)}`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids exactly these
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text))
    throw new Error("a character XML 1.0 forbids");
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, code: string) =>
      String.fromCodePoint(Number.parseInt(code, 16)),
    )
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

const COUNT = /^\d+$/;
const SECONDS = /^\d+(\.\d+)?$/;

/**
 * Checks the JUnit shape: `<testsuites>` of `<testsuite>`s with counts that match their
 * `<testcase>`s, each test case with a name, classname and time and at most one of
 * `<failure>`, `<error>` or `<skipped>`. Returns every problem found (none when valid).
 */
export function junitProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  const need = (element: XmlElement, attribute: string, pattern?: RegExp) => {
    const value = element.attributes[attribute];
    if (value === undefined) problems.push(`<${element.name}> has no ${attribute}`);
    else if (pattern && !pattern.test(value))
      problems.push(`<${element.name}> ${attribute}="${value}" is malformed`);
  };
  if (root.name !== "testsuites") problems.push(`the root is <${root.name}>, not <testsuites>`);
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const suite of root.children) {
    if (suite.name !== "testsuite") {
      problems.push(`<testsuites> holds <${suite.name}>`);
      continue;
    }
    need(suite, "name");
    for (const attribute of ["tests", "failures", "errors", "skipped"])
      need(suite, attribute, COUNT);
    need(suite, "time", SECONDS);
    const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const child of suite.children) {
      if (child.name === "properties") {
        for (const property of child.children) {
          if (property.name !== "property") problems.push(`<properties> holds <${property.name}>`);
          need(property, "name");
          need(property, "value");
        }
        continue;
      }
      if (child.name === "system-out" || child.name === "system-err") continue;
      if (child.name !== "testcase") {
        problems.push(`<testsuite> holds <${child.name}>`);
        continue;
      }
      counts.tests++;
      need(child, "name");
      need(child, "classname");
      need(child, "time", SECONDS);
      const outcomes = child.children.filter((c) =>
        ["failure", "error", "skipped"].includes(c.name),
      );
      if (outcomes.length > 1)
        problems.push(`testcase ${child.attributes.name} has ${outcomes.length} outcomes`);
      for (const outcome of outcomes) {
        if (outcome.name === "failure") counts.failures++;
        if (outcome.name === "error") counts.errors++;
        if (outcome.name === "skipped") counts.skipped++;
        if (outcome.name !== "skipped") {
          need(outcome, "message");
          need(outcome, "type");
        }
      }
    }
    for (const [key, value] of Object.entries(counts)) {
      if (suite.attributes[key] !== String(value)) {
        problems.push(`<testsuite ${key}="${suite.attributes[key]}"> but it holds ${value}`);
      }
      totals[key as keyof typeof totals] += value;
    }
  }
  for (const [key, value] of Object.entries(totals)) {
    const stated = root.attributes[key];
    if (stated !== undefined && stated !== String(value))
      problems.push(`<testsuites ${key}="${stated}"> but the suites hold ${value}`);
  }
  return problems;
}

/** Every element named `name` under `root`, depth first. */
export function elements(root: XmlElement, name: string): XmlElement[] {
  const found = root.name === name ? [root] : [];
  for (const child of root.children) found.push(...elements(child, name));
  return found;
}
