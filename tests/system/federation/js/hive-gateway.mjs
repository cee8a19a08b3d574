// Hive Gateway (@graphql-hive/gateway's runtime) on a supergraph composed ahead of time, on Node's
// own HTTP server. Subscriptions go to vod-gateway over its default subgraph transport for them:
// HTTP with SSE (graphql-sse's distinct connections mode).
// Usage: node hive-gateway.mjs --port 0 --supergraph supergraph.graphql
// VOD_GATEWAY_API_KEY, when set, is sent to vod-gateway (only) as `Authorization: Bearer <key>`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { exitOnError, flags, vodHeaders } from './common.mjs';

async function main() {
  const { port, supergraph } = flags();
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(supergraph, 'utf8'),
    propagateHeaders: {
      fromClientToSubgraphs: ({ subgraphName }) => (subgraphName === 'vod' ? vodHeaders() : {}),
    },
    logging: 'error',
    graphiql: false,
    landingPage: false,
  });
  const server = createServer(gateway);
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.stdout.write(`READY http://127.0.0.1:${server.address().port}/graphql\n`);
}

exitOnError(main());
