// Composes the supergraph with @apollo/composition and prints {errors, hints} as one JSON line.
// Usage: node compose.mjs --vod-sdl schema.federation.graphql --vod-url URL --catalog-url URL
//                         [--catalog-sdl FILE] [--out supergraph.graphql]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { typeDefs as catalogTypeDefs } from './catalog.mjs';

const { values } = parseArgs({
  options: {
    'vod-sdl': { type: 'string' },
    'vod-url': { type: 'string', default: 'http://127.0.0.1:8000/graphql' },
    'catalog-sdl': { type: 'string' },
    'catalog-url': { type: 'string', default: 'http://127.0.0.1:4001/' },
    out: { type: 'string' },
  },
});
const catalogSdl = values['catalog-sdl'] ? readFileSync(values['catalog-sdl'], 'utf8') : catalogTypeDefs;
const result = composeServices([
  { name: 'catalog', url: values['catalog-url'], typeDefs: parse(catalogSdl) },
  { name: 'vod', url: values['vod-url'], typeDefs: parse(readFileSync(values['vod-sdl'], 'utf8')) },
]);
if (values.out && result.supergraphSdl) writeFileSync(values.out, result.supergraphSdl);
const report = {
  errors: (result.errors ?? []).map((e) => ({ code: e.extensions?.code ?? null, message: e.message })),
  hints: (result.hints ?? []).map((h) => ({ code: h.definition.code, level: h.definition.level.name, message: h.message })),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exitCode = report.errors.length ? 2 : 0;
