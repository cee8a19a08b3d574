// Entry point of the self-hosted GraphiQL explorer served by vod-gateway.
//
// Everything the page needs comes from the gateway's own origin: the HTML page only
// carries a JSON data block (<script type="application/json" id="graphiql-config">),
// which this bundle reads, so the Content-Security-Policy can forbid inline scripts.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './page.css';

function readConfig() {
  const node = document.getElementById('graphiql-config');
  const config = node ? JSON.parse(node.textContent || '{}') : {};
  return {
    graphqlPath: config.graphqlPath || '/graphql',
    staticPath: config.staticPath || '/graphql/static',
    defaultQuery: typeof config.defaultQuery === 'string' ? config.defaultQuery : undefined,
  };
}

const config = readConfig();

// Monaco runs its language services in web workers. They are bundled as classic
// scripts under <staticPath>/workers/ so they load from this origin
// (CSP `worker-src 'self'`), never from a CDN and never from blob: URLs.
const WORKERS = { json: 'json.worker.js', graphql: 'graphql.worker.js' };
globalThis.MonacoEnvironment = {
  getWorkerUrl(_moduleId, label) {
    return `${config.staticPath}/workers/${WORKERS[label] || 'editor.worker.js'}`;
  },
  getWorker(_moduleId, label) {
    return new Worker(this.getWorkerUrl(_moduleId, label), { name: label });
  },
};

// Same-origin endpoints: HTTP for queries and mutations, graphql-ws for subscriptions.
const httpUrl = new URL(config.graphqlPath, window.location.href);
const wsUrl = new URL(httpUrl.href);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: httpUrl.href,
  subscriptionUrl: wsUrl.href,
});

const root = createRoot(document.getElementById('graphiql'));
root.render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={config.defaultQuery}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
  />,
);
