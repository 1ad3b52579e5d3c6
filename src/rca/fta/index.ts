/**
 * Fault tree analysis: import (Open-PSA MEF XML, Firebreak JSON), validation, exact minimal cut sets
 * and probabilities via BDD/ZBDD, importance measures, SVG drawing, and example trees for LLM services.
 * Pure: no I/O beyond the bundled examples, so the HTTP API, the CLI and the benchmark share it.
 */
export {
  FAULT_TREE_FORMAT,
  FaultTreeModelSchema,
  FaultTreeSchema,
  GateSchema,
  GateTypeSchema,
  BasicEventSchema,
  HouseEventSchema,
  basicEventProbability,
  type FaultTreeModel,
  type FaultTree,
  type Gate,
  type GateType,
  type BasicEvent,
  type HouseEvent,
} from './model.ts';
export { parseFaultTreeJson, exportFaultTreeJson, stringifyFaultTreeJson } from './json.ts';
export { parseOpenPsaMef } from './mef.ts';
export { validateFaultTreeModel, listTopGates, type TopGate } from './validate.ts';
export {
  analyzeFaultTree,
  computeMinimalCutSets,
  type AnalysisOptions,
  type FaultTreeAnalysis,
  type CutSet,
  type ImportanceMeasures,
} from './analysis.ts';
export { renderFaultTreeSvg, type SvgOptions } from './svg.ts';
export { listExampleFaultTrees, type ExampleFaultTree } from './examples.ts';
