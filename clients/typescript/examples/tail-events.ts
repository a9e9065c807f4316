// Example: print every canonical event as a JSON line, resuming across core restarts.
// Build with `npm run build`, then: node dist/examples/tail-events.js [host:port] [afterSequence]
import { toJsonString } from "@bufbuild/protobuf";
import { CoreClient, EventSchema } from "../src/index.js";

const target = process.argv[2] ?? process.env.COMMERCE_GATEWAY_CORE ?? "127.0.0.1:50051";
const after = process.argv[3];
const client = new CoreClient({ target, token: process.env.COMMERCE_GATEWAY_TOKEN });
const subscription = client.subscribeEvents({
  afterSequence: after === undefined ? undefined : BigInt(after),
  onReconnect: (info) =>
    console.error(`reconnecting in ${Math.round(info.delayMs)} ms after ${info.error?.reason ?? "close"}, cursor ${info.cursor}`),
});
process.once("SIGINT", () => subscription.close());
for await (const event of subscription) {
  console.log(toJsonString(EventSchema, event));
}
client.close();
