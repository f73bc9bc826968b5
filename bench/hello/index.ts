// The smallest Hono Worker: the baseline the benchmarks compare ovh-dyndns-worker with (bundle
// size, start-up time, requests per second), built and served exactly the same way.
import { Hono } from "hono";

const app = new Hono();

app.get("/", (c) => c.text("Hello Hono!\n"));

export default app;
