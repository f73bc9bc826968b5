// `npm start`: the demo (scripts/demo.ts) on the terminal. A port that is taken or no port number
// is one line and exit status 1 or 2; Ctrl-C stops the Worker and the simulator.
import { startDemo } from "./demo";

const demo = await startDemo(process.env, console);
if ("exitCode" in demo) process.exit(demo.exitCode);
const stop = async () => {
  await demo.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
