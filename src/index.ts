// Entry: serve the API, or run a CLI verb (`migrate`, `tenant`, `seed`): the same in the compiled binary.
import { createApp } from "./app";
import { runCli, USAGE } from "./cli/index";
import { loadConfig } from "./config";
import { serve } from "./server";

export { createApp };
export type { App } from "./app";

if (import.meta.main) {
  const [command] = process.argv.slice(2);
  try {
    if (command === "--help" || command === "-h" || command === "help") console.log(USAGE);
    else if (command) process.exitCode = await runCli(process.argv.slice(2), loadConfig());
    else await serve(loadConfig());
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
