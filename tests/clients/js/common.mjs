// What every client script shares: its arguments, the emulator's clock, a fetch that records what
// it sent, and the one JSON report line pytest reads (the last line printed).
import { parseArgs } from "node:util";

export const args = parseArgs({
  options: {
    url: { type: "string" }, // the gateway's /graphql
    emulator: { type: "string" }, // the emulator's base URL (its clock is advanced)
    processing: { type: "string" }, // JSON list of video IDs still transcoding
    done: { type: "string" }, // a finished video
    missing: { type: "string" }, // a video that doesn't exist
    key: { type: "string" }, // an API key, when the gateway has them on
    only: { type: "string" }, // comma-separated cases to run (default: all)
  },
}).values;

export const processing = JSON.parse(args.processing ?? "[]");
export const headers = args.key ? { authorization: `Bearer ${args.key}` } : {};

/** Moves the emulator's catalogue time on, so transcoding progresses. */
export async function advance(seconds = 60) {
  const response = await fetch(`${args.emulator}/_emulator/clock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advance: seconds }),
  });
  if (!response.ok) throw new Error(`advancing the emulator's clock: ${response.status}`);
}

/** A fetch that records each request's method, whether it carried a document, Accept and status. */
export function recordingFetch(log) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.url);
    const body = typeof init.body === "string" ? init.body : "";
    const response = await fetch(input, init);
    const accept = new Headers(init.headers).get("accept");
    log.push({
      method: init.method ?? "GET",
      hasQuery: url.searchParams.has("query") || body.includes('"query"'),
      hasHash: (url.searchParams.get("extensions") ?? body).includes("sha256Hash"),
      accept,
      status: response.status,
      contentType: response.headers.get("content-type"),
      cacheControl: response.headers.get("cache-control"),
    });
    return response;
  };
}

export const codes = (errors) => (errors ?? []).map((e) => e.extensions?.code);

/** Runs the named cases one after the other; prints {case: result | {failed: message}}. */
export async function report(cases) {
  const results = {};
  const only = args.only?.split(",");
  for (const [name, run] of Object.entries(cases)) {
    if (only && !only.includes(name)) continue;
    try {
      results[name] = await withTimeout(run(), 60_000, name);
    } catch (error) {
      results[name] = { failed: String(error?.stack ?? error) };
    }
  }
  console.log(JSON.stringify(results));
  process.exit(0);
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no end within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Follows a subscription's events (summaries of `processing`) to its end, advancing the clock on
 * each; returns each video's statuses and progress in order, and how it ended. */
export function progressRecorder() {
  const seen = {};
  return {
    seen,
    async onEvent(summary) {
      (seen[summary.videoId] ??= []).push([summary.transcodeStatus, summary.progress]);
      await advance(60);
    },
  };
}

export const UPDATES = `subscription Progress($ids: [ID!]!) {
  transcodeSummaryUpdates(videoIds: $ids) { videoId transcodeStatus progress }
}`;
export const SUMMARIES = `query Summaries($ids: [ID!]!) {
  transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress }
}`;
