// graphql-ws (graphql-transport-ws) in Node, on the `ws` package: a query and a subscription
// followed to its end.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { SUMMARIES, UPDATES, args, codes, headers, processing, progressRecorder, report } from "./common.mjs";

const url = args.url.replace(/^http/, "ws");

function client() {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams: headers.authorization ? { Authorization: headers.authorization } : {} });
}

await report({
  async query() {
    const ws = client();
    const result = await new Promise((resolve, reject) => {
      let last;
      ws.subscribe({ query: SUMMARIES, variables: { ids: [args.done, args.missing] } }, {
        next: (value) => (last = value),
        error: reject,
        complete: () => resolve(last),
      });
    });
    await ws.dispose();
    return { data: result.data, errorCodes: codes(result.errors) };
  },

  async subscription() {
    const ws = client();
    const recorder = progressRecorder();
    for await (const result of ws.iterate({ query: UPDATES, variables: { ids: processing } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      await recorder.onEvent(result.data.transcodeSummaryUpdates);
    }
    await ws.dispose();
    return { ended: "complete", seen: recorder.seen };
  },
});
