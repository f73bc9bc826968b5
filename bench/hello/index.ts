// The smallest Hono Worker: the baseline the benchmarks compare ovh-dyndns-worker with (bundle
// size, start-up time, requests per second), built and served exactly the same way. It answers
// every GET, so the throughput rounds can send it the very request the dyndns Worker gets.
import { Hono } from "hono";

const app = new Hono();

app.get("*", (c) => c.text("Hello Hono!\n"));

export default app;
