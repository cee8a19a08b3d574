// The progress page: a bar per video, fed by the transcodeSummaryUpdates subscription over SSE
// (graphql-sse, distinct connections mode), and a list of summaries that streams in with @stream.
// Where the gateway is and which videos to show come from the page's URL:
//   index.html?gateway=http://127.0.0.1:8000/graphql&ids=a,b,c[&list=d,e,f][&key=...]
import { createClient } from "graphql-sse";

const params = new URL(location.href).searchParams;
const gateway = params.get("gateway") ?? `${location.origin}/graphql`;
const ids = (params.get("ids") ?? "").split(",").filter(Boolean);
const listed = (params.get("list") ?? params.get("ids") ?? "").split(",").filter(Boolean);
const key = params.get("key");

const client = createClient({
  url: gateway,
  headers: key ? { authorization: `Bearer ${key}` } : {},
  retryAttempts: 0,
});

const PROGRESS = `subscription Progress($ids: [ID!]!) {
  transcodeSummaryUpdates(videoIds: $ids) { videoId transcodeStatus progress }
}`;
const LIST = `query List($ids: [ID!]!) {
  transcodeSummaries(videoIds: $ids) @stream(initialCount: 0) { videoId transcodeStatus progress }
}`;

function bar(videoId) {
  let row = document.querySelector(`[data-video="${CSS.escape(videoId)}"]`);
  if (!row) {
    row = document.createElement("li");
    row.dataset.video = videoId;
    row.innerHTML = `<code></code> <progress max="100" value="0"></progress> <span class="pct">0%</span> <span class="status"></span>`;
    row.querySelector("code").textContent = videoId.slice(0, 12);
    document.querySelector("#bars").append(row);
  }
  return row;
}

function draw(summary) {
  const row = bar(summary.videoId);
  row.querySelector("progress").value = summary.progress;
  row.querySelector(".pct").textContent = `${summary.progress}%`;
  row.querySelector(".status").textContent = summary.transcodeStatus;
  row.dataset.status = summary.transcodeStatus;
}

async function follow() {
  ids.forEach(bar);
  for await (const { data, errors } of client.iterate({ query: PROGRESS, variables: { ids } })) {
    if (data) draw(data.transcodeSummaryUpdates);
    for (const error of errors ?? []) note(`${error.extensions?.code}: ${error.message}`);
  }
  document.body.dataset.subscription = "complete";
}

async function list() {
  const items = document.querySelector("#list");
  for await (const payload of client.iterate({ query: LIST, variables: { ids: listed } })) {
    // the first payload has the (empty) initial list; each later one brings items as their call returns
    const streamed = (payload.incremental ?? []).flatMap((part) => part.items ?? []);
    for (const summary of [...(payload.data?.transcodeSummaries ?? []), ...streamed]) {
      const li = document.createElement("li");
      li.textContent = summary ? `${summary.videoId.slice(0, 12)} ${summary.transcodeStatus} ${summary.progress}%` : "(not found)";
      items.append(li);
    }
    for (const part of payload.incremental ?? []) for (const error of part.errors ?? []) note(error.extensions?.code);
  }
  document.body.dataset.list = "complete";
}

function note(text) {
  const li = document.createElement("li");
  li.textContent = text;
  document.querySelector("#notes").append(li);
}

follow().catch((error) => note(String(error)));
list().catch((error) => note(String(error)));
