// urql (@urql/core 6): GET queries through fetchExchange, subscriptions over graphql-ws
// (subscriptionExchange) and over SSE (fetchExchange's fetchSubscriptions), and
// persistedExchange, as README.md's "Querying" section configures them.
import { createHash } from "node:crypto";
import { Client, fetchExchange, gql, subscriptionExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { onEnd, pipe, subscribe } from "wonka";
import { SUMMARIES, UPDATES, args, codes, headers, processing, progressRecorder, recordingFetch, report } from "./common.mjs";

await report({
  async getQuery() {
    const log = [];
    const client = new Client({ url: args.url, exchanges: [fetchExchange], preferGetMethod: true, fetch: recordingFetch(log), fetchOptions: { headers } });
    const result = await client.query(gql(SUMMARIES), { ids: [args.done, args.missing] }, { requestPolicy: "network-only" }).toPromise();
    return { data: result.data, errorCodes: codes(result.error?.graphQLErrors), requests: log };
  },

  async subscriptionOverGraphqlWs() {
    const ws = createWsClient({ url: args.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: headers.authorization ? { Authorization: headers.authorization } : {} });
    const client = new Client({
      url: args.url,
      fetchOptions: { headers },
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({ subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? "" }, sink) }) }),
        }),
      ],
    });
    const ended = await completeOf(client, UPDATES);
    await ws.dispose();
    return ended;
  },

  async subscriptionOverSse() {
    const client = new Client({ url: args.url, exchanges: [fetchExchange], fetchSubscriptions: true, fetchOptions: { headers } });
    return completeOf(client, UPDATES);
  },

  async streamedAndDeferred() {
    const client = new Client({ url: args.url, exchanges: [fetchExchange], fetchOptions: { headers } });
    const query = gql(`query UrqlIncremental($ids: [ID!]!) {
      transcodeSummaries(videoIds: $ids) @stream(initialCount: 0) { videoId }
      videos(ids: $ids) { id ... @defer { transcodeSummary { videoId } } }
    }`);
    const results = [];
    await new Promise((resolve, reject) => {
      pipe(
        client.query(query, { ids: [args.done, args.missing] }, { requestPolicy: "network-only" }),
        onEnd(resolve),
        subscribe((result) => {
          if (result.error?.networkError) return reject(result.error);
          results.push({ data: result.data, hasNext: result.hasNext, errorCodes: codes(result.error?.graphQLErrors) });
          if (!result.hasNext) resolve();
        }),
      );
    });
    return { results };
  },

  async persistedGetQuery() {
    const log = [];
    const sha256 = async (document) => createHash("sha256").update(document).digest("hex");
    const client = new Client({
      url: args.url,
      fetch: recordingFetch(log),
      fetchOptions: { headers },
      exchanges: [persistedExchange({ preferGetForPersistedQueries: true, generateHash: sha256 }), fetchExchange],
    });
    const query = gql("query UrqlPersisted($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId progress } }");
    const first = await client.query(query, { ids: [args.done] }, { requestPolicy: "network-only" }).toPromise();
    const second = await client.query(query, { ids: [args.done] }, { requestPolicy: "network-only" }).toPromise();
    return { first: first.data, second: second.data, requests: log };
  },
});

async function completeOf(client, query) {
  const recorder = progressRecorder();
  let last;
  await new Promise((resolve, reject) => {
    pipe(
      client.subscription(gql(query), { ids: processing }),
      onEnd(resolve), // the server completed the subscription
      subscribe((result) => {
        if (result.error) return reject(result.error);
        // the end of the stream comes as the last result again, with hasNext false: not an event
        if (result.data && result.data !== last) recorder.onEvent(result.data.transcodeSummaryUpdates).catch(reject);
        last = result.data;
      }),
    );
  });
  return { ended: "complete", seen: recorder.seen };
}
