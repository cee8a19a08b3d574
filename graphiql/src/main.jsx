// Entry point of the self-hosted GraphiQL explorer served by vod-gateway.
//
// Everything the page needs comes from the gateway's own origin: the HTML page only
// carries a JSON data block (<script type="application/json" id="graphiql-config">),
// which this bundle reads, so the Content-Security-Policy can forbid inline scripts.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST } from 'graphql';
import { createClient } from 'graphql-ws';
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
    // several example operations open as one tab each (the first is defaultQuery)
    defaultTabs: Array.isArray(config.defaultTabs)
      ? config.defaultTabs.filter((query) => typeof query === 'string').map((query) => ({ query }))
      : undefined,
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

// Same-origin endpoints: HTTP for queries and mutations, a WebSocket (graphql-transport-ws)
// for subscriptions. The Content-Security-Policy's connect-src allows exactly these.
const httpUrl = new URL(config.graphqlPath, window.location.href);
const wsUrl = new URL(httpUrl.href);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

const httpFetcher = createGraphiQLFetcher({ url: httpUrl.href });

// Queries go over HTTP with the headers editor's headers; a subscription opens its own WebSocket
// whose connection_init payload is the headers editor's JSON, so {"Authorization": "Bearer <key>"}
// authenticates it (browsers can't set headers on a WebSocket).
function fetcher(params, opts) {
  if (isSubscription(opts?.documentAST, params.operationName)) return subscribe(params, opts?.headers);
  return httpFetcher(params, opts);
}

function isSubscription(documentAST, operationName) {
  if (!documentAST) return false;
  try {
    return getOperationAST(documentAST, operationName || undefined)?.operation === 'subscription';
  } catch {
    return false;
  }
}

// One client per run: it connects lazily and is disposed when the subscription completes, fails
// or is stopped. No retries: a refused key or a closed socket shows up at once, in the result pane.
function subscribe(params, headers) {
  const queue = [];
  const waiting = [];
  let ended = false;
  let failure = null;
  const client = createClient({
    url: wsUrl.href,
    connectionParams: isPlainObject(headers) ? headers : {},
    lazy: true,
    retryAttempts: 0,
  });
  const settle = () => {
    while (waiting.length) {
      const { resolve, reject } = waiting.shift();
      if (failure) {
        reject(failure);
        failure = null;
      } else resolve({ done: true, value: undefined });
    }
  };
  const end = (error) => {
    if (ended) return;
    ended = true;
    failure = error ?? null;
    settle();
    client.dispose();
  };
  const unsubscribe = client.subscribe(
    { query: params.query, variables: params.variables, operationName: params.operationName },
    {
      next(value) {
        const waiter = waiting.shift();
        if (waiter) waiter.resolve({ done: false, value });
        else queue.push(value);
      },
      error: (error) => end(explain(error)),
      complete: () => end(),
    },
  );
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (queue.length) return Promise.resolve({ done: false, value: queue.shift() });
      if (ended) {
        const error = failure;
        failure = null;
        return error ? Promise.reject(error) : Promise.resolve({ done: true, value: undefined });
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      unsubscribe(); // sends "complete": the gateway releases the IDs at once
      end();
      return Promise.resolve({ done: true, value: undefined });
    },
  };
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// What the result pane shows when the socket fails: plain {message} objects (GraphiQL prints
// Error objects with their stack), GraphQL errors as they came.
function explain(error) {
  if (Array.isArray(error)) return error;
  if (isPlainObject(error) && 'code' in error && 'reason' in error) {
    const closed = `${error.code}${error.reason ? ` ${error.reason}` : ''}`;
    if (error.code === 4403) {
      return {
        message:
          `The gateway refused the WebSocket (${closed}): it needs an API key. Put ` +
          '{"Authorization": "Bearer <key>"} in this tab\'s Headers; they are sent in connection_init.',
      };
    }
    if (error.code === 1006) return { message: `Could not keep a WebSocket open to ${wsUrl.href} (${closed})` };
    return { message: `The WebSocket closed: ${closed}` };
  }
  return { message: error?.message || String(error) };
}

const root = createRoot(document.getElementById('graphiql'));
root.render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={config.defaultQuery}
    defaultTabs={config.defaultTabs}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
  />,
);
