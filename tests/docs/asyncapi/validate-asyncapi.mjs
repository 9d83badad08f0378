// Parses an AsyncAPI document with @asyncapi/parser; prints each error or warning
// as one JSON line and exits 1 when any has error severity (0 when the document is valid).
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const [path] = process.argv.slice(2);
const { diagnostics } = await new Parser().parse(await readFile(path, "utf8"));
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, path: d.path.join("/"), message: d.message }));
}
process.exit(diagnostics.some((d) => d.severity === 0) ? 1 : 0);
