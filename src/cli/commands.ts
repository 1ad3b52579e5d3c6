import type { CommandRegistrar } from './main.ts';
import { registerRecoveryCommands } from '../recovery/cli.ts';
import { registerFaultTreeCommands } from '../rca/fta-cli.ts';
import { registerIngestCommands } from '../ingest/cli.ts';
import { registerLlmCommands } from '../llm/cli.ts';
import { registerPlanCommands } from '../plans/index.ts';
import { onCallCommands } from '../oncall/cli.ts';
import { registerDrillCommands } from '../drills/cli.ts';
import { registerChangeCommands } from '../changes/cli.ts';
import { registerUserCommands } from '../auth/cli.ts';

/** Command groups contributed by capabilities (plans, drills, fta, …), in the order they appear in help. */
export const CLI_COMMANDS: readonly CommandRegistrar[] = [registerUserCommands, registerRecoveryCommands, registerFaultTreeCommands, registerIngestCommands, registerLlmCommands, registerPlanCommands, onCallCommands, registerDrillCommands, registerChangeCommands];
