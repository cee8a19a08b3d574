// graphql-sse in its distinct connections mode (the default): each operation is its own
// text/event-stream request.
import { createClient } from "graphql-sse";
import { SUMMARIES, UPDATES, args, codes, headers, processing, progressRecorder, report } from "./common.mjs";

function client() {
  return createClient({ url: args.url, headers, retryAttempts: 0 });
}

await report({
  async query() {
    const sse = client();
    const results = [];
    for await (const result of sse.iterate({ query: SUMMARIES, variables: { ids: [args.done, args.missing] } })) {
      results.push(result);
    }
    sse.dispose();
    return { results: results.length, data: results[0].data, errorCodes: codes(results[0].errors) };
  },

  async subscription() {
    const sse = client();
    const recorder = progressRecorder();
    for await (const result of sse.iterate({ query: UPDATES, variables: { ids: processing } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      await recorder.onEvent(result.data.transcodeSummaryUpdates);
    }
    sse.dispose();
    return { ended: "complete", seen: recorder.seen };
  },

  async missingVideo() {
    const sse = client();
    const results = [];
    for await (const result of sse.iterate({ query: UPDATES, variables: { ids: [args.missing] } })) results.push(result);
    sse.dispose();
    return { data: results[0].data, errorCodes: codes(results[0].errors), paths: results[0].errors?.map((e) => e.path) };
  },
});
