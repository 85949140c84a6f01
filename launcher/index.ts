// The launcher's public entry point: the topology of a local deployment, as benchmarks read it.
export { planReplicas, readTopology, Topology, type ReplicaPlan } from './src/topology.ts';
