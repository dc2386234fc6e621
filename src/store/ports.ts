import type { Store } from './types.js';

/*
 * The store as each of its clients sees it: one port per role. A store class implements them all
 * (`Store`); a client imports only its own, so a change for one role does not reach the others'
 * contracts. The architecture test holds every module outside the composition root to its port.
 */

/** The webhook: stores each event once. */
export type EventLog = Pick<Store, 'insertEvent'>;
/** Settings kept with the data (the handshake's token, the console's session epoch). */
export type Meta = Pick<Store, 'getMeta' | 'setMeta'>;
/** The matcher: takes stored events to match, records each match with its jobs. */
export type MatchQueue = Pick<
  Store,
  | 'claimEvents'
  | 'completeDispatch'
  | 'deferDispatch'
  | 'isStale'
  | 'trackEntities'
  | 'snapshotOf'
  | 'claimWindow'
  | 'addToDigest'
  | 'scheduleDelay'
  | 'restartDelay'
  | 'cancelDelay'
  | 'pausedRules'
>;
/** The digest flusher: takes due groups, stores each group's job. */
export type DigestQueue = Pick<Store, 'claimDigests' | 'digestItems' | 'completeDigest' | 'dropDigest' | 'postponeDigest' | 'nextDigestAt'>;
/** The delay runner: takes due waits, checks their rule again, stores the job or ends the wait. */
export type DelayQueue = Pick<Store, 'claimDelays' | 'completeDelay' | 'dropDelay' | 'postponeDelay' | 'nextDelayAt' | 'getEvent'>;
/** The scheduler: stores each tick once, and knows whether a rule ever ran. */
export type Ticks = Pick<Store, 'insertEvent' | 'lastTick'>;
/** `snapshot --database`: seeds page snapshots. */
export type Snapshots = Pick<Store, 'snapshotOf' | 'recordSnapshots'>;
/** The job runner: takes due jobs, records each action's outcome, defers a job to its turn. */
export type JobQueue = Pick<Store, 'claimJobs' | 'recordAttempt' | 'deferJob' | 'extendLeases' | 'nextRunAt'>;
/** Destinations' pace shared by replicas, and waiting calls made due when a breaker closes. */
export type Pacing = Pick<Store, 'pace' | 'hasten'>;
/** What operators read and do (admin API, console, CLI, /health, /metrics, retention): one read model. */
export type OpsQueries = Pick<
  Store,
  | 'getEvent'
  | 'countEvents'
  | 'getJobs'
  | 'getAttempts'
  | 'listJobs'
  | 'listEvents'
  | 'counts'
  | 'replayEvent'
  | 'replayFailed'
  | 'replayJob'
  | 'rerenderJob'
  | 'replayDead'
  | 'prune'
  | 'sizeBytes'
  | 'timingStatus'
  | 'pauseRule'
  | 'resumeRule'
  | 'pausedRules'
  | 'recordAudit'
  | 'listAudit'
  | 'readFlow'
>;
/** The flow recorder: adds each minute's counts. */
export type FlowLog = Pick<Store, 'addFlow' | 'counts'>;
/** The audit log's record of each load of the rules (it compares with the last one recorded, kept in meta). */
export type RulesAudit = Pick<Store, 'getMeta' | 'setMeta' | 'recordAudit'>;
/** The search actions and the search views. */
export type SearchIndex = Pick<Store, 'indexDocument' | 'deleteDocument' | 'search'>;
/** /health's store line. */
export type StoreStatus = Pick<Store, 'kind' | 'health'>;
