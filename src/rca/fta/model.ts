import { Type, type Static } from 'typebox';

/**
 * The Firebreak fault-tree JSON format ("firebreak.fault-tree/v1").
 *
 * One document is one *model*: any number of fault trees sharing one pool of basic and house events
 * (this mirrors Open-PSA MEF, where `model-data` holds events used by several `define-fault-tree`s).
 * Every name lives in one namespace (gates, basic events and house events together), so a gate input
 * is just a name; this keeps hand-written JSON short and makes references unambiguous.
 *
 * Gate semantics (inputs are gate, basic-event or house-event names):
 * - `and`, `or`: the usual, any number (>= 1) of inputs.
 * - `atleast`: true when at least `k` of the `n` inputs are true (1 <= k <= n), also called k-out-of-n / voting.
 * - `not`: exactly one input.
 * - `xor`: exactly two inputs (n-ary xor is read differently by different tools, so it is not accepted).
 * - `nand`, `nor`: negated `and` / `or`.
 *
 * Basic events carry either a `probability` in [0, 1], or an exponential failure model
 * `failureRate` (lambda, per hour) with `missionTime` (hours): p = 1 - exp(-lambda * t).
 * House events are constants (`state`: true means "this condition holds"), used to switch parts of a tree on or off.
 */
export const FAULT_TREE_FORMAT = 'firebreak.fault-tree/v1';

const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Unique within the model (gates and events share one namespace)' });
const Text = Type.String({ maxLength: 2000 });

export const GateTypeSchema = Type.Union(
  [
    Type.Literal('and'),
    Type.Literal('or'),
    Type.Literal('atleast'),
    Type.Literal('not'),
    Type.Literal('xor'),
    Type.Literal('nand'),
    Type.Literal('nor'),
  ],
  { description: 'Logic of the gate' },
);
export type GateType = Static<typeof GateTypeSchema>;

export const GateSchema = Type.Object(
  {
    name: Name,
    type: GateTypeSchema,
    k: Type.Optional(Type.Integer({ minimum: 1, description: 'For `atleast` only: how many inputs must be true' })),
    inputs: Type.Array(Name, { minItems: 1, description: 'Names of gates, basic events or house events' }),
    label: Type.Optional(Text),
    description: Type.Optional(Text),
  },
  { additionalProperties: false },
);
export type Gate = Static<typeof GateSchema>;

export const BasicEventSchema = Type.Object(
  {
    name: Name,
    probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Probability of failure over the period analysed' })),
    failureRate: Type.Optional(Type.Number({ minimum: 0, description: 'Exponential failure rate lambda (per hour); needs missionTime' })),
    missionTime: Type.Optional(Type.Number({ minimum: 0, description: 'Exposure time in hours for failureRate' })),
    label: Type.Optional(Text),
    description: Type.Optional(Text),
  },
  { additionalProperties: false },
);
export type BasicEvent = Static<typeof BasicEventSchema>;

export const HouseEventSchema = Type.Object(
  {
    name: Name,
    state: Type.Boolean({ description: 'true: the condition holds (the event has occurred)' }),
    label: Type.Optional(Text),
    description: Type.Optional(Text),
  },
  { additionalProperties: false },
);
export type HouseEvent = Static<typeof HouseEventSchema>;

export const FaultTreeSchema = Type.Object(
  {
    name: Name,
    top: Type.Optional(Type.String({ minLength: 1, description: 'Top gate of this tree; default: its only root gate, else its first root gate' })),
    label: Type.Optional(Text),
    description: Type.Optional(Text),
    gates: Type.Array(GateSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type FaultTree = Static<typeof FaultTreeSchema>;

export const FaultTreeModelSchema = Type.Object(
  {
    format: Type.Literal(FAULT_TREE_FORMAT),
    name: Name,
    label: Type.Optional(Text),
    description: Type.Optional(Text),
    faultTrees: Type.Array(FaultTreeSchema, { minItems: 1 }),
    basicEvents: Type.Array(BasicEventSchema),
    houseEvents: Type.Optional(Type.Array(HouseEventSchema)),
  },
  { additionalProperties: false, description: 'A fault-tree model in the Firebreak JSON format (firebreak.fault-tree/v1)' },
);
export type FaultTreeModel = Static<typeof FaultTreeModelSchema>;

/** Probability of a basic event, from either representation; validation guarantees one is present. */
export function basicEventProbability(event: BasicEvent): number {
  if (event.probability !== undefined) return event.probability;
  return -Math.expm1(-(event.failureRate ?? 0) * (event.missionTime ?? 0));
}
