// The smallest Hono Worker: the baseline the benchmarks compare ovh-dyndns-worker with (bundle
// size, start-up time, workerd CPU per request), built and served exactly the same way. It
// answers every GET, so the bench can send it the very request a dyndns report makes.
import { Hono } from "hono";

const app = new Hono();

app.get("*", (c) => c.text("Hello Hono!\n"));

export default app;
