import type { CommandRegistrar } from './main.ts';
import { registerIngestCommands } from '../ingest/cli.ts';
import { registerLlmCommands } from '../llm/cli.ts';

/** Command groups contributed by capabilities (plans, drills, fta, …), in the order they appear in help. */
export const CLI_COMMANDS: readonly CommandRegistrar[] = [registerIngestCommands, registerLlmCommands];
