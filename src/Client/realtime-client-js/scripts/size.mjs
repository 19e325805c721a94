// Prints the client's minified + gzip size, and fails above the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";

// 7 KB since SharedDoc (about 2 KB of it): the reason is in README.md, "Size".
const budget = 7 * 1024;
const source = readFileSync(new URL("../src/realtime-client.js", import.meta.url), "utf8");
const { code } = await transform(source, { minify: true, format: "esm", target: "es2022" });
const gzip = gzipSync(code, { level: 9 }).length;
console.log(`realtime-client.js: ${source.length} B source, ${code.length} B minified, ${gzip} B minified + gzip (budget ${budget} B)`);
if (gzip > budget) {
  console.error("The browser client is over its size budget.");
  process.exit(1);
}
