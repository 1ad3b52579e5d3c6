import type { CommandRegistrar } from './main.ts';
import { onCallCommands } from '../oncall/index.ts';

/** Command groups contributed by capabilities (plans, drills, fta, …), in the order they appear in help. */
export const CLI_COMMANDS: readonly CommandRegistrar[] = [onCallCommands];
