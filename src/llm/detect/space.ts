/**
 * The detector's tunable parameters and the values the tuning procedure may choose from. The shipped
 * configuration (`DEFAULT_DETECTOR_CONFIG`) is one point of this space, the one `bench/nab/tune.ts`
 * chose over the whole NAB corpus; `bench/nab/heldout.ts` runs the same procedure on training files
 * only and scores what it chooses on the files it did not see. Every other configuration field is a
 * structural constant of the algorithm (a decay rate, a memory size) that the procedure does not move.
 *
 * The candidate lists were laid out by people who had seen the corpus; the choice within them is the
 * procedure's, which starts from a seeded random sample of the grid, never from the shipped point.
 */
export type TunableParameter =
  | 'learningPoints'
  | 'pointRef'
  | 'shortRef'
  | 'breakoutRef'
  | 'rarityRef'
  | 'pointRarityRef'
  | 'contextGate'
  | 'contextBoost'
  | 'recordTolerance'
  | 'cooldownPoints';

export const DETECTOR_TUNING_SPACE: Readonly<Record<TunableParameter, readonly number[]>> = Object.freeze({
  learningPoints: [200, 300, 500],
  pointRef: [2.5, 3.5, 5],
  shortRef: [3, 4, 5.5],
  breakoutRef: [0.1, 0.2, 0.4],
  rarityRef: [0.8, 1.15, 1.6],
  pointRarityRef: [1.6, 2.25, 3],
  contextGate: [0.5, 0.75, 1],
  contextBoost: [1.25, 1.5, 2],
  recordTolerance: [0.01, 0.02, 0.04],
  cooldownPoints: [100, 200, 400],
});
