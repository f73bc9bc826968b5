// The project's command line: `npm run setup -- ovh`, `npm run new-client -- NAME --host H`,
// `npm run check`. Runs in Node (tsx); the commands live in scripts/cli/.
import { processIo } from "./cli/io";
import { main } from "./cli/main";

process.exitCode = await main(process.argv.slice(2), processIo());
