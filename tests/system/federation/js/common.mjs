// Shared by the JS processes the pytest tests start: flags, the vod-gateway credential, the ready line.
import { parseArgs } from 'node:util';
import { startStandaloneServer } from '@apollo/server/standalone';

/** Flags: --port (0 = any free port), --catalog URL, --vod URL, --supergraph FILE, --vod-sdl FILE, --ids a,b,c */
export function flags() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      catalog: { type: 'string' },
      vod: { type: 'string' },
      supergraph: { type: 'string' },
      'vod-sdl': { type: 'string' },
      ids: { type: 'string', default: '' },
    },
  });
  return { ...values, port: Number(values.port) };
}

/** Headers for calls to vod-gateway: its API key (GATEWAY_API_KEYS) when VOD_GATEWAY_API_KEY is set. */
export function vodHeaders() {
  const key = process.env.VOD_GATEWAY_API_KEY;
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Listens on loopback and prints `READY <url>` (the only line on stdout) once it accepts queries. */
export async function serveOnLoopback(server, port) {
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port } });
  process.stdout.write(`READY ${url}\n`);
}

/** Logs to stderr, so stdout carries nothing but the ready line. */
export const stderrLogger = {
  debug: () => {},
  info: (...args) => console.error('[info]', ...args),
  warn: (...args) => console.error('[warn]', ...args),
  error: (...args) => console.error('[error]', ...args),
};

export function exitOnError(promise) {
  promise.catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
