// @apollo/gateway on @apollo/server, composing the catalog and vod-gateway.
// Usage: node apollo-gateway.mjs --port 0 --catalog URL --vod URL      (IntrospectAndCompose)
//        node apollo-gateway.mjs --port 0 --supergraph supergraph.graphql  (composed ahead, as in production)
// VOD_GATEWAY_API_KEY, when set, is sent to vod-gateway as `Authorization: Bearer <key>`.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { exitOnError, flags, serveOnLoopback, stderrLogger, vodHeaders } from './common.mjs';

async function main() {
  const { port, catalog, vod, supergraph } = flags();
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph
      ? readFileSync(supergraph, 'utf8')
      : new IntrospectAndCompose({
          subgraphs: [
            { name: 'catalog', url: catalog },
            { name: 'vod', url: vod },
          ],
          introspectionHeaders: (service) => (service.name === 'vod' ? vodHeaders() : {}),
        }),
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request }) {
          if (name !== 'vod') return;
          for (const [header, value] of Object.entries(vodHeaders())) request.http.headers.set(header, value);
        },
      }),
    logger: stderrLogger,
  });
  const server = new ApolloServer({ gateway, logger: stderrLogger, includeStacktraceInErrorResponses: false });
  await serveOnLoopback(server, port);
}

exitOnError(main());
