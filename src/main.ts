import { runCli } from './cli/main.ts';
import { CLI_COMMANDS } from './cli/commands.ts';

const code = await runCli(process.argv.slice(2), CLI_COMMANDS);
// `serve` never returns; every other command exits with its status once output is flushed.
process.exitCode = code;
