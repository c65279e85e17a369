export type {
  Clock,
  HealthProbe,
  Ownership,
  PinStore,
  RouteDecision,
  RouteRequest,
  TemplateMatcher,
  WorkerSpec,
  WorkerView,
} from './types.js';
export { HealthState, asWorkerId } from './types.js';
export type { WorkerId } from './types.js';
export type { NoWorkerReason } from './errors.js';
export { RouterError, RouterErrorCode } from './errors.js';
export type { HealthOptions } from './health.js';
export { DEFAULT_HEALTH_OPTIONS } from './health.js';
export type { OwnerKind } from './pool.js';
export { WorkerPool } from './pool.js';
export type { Strategy } from './strategies.js';
export {
  ClientAffinity,
  ConsistentHash,
  LeastConnections,
  LeastResponseTime,
  RoundRobin,
  StrategyName,
  WeightedRoundRobin,
  createStrategy,
  isStrategyName,
} from './strategies.js';
export type { RouterOptions, RoutingDecision } from './router.js';
export { Router, ownerKindOf, resolveHealthOptions, targetFieldOf } from './router.js';
