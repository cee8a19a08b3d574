// Apollo Client 4 against the gateway, configured as README.md's "Querying" section shows:
// queries (errorPolicy "all" and the default), a subscription over HttpLink (multipart), @defer
// (GraphQL17Alpha9Handler) and automatic persisted queries (PersistedQueryLink, GET for hashes).
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQL17Alpha9Handler } from "@apollo/client/incremental";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { SUMMARIES, UPDATES, args, codes, headers, processing, progressRecorder, recordingFetch, report } from "./common.mjs";

function client(link) {
  return new ApolloClient({ link, cache: new InMemoryCache(), incrementalHandler: new GraphQL17Alpha9Handler() });
}

function http(log) {
  return new HttpLink({ uri: args.url, headers, fetch: recordingFetch(log) });
}

await report({
  async queryWithErrorPolicyAll() {
    const log = [];
    const result = await client(http(log)).query({
      query: gql(SUMMARIES),
      variables: { ids: [args.done, args.missing] },
      errorPolicy: "all",
      fetchPolicy: "no-cache",
    });
    return {
      data: result.data,
      errorCodes: codes(result.error?.errors),
      errorPaths: (result.error?.errors ?? []).map((e) => e.path),
      requests: log,
    };
  },

  async queryWithTheDefaultErrorPolicy() {
    try {
      await client(http([])).query({ query: gql(SUMMARIES), variables: { ids: [args.missing] }, fetchPolicy: "no-cache" });
      return { threw: false };
    } catch (error) {
      return { threw: true, name: error.constructor.name, errorCodes: codes(error.errors) };
    }
  },

  async validationErrorInTheSpecMediaType() {
    const log = [];
    const result = await client(http(log)).query({ query: gql("{ nope: __typename }"), fetchPolicy: "no-cache" });
    const bad = await client(http(log))
      .query({ query: gql("query($id: ID!) { transcodeSummary(videoId: $id) { videoId } }"), fetchPolicy: "no-cache", errorPolicy: "all" })
      .catch((error) => ({ error }));
    return { ok: result.data, errorCodes: codes(bad.error?.errors), requests: log };
  },

  async multipartSubscription() {
    const log = [];
    const recorder = progressRecorder();
    const ended = await new Promise((resolve, reject) => {
      client(http(log))
        .subscribe({ query: gql(UPDATES), variables: { ids: processing } })
        .subscribe({
          next: (result) => {
            if (result.error) reject(result.error);
            else recorder.onEvent(result.data.transcodeSummaryUpdates).catch(reject);
          },
          error: reject,
          complete: () => resolve("complete"),
        });
    });
    return { ended, seen: recorder.seen, requests: log };
  },

  async deferredSummaries() {
    const log = [];
    const query = gql(`query Deferred($ids: [ID!]!) {
      videos(ids: $ids) { id ... @defer(label: "summary") { transcodeSummary { videoId transcodeStatus } } }
    }`);
    const states = [];
    const final = await new Promise((resolve, reject) => {
      const observable = client(http(log)).watchQuery({ query, variables: { ids: [args.done, args.missing] }, errorPolicy: "all" });
      const subscription = observable.subscribe({
        next: (result) => {
          states.push(result.dataState);
          if (result.dataState === "complete" && !result.loading) {
            subscription.unsubscribe();
            resolve(result);
          }
        },
        error: reject,
      });
    });
    return { states, data: final.data, errorCodes: codes(final.error?.errors), requests: log };
  },

  async persistedQueries() {
    const log = [];
    const sha256 = (document) => createHash("sha256").update(document).digest("hex");
    const link = ApolloLink.from([new PersistedQueryLink({ sha256, useGETForHashedQueries: true }), http(log)]);
    const apollo = client(link);
    const query = gql("query Persisted($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId progress } }");
    const first = await apollo.query({ query, variables: { ids: [args.done] }, fetchPolicy: "no-cache" });
    const second = await apollo.query({ query, variables: { ids: [args.done] }, fetchPolicy: "no-cache" });
    return { first: first.data, second: second.data, requests: log };
  },
});
