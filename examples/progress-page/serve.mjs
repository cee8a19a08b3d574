// Serves dist/ on loopback (a page opened from file:// has the origin "null", which CORS refuses):
//   node serve.mjs [--port 8080]      then open http://127.0.0.1:8080/?gateway=...&ids=...
// Start the gateway with GATEWAY_CORS_ORIGINS=http://127.0.0.1:8080 (the page's origin).
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const dist = join(dirname(fileURLToPath(import.meta.url)), "dist");
const { port } = parseArgs({ options: { port: { type: "string", default: "8080" } } }).values;
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

const server = createServer(async (request, response) => {
  const path = normalize(new URL(request.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
  try {
    const body = await readFile(join(dist, path));
    response.writeHead(200, { "content-type": types[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream" });
    response.end(body);
  } catch {
    response.writeHead(404).end();
  }
});
server.listen(Number(port), "127.0.0.1", () => console.log(`READY http://127.0.0.1:${server.address().port}/`));
