// A tiny catalog subgraph: owns Video { id title } (@key "id") and lists the videos it was given.
// Usage: node catalog.mjs --port 0 --ids id1,id2,...   (prints `READY <url>`)
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { exitOnError, flags, serveOnLoopback, stderrLogger } from './common.mjs';

export const typeDefs = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type Query {
  "Every video of the catalog, in catalog order."
  videos: [Video!]!
}

type Video @key(fields: "id") {
  id: ID!
  title: String!
}
`;

export const titleOf = (index) => `Video #${index + 1}`;

async function main() {
  const { port, ids } = flags();
  const videos = ids.split(',').filter(Boolean).map((id, index) => ({ id, title: titleOf(index) }));
  const byId = new Map(videos.map((video) => [video.id, video]));
  const resolvers = {
    Query: { videos: () => videos },
    Video: { __resolveReference: ({ id }) => byId.get(id) ?? null },
  };
  const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers });
  await serveOnLoopback(new ApolloServer({ schema, logger: stderrLogger }), port);
}

if (import.meta.url === `file://${process.argv[1]}`) exitOnError(main());
