/**
 * Starter question sets for common LLM failure modes. They suggest what to ask, never what the answer
 * is: every answer starts empty and is written by the people doing the analysis.
 */
export interface WhyTemplate {
  id: string;
  title: string;
  questions: string[];
}

export const FIVE_WHYS_TEMPLATES: readonly WhyTemplate[] = [
  {
    id: 'gpu_memory_exhaustion',
    title: 'GPU memory exhaustion',
    questions: [
      'Why did the model server run out of GPU memory?',
      'Why did memory demand exceed what the GPUs could hold (batch size, context length, KV cache, fragmentation)?',
      'Why did admission control or autoscaling not keep demand within capacity?',
      'Why was the capacity limit not known or not enforced before it was reached?',
      'Why did monitoring not warn before memory was exhausted?',
    ],
  },
  {
    id: 'provider_outage',
    title: 'Model provider outage',
    questions: [
      'Why did requests to the model provider fail?',
      'Why did the failures reach users instead of being absorbed (retries, fallback model, cached answers)?',
      'Why did fail-over to another provider or region not happen, or not happen in time?',
      'Why was the dependency on a single provider accepted?',
      'Why did we learn of the outage when we did, and not earlier?',
    ],
  },
  {
    id: 'rate_limiting',
    title: 'Rate limiting (429 storm)',
    questions: [
      'Why did the provider start rejecting requests with 429?',
      'Why did our request or token rate exceed the quota (traffic, retries, a new caller)?',
      'Why did retries amplify the load instead of backing off?',
      'Why was the quota not raised or the traffic not shaped before the limit was hit?',
      'Why did alerting not show quota headroom shrinking?',
    ],
  },
  {
    id: 'bad_rollout',
    title: 'Bad model or prompt rollout',
    questions: [
      'Why did the new model or prompt version degrade answers, latency or cost?',
      'Why did evaluation before the rollout not catch the regression?',
      'Why did the rollout reach this share of traffic before the regression was noticed?',
      'Why was rolling back not immediate?',
      'Why did our release process allow this change without a canary or guardrail?',
    ],
  },
  {
    id: 'traffic_surge',
    title: 'Traffic surge',
    questions: [
      'Why did traffic rise beyond what the service could serve?',
      'Why was the surge not expected (campaign, launch, abuse, a client bug)?',
      'Why did capacity not scale, or load shedding not protect the core paths?',
      'Why did the overload spread to other services?',
      'Why did the teams that knew about the surge not tell the teams that run the service?',
    ],
  },
];
