// The benchmark's peer: the stack the product page mounts its handler on (Hono on Node).
// POST /webhooks/shopify: verify Shopify's HMAC-SHA256 (base64) over the raw body with a
// timing-safe comparison, parse the JSON, answer 200; nothing is stored or forwarded.
// Run as `node server.mjs --ready-file PATH`; the secret comes from the environment
// (SEED_STACK_WEBHOOK_SECRET), never from the command line. Listens on a free loopback port
// and writes {"http": "127.0.0.1:PORT"} to PATH (atomically) once serving; SIGTERM/SIGINT stop it.
import { createHmac, timingSafeEqual } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const MAX_BODY_BYTES = 1024 * 1024; // the bridge's default body limit
const secret = process.env.SEED_STACK_WEBHOOK_SECRET;
const flag = process.argv.indexOf("--ready-file");
const readyFile = flag > 0 ? process.argv[flag + 1] : undefined;
if (!secret || !readyFile) {
  console.error("usage: SEED_STACK_WEBHOOK_SECRET=... node server.mjs --ready-file PATH");
  process.exit(2);
}
const key = Buffer.from(secret, "utf8");

function validSignature(body, header) {
  if (!header) return false;
  const expected = createHmac("sha256", key).update(body).digest();
  const given = Buffer.from(header, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const app = new Hono();
app.post("/webhooks/shopify", async (c) => {
  const length = Number(c.req.header("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) return c.json({ status: "rejected", reason: "too large" }, 413);
  const body = Buffer.from(await c.req.arrayBuffer());
  if (!validSignature(body, c.req.header("x-shopify-hmac-sha256"))) {
    return c.json({ status: "rejected", reason: "bad signature" }, 401);
  }
  try {
    JSON.parse(body.toString("utf8"));
  } catch {
    return c.json({ status: "rejected", reason: "not JSON" }, 400);
  }
  return c.json({ status: "accepted", event_id: null });
});

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  const temporary = `${readyFile}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ http: `127.0.0.1:${info.port}` }));
  renameSync(temporary, readyFile);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
