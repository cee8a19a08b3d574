// Bundles the page into dist/ (index.html and progress.js) with esbuild: no CDN, nothing fetched
// at run time but the gateway.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.js")],
  outfile: join(dist, "progress.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  logLevel: "warning",
});
await copyFile(join(here, "src", "index.html"), join(dist, "index.html"));
console.log(`built ${dist}`);
