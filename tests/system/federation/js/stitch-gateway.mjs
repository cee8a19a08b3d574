// A stitched gateway (@graphql-tools/stitch) on @apollo/server: the catalog's Video merged with
// vod-gateway's, batched through vod-gateway's `videos(ids:)` (exposed as `vodVideos`).
// Usage: node stitch-gateway.mjs --port 0 --catalog URL --vod URL [--vod-sdl schema.graphql]
// vod-gateway's schema comes from introspection, or from its committed SDL with --vod-sdl (for a
// gateway running with GATEWAY_INTROSPECTION=false).
// VOD_GATEWAY_API_KEY, when set, is sent to vod-gateway as `Authorization: Bearer <key>`.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { stitchSchemas } from '@graphql-tools/stitch';
import { GraphQLSchema, buildSchema } from 'graphql';
import { FilterRootFields, FilterTypes, RenameRootFields, schemaFromExecutor } from '@graphql-tools/wrap';
import { exitOnError, flags, serveOnLoopback, stderrLogger, vodHeaders } from './common.mjs';

// Both services are also federation subgraphs: their _entities, _service, _Any, link__Import, ...
// stay out of the stitched schema.
const federationPart = (name) => name.startsWith('_') || /^(link|federation)__/.test(name);
const withoutFederationFields = () => [
  new FilterRootFields((_operation, field) => !federationPart(field)),
  new FilterTypes((type) => !federationPart(type.name)),
];

/** The schema without its Subscription root type. */
function withoutSubscriptions(schema) {
  const config = schema.toConfig();
  const subscription = config.subscription;
  return new GraphQLSchema({ ...config, subscription: null, types: config.types.filter((t) => t !== subscription) });
}

async function main() {
  const { port, catalog, vod, 'vod-sdl': vodSdl } = flags();
  const catalogExecutor = buildHTTPExecutor({ endpoint: catalog });
  const vodExecutor = buildHTTPExecutor({ endpoint: vod, headers: vodHeaders() });
  const schema = stitchSchemas({
    subschemas: [
      {
        schema: await schemaFromExecutor(catalogExecutor),
        executor: catalogExecutor,
        transforms: withoutFederationFields(),
      },
      {
        // Subscription stays out: this gateway serves HTTP only, where a delegated subscription can't
        // run; clients subscribe over vod-gateway's own WebSocket (/graphql) instead
        schema: withoutSubscriptions(
          vodSdl ? buildSchema(readFileSync(vodSdl, 'utf8')) : await schemaFromExecutor(vodExecutor),
        ),
        executor: vodExecutor,
        // the catalog owns the stitched Query.videos; vod-gateway's videos(ids:) is exposed as vodVideos
        transforms: [
          ...withoutFederationFields(),
          new RenameRootFields((operation, name) => (operation === 'Query' && name === 'videos' ? 'vodVideos' : name)),
        ],
        batch: true,
        merge: {
          Video: {
            selectionSet: '{ id }',
            fieldName: 'vodVideos',
            key: ({ id }) => id,
            argsFromKeys: (ids) => ({ ids }),
          },
        },
      },
    ],
  });
  const server = new ApolloServer({ schema, logger: stderrLogger, includeStacktraceInErrorResponses: false });
  await serveOnLoopback(server, port);
}

exitOnError(main());
