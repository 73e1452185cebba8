import { createRequire } from "node:module";
import path from "node:path";

/**
 * Where the page's files are: its own under `assets/ui/` of the package (shipped as they are,
 * no build step), and diff2html's prebuilt browser bundle from wherever npm installed the
 * package (beside conductor, or in its own node_modules).
 */
export interface UiAssets {
  dir: string;
  vendor: Record<string, string>;
}

/** The page's files for a conductor installed at `packageRoot`. */
export function uiAssets(packageRoot: string): UiAssets {
  const require = createRequire(path.join(packageRoot, "package.json"));
  const diff2html = path.dirname(require.resolve("diff2html/package.json"));
  return {
    dir: path.join(packageRoot, "assets", "ui"),
    vendor: {
      "diff2html-ui.min.js": path.join(diff2html, "bundles", "js", "diff2html-ui-slim.min.js"),
      "diff2html.min.css": path.join(diff2html, "bundles", "css", "diff2html.min.css"),
    },
  };
}
