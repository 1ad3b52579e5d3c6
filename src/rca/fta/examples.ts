import badRollout from './examples/bad-rollout-reaches-users.json' with { type: 'json' };
import errorRateSlo from './examples/llm-api-error-rate-slo-breach.json' with { type: 'json' };
import servingDown from './examples/model-serving-down.json' with { type: 'json' };
import { parseFaultTreeJson } from './json.ts';
import type { FaultTreeModel } from './model.ts';

export interface ExampleFaultTree {
  name: string;
  label: string;
  description: string;
  model: FaultTreeModel;
}

/**
 * Fault trees for common LLM-service incidents, to start from. Their probabilities are placeholders:
 * teams replace them with rates from their own incident history. Each call returns fresh copies.
 */
export function listExampleFaultTrees(): ExampleFaultTree[] {
  return [servingDown, errorRateSlo, badRollout].map((raw) => {
    const model = parseFaultTreeJson(structuredClone(raw));
    return { name: model.name, label: model.label ?? model.name, description: model.description ?? '', model };
  });
}
