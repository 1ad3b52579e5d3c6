export { EgressPolicy, parseEgressList, type EgressRules } from './policy.ts';
export { EgressClient, describeOutboundError, type EgressRequestInit } from './client.ts';
