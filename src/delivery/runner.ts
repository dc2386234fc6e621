import type { Logger } from 'pino';
import { ActionError, networkError } from '../actions/errors.js';
import type { ActionExecutor } from '../actions/types.js';
import { StoreUnavailableError } from '../store/errors.js';
import type { JobQueue, SearchIndex } from '../store/ports.js';
import type { Attempt, Job, JobUpdate } from '../store/types.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { destinationOf, type Destinations } from './destinations.js';
import type { DeliveryHooks } from './hooks.js';
import { Pump } from './pump.js';

export interface RunnerOptions {
  store: JobQueue;
  /** What the search actions write to. */
  search: SearchIndex;
  actions: ReadonlyMap<string, ActionExecutor>;
  log: Logger;
  concurrency: number;
  maxAttempts: number;
  /** delivery.maxAge: real failures are retried until the job is this old. */
  maxAgeMs: number;
  /** Pace and pauses per destination (see destinations.ts). */
  destinations: Destinations;
  /** How long a claimed job is ours; renewed every quarter of it while it runs. */
  leaseMs: number;
  backoff: BackoffPolicy;
  hooks?: DeliveryHooks;
}

const POLL_MS = 1000;
/** Tries a job past delivery.maxAge still gets after it was stored or replayed. */
const MIN_TRIES_PAST_MAX_AGE = 3;
/** First and longest wait between tries to record an attempt while the store is unavailable. */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 5000;

/**
 * Runs jobs: a rule's actions in order, each success recorded before the next starts, so a retry
 * resumes at the first unfinished action. Retriable failures back off (full jitter, Retry-After);
 * others, and jobs out of attempts, go to dead-letter. At most `concurrency` jobs run at once.
 */
export class JobRunner {
  private readonly pump: Pump;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly running = new Set<number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Slots promised to jobs being stored already claimed (`reserve` → `adopt`). */
  private reserved = 0;
  /**
   * Before this time the store holds no due job we did not claim, as far as this process knows:
   * no claim is tried. Set to now by `wake` (new or replayed jobs), to a retry's time when one is
   * scheduled, and never later than the next poll (other replicas add jobs too).
   */
  private dueAt = 0;
  /** Counts `wake` calls, so a pass that ends after one does not push `dueAt` past it. */
  private wakes = 0;

  constructor(private readonly o: RunnerOptions) {
    this.pump = new Pump(
      () => this.fill(),
      POLL_MS,
      (err) => {
        o.log.error({ err }, 'job runner failed; retrying');
        o.hooks?.onUnexpectedError?.(err, 'job runner');
      },
    );
  }

  start(): void {
    this.pump.start();
    this.heartbeat = setInterval(() => {
      if (this.running.size === 0) return;
      // Renewed well before expiry, so only a dead replica's jobs are taken over.
      this.o.store.extendLeases([...this.running], Date.now() + this.o.leaseMs).catch((err: unknown) => this.o.log.warn({ err }, 'could not renew job leases'));
    }, this.o.leaseMs / 4);
    this.heartbeat.unref();
  }

  /** New jobs may be due now (stored, replayed): claim at the next pass. */
  wake(): void {
    this.dueAt = 0;
    this.wakes++;
    this.pump.wake();
  }

  /**
   * Holds up to `max` free slots for jobs the caller is about to store already claimed
   * (`Store.completeDispatch` with a lease); `adopt` starts them without a claim.
   */
  reserve(max: number): number {
    if (this.stopping) return 0;
    const n = Math.max(0, Math.min(max, this.o.concurrency - this.inFlight.size - this.reserved));
    this.reserved += n;
    return n;
  }

  /** Starts the claimed jobs among `jobs`, releases the `reserved` slots, wakes for pending ones. */
  adopt(jobs: Job[], reserved: number): void {
    this.reserved -= reserved;
    let pending = false;
    for (const job of jobs) {
      if (job.status === 'running' && !this.stopping) this.launch(job);
      else pending = true;
    }
    // A claimed job not started (stopping) is released at the next start or when its lease ends.
    if (pending) this.wake();
  }

  get active(): number {
    return this.inFlight.size;
  }

  /** Takes no new jobs; waits (bounded) for running ones. Unfinished jobs resume at the next start. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pump.stop(timeoutMs);
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
  }

  private async fill(): Promise<void> {
    if (Date.now() < this.dueAt) {
      // A finished job's pass: nothing new to claim yet.
      this.pump.schedule(this.dueAt - Date.now());
      return;
    }
    const wakes = this.wakes;
    while (!this.stopping) {
      const free = this.o.concurrency - this.inFlight.size - this.reserved;
      if (free <= 0) return;
      const jobs = await this.o.store.claimJobs(free, Date.now(), this.o.leaseMs);
      for (const job of jobs) this.launch(job);
      if (jobs.length < free) break;
    }
    // Nothing more due now: come back when the next retry is, or at the next poll.
    const next = await this.o.store.nextRunAt();
    const at = Math.min(Date.now() + POLL_MS, next ?? Infinity);
    if (this.wakes === wakes) this.dueAt = at; // else a wake came meanwhile: the next pass claims
    this.pump.schedule(at - Date.now());
  }

  private launch(job: Job): void {
    this.running.add(job.id);
    const p: Promise<void> = this.run(job)
      .catch((err: unknown) => {
        this.o.log.error({ err, jobId: job.id, eventId: job.eventId, ruleId: job.ruleId }, 'job failed unexpectedly; it resumes after a restart');
        this.o.hooks?.onUnexpectedError?.(err, 'job', { eventId: job.eventId, ruleId: job.ruleId, jobId: job.id });
      })
      .finally(() => {
        this.running.delete(job.id);
        this.inFlight.delete(p);
        this.pump.wake();
      });
    this.inFlight.add(p);
  }

  private async run(job: Job): Promise<void> {
    // The job's logger, made when first needed: a delivered action logs nothing at info level, and
    // a pino child serializes its bindings when made.
    let child: Logger | undefined;
    const log: JobLog = () => (child ??= this.o.log.child({ eventId: job.eventId, ruleId: job.ruleId, jobId: job.id }));
    for (let i = job.nextAction; i < job.actions.length; i++) {
      const action = job.actions[i]!;
      const dest = destinationOf(action);
      const turn = dest ? await this.o.destinations.ready(dest, jobKey(job.id, i), i === job.nextAction ? job.turnAt : undefined) : 0;
      if (turn > 0) {
        // Not this destination's turn yet (its pace, or a pause it asked for): the job waits in
        // the store, its slot free for other destinations' jobs, and spends no attempt.
        if (!(await this.o.store.deferJob(job.id, turn, this.o.destinations.reservedFor(jobKey(job.id, i)) === turn ? turn : null))) return this.lost(log, i);
        this.dueAt = Math.min(this.dueAt, turn);
        this.pump.schedule(turn - Date.now());
        return;
      }
      if (dest) this.o.destinations.called(dest);
      const started = Date.now();
      let result: Record<string, unknown> | undefined;
      try {
        const exec = this.o.actions.get(action.type);
        if (!exec) throw new ActionError(`unknown action type "${action.type}"`, { retriable: false, code: 'unknown_action' });
        const retry = i === job.nextAction && job.attempts > 0;
        result = await exec(action.params, {
          eventId: job.eventId,
          ruleId: job.ruleId,
          actionIndex: i,
          retry,
          since: job.createdAt,
          get log() {
            return log();
          },
          store: this.o.search,
        });
      } catch (err) {
        const e = err instanceof ActionError ? err : networkError(err, action.type);
        const durationMs = Date.now() - started;
        if (e.flowControl) return this.slowDown(job, i, dest, e, started, durationMs, log);
        if (dest && e.retriable) this.o.destinations.failed(dest, e.message, jobKey(job.id, i));
        const attempts = job.attempts + 1;
        // Patient: until maxAttempts real failures, or until the job is maxAge old (with a few
        // tries since it was stored or replayed, so a replayed old job is tried again).
        const young = Date.now() - job.createdAt < this.o.maxAgeMs || attempts < MIN_TRIES_PAST_MAX_AGE;
        const retry = e.retriable && attempts < this.o.maxAttempts && young;
        const delay = retry ? backoffDelay(attempts, this.o.backoff, e.retryAfterMs) : 0;
        const error = retry || !e.retriable ? e.message : `${e.message} (gave up after ${attempts} attempts)`;
        const owned = await this.record(
          log,
          job,
          { jobId: job.id, actionIndex: i, actionType: action.type, startedAt: started, durationMs, outcome: retry ? 'retry' : 'dead', error },
          { nextAction: i, status: retry ? 'pending' : 'dead', attempts, runAt: Date.now() + delay, lastError: error },
        );
        if (!owned) return this.lost(log, i);
        this.o.hooks?.onAction?.(action.type, dest ?? action.type, retry ? 'retried' : 'dead', durationMs);
        if (retry) {
          log().warn({ action: action.type, actionIndex: i, attempt: attempts, retryInMs: delay, err: e.message }, 'action failed; will retry');
          this.dueAt = Math.min(this.dueAt, Date.now() + delay);
          this.pump.schedule(delay);
        } else {
          log().error(
            { action: action.type, actionIndex: i, attempt: attempts, err: error },
            'action failed; job is dead (replay it with `notion-rules replay`)',
          );
          this.o.hooks?.onJobFinished?.(job.id, 'dead');
          this.o.hooks?.onDeadLetter?.({ ...job, attempts, lastError: error }, i, e);
        }
        return;
      }
      const durationMs = Date.now() - started;
      if (dest) this.o.destinations.succeeded(dest);
      const last = i === job.actions.length - 1;
      const owned = await this.record(
        log,
        job,
        { jobId: job.id, actionIndex: i, actionType: action.type, startedAt: started, durationMs, outcome: 'ok', result },
        { nextAction: i + 1, status: last ? 'done' : 'running', attempts: job.attempts, runAt: job.runAt, lastError: null },
      );
      if (!owned) return this.lost(log, i);
      this.o.hooks?.onAction?.(action.type, dest ?? action.type, 'delivered', durationMs);
      if (this.o.log.isLevelEnabled('debug')) log().debug({ action: action.type, actionIndex: i, durationMs }, 'action done');
    }
    this.o.hooks?.onJobFinished?.(job.id, 'done');
  }

  /**
   * The destination said "slow down" (429, 529): every call to it pauses until Retry-After, and
   * this job waits until then too. Recorded as a retry for the history, but no attempt is spent:
   * flow control never leads to a dead letter.
   */
  private async slowDown(job: Job, i: number, dest: string | undefined, e: ActionError, started: number, durationMs: number, log: JobLog): Promise<void> {
    const action = job.actions[i]!;
    const until = dest ? await this.o.destinations.pause(dest, e.retryAfterMs, e.message) : Date.now() + (e.retryAfterMs ?? 1000);
    const owned = await this.record(
      log,
      job,
      {
        jobId: job.id,
        actionIndex: i,
        actionType: action.type,
        startedAt: started,
        durationMs,
        outcome: 'retry',
        error: `${e.message}: ${dest ?? action.type} paused until ${new Date(until).toISOString()}`,
      },
      { nextAction: i, status: 'pending', attempts: job.attempts, runAt: until, lastError: e.message },
    );
    if (!owned) return this.lost(log, i);
    this.o.hooks?.onAction?.(action.type, dest ?? action.type, 'rate_limited', durationMs);
    log().info(
      { action: action.type, actionIndex: i, destination: dest, pausedUntil: new Date(until).toISOString() },
      'destination asked to slow down; its calls pause until then (no attempt spent)',
    );
    this.dueAt = Math.min(this.dueAt, until);
    this.pump.schedule(until - Date.now());
  }

  /**
   * Records an attempt, holding on while the store cannot be written (disk full, database down):
   * the action has happened, so the job waits in memory, with its lease, until the record is
   * written, and then goes on. Nothing already done runs again, and no restart is needed. Only a
   * stop gives up (the action may then run again at the next start: the crash window).
   */
  private async record(log: JobLog, job: Job, attempt: Attempt, update: JobUpdate): Promise<boolean> {
    for (let wait = RECORD_RETRY_MS, warned = false; ; wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS)) {
      try {
        const owned = await this.o.store.recordAttempt(attempt, update);
        if (owned) this.o.hooks?.onAttempt?.(job, attempt);
        if (warned) log().info({ actionIndex: attempt.actionIndex }, "store writable again: the action's outcome is recorded and the job goes on");
        return owned;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError) || this.stopping) throw err;
        if (!warned)
          log().error(
            { actionIndex: attempt.actionIndex, err: err.message },
            "cannot record the action's outcome (store unavailable); holding the job until the store is writable",
          );
        warned = true;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Another replica holds this job now (our lease expired): leave it to them. */
  private lost(log: JobLog, actionIndex: number): void {
    log().warn({ actionIndex }, 'job lease lost to another replica; it continues there (this action may have run twice)');
  }
}

/** A job's logger (its event, rule and job id bound), made on first use. */
type JobLog = () => Logger;

/** A job's action as a caller of Destinations.turn. */
export function jobKey(jobId: number, actionIndex: number): string {
  return `job:${jobId}:${actionIndex}`;
}
