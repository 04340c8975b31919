// The fabric's public surface. Re-exports only.
export { Fabric, type FabricOptions, type FabricStats } from './fabric.ts';
export { DEFAULT_LINK, validateLinkConfig, type LinkConfig } from './link.ts';
export { sampleLatency, validateLatency, type LatencyDistribution } from './latency.ts';
export type { Envelope, Message, NodeId } from './message.ts';
export type { NodeContext, NodeInfo, NodeOptions, NodeProcess, ProcessFactory, TimerHandle } from './node.ts';
export { PersistentStore } from './persistent-store.ts';
