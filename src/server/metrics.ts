import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryHooks, DeliveryOutcome } from '../delivery/hooks.js';
import type { ReloadStatus } from '../engine/coordinator.js';
import type { RuleSet } from '../engine/rule-set.js';
import type { Destinations, DestinationState } from '../delivery/destinations.js';
import { lagsOf } from '../store/core/summary.js';
import type { OpsQueries } from '../store/ports.js';
import type { RejectReason } from './routes/webhook.js';
import { REJECT_REASONS } from '../receiver/receive.js';
import { actionTypes } from '../actions/registry.js';
import { version } from '../util/paths.js';

/** `notion_rules_actions_total`'s outcome, as the attempt is recorded (a 429 is recorded as a retry). */
const ATTEMPT_OUTCOME: Record<DeliveryOutcome, 'ok' | 'retry' | 'dead'> = { delivered: 'ok', retried: 'retry', rate_limited: 'retry', dead: 'dead' };

/**
 * The service's Prometheus metrics. One registry per service (tests run several in one process);
 * queue gauges are read from the store at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly received = new Counter({
    name: 'notion_rules_events_received_total',
    help: 'Events stored (first delivery), by event type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly duplicates = new Counter({
    name: 'notion_rules_events_duplicate_total',
    help: 'Deliveries of an event id already stored.',
    registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: 'notion_rules_events_rejected_total',
    help: 'Webhook requests refused, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly ruleOutcomes = new Counter({
    name: 'notion_rules_rule_evaluations_total',
    help: 'Rules evaluated for an event, by rule id and outcome (matched, digested: joined a digest group, throttled: matched but already ran for its key in the window, paused: an operator paused the rule, condition_false, condition_error, condition_timeout, fetch_error, render_error).',
    labelNames: ['rule', 'outcome'],
    registers: [this.registry],
  });
  private readonly matches = new Counter({
    name: 'notion_rules_rule_matches_total',
    help: 'Events a rule matched, by rule id.',
    labelNames: ['rule'],
    registers: [this.registry],
  });
  private readonly conditionErrors = new Counter({
    name: 'notion_rules_condition_errors_total',
    help: 'Conditions that threw or timed out, by rule id.',
    labelNames: ['rule'],
    registers: [this.registry],
  });
  private readonly actions = new Counter({
    name: 'notion_rules_actions_total',
    help: 'Action attempts, by action type and outcome (ok, retry, dead).',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'notion_rules_destination_actions_total',
    help: 'Action outcomes by destination (notion, slack:<channel>, http:<origin>; the action type for log and search) and outcome (delivered, retried, rate_limited: asked to slow down, no attempt spent, dead).',
    labelNames: ['destination', 'outcome'],
    registers: [this.registry],
  });
  private readonly shadowActions = new Counter({
    name: 'notion_rules_shadow_actions_total',
    help: 'Actions a shadow rule (mode: shadow) rendered and recorded but did not send, by rule id and action type: what it would have done.',
    labelNames: ['rule', 'type'],
    registers: [this.registry],
  });
  private readonly ingestSeconds = new Histogram({
    name: 'notion_rules_ingest_duration_seconds',
    help: 'Time from a webhook request read to its 200 answer: verification, the durable commit, the answer (new events only).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly actionSeconds = new Histogram({
    name: 'notion_rules_action_duration_seconds',
    help: 'Time an action attempt took, by action type.',
    labelNames: ['type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly reloads = new Counter({
    name: 'notion_rules_rules_reloads_total',
    help: 'Rule reloads, by result (success, failure) and trigger.',
    labelNames: ['result', 'trigger'],
    registers: [this.registry],
  });
  private readonly lastReloadOk = new Gauge({
    name: 'notion_rules_rules_last_reload_successful',
    help: '1 when the last reload succeeded, 0 when it failed and older rules are running.',
    registers: [this.registry],
  });
  private readonly lastReloadAt = new Gauge({
    name: 'notion_rules_rules_last_reload_success_timestamp_seconds',
    help: 'When the rules were last loaded successfully.',
    registers: [this.registry],
  });
  private readonly rulesActive = new Gauge({ name: 'notion_rules_rules_active', help: 'Enabled rules in the active rule set.', registers: [this.registry] });
  private readonly prunedEvents = new Counter({
    name: 'notion_rules_pruned_events_total',
    help: 'Resolved events deleted past store.retention.days (their jobs and attempts with them).',
    registers: [this.registry],
  });
  private readonly rulesInfo = new Gauge({
    name: 'notion_rules_rules_version_info',
    help: 'The active rule set version (content hash) as a label.',
    labelNames: ['version'],
    registers: [this.registry],
  });

  constructor(store: OpsQueries, destinations?: Destinations) {
    // Under their standard names (process_*, nodejs_*), so stock Node.js dashboards find them.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'notion_rules_build_info',
      help: 'The running build: version and Node.js version as labels, value 1.',
      labelNames: ['version', 'node'],
      registers: [this.registry],
    }).set({ version, node: process.versions.node }, 1);
    // Labelled series exist from the start at 0, so rate() and alerts see them before the first event.
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    for (const type of actionTypes()) for (const outcome of ['ok', 'retry', 'dead']) this.actions.inc({ type, outcome }, 0);
    for (const result of ['success', 'failure']) this.reloads.inc({ result, trigger: 'start' }, 0);
    const registry = this.registry;
    let cached: Promise<Awaited<ReturnType<OpsQueries['counts']>>> | undefined;
    // One store query per scrape for all queue gauges.
    const counts = () => (cached ??= store.counts().finally(() => setImmediate(() => (cached = undefined))));
    const gauge = (name: string, help: string, pick: (c: Awaited<ReturnType<OpsQueries['counts']>>) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          try {
            this.set(pick(await counts()));
          } catch {
            // the store is down: /health says so; leave the last value
          }
        },
      });
    gauge('notion_rules_queue_depth', 'Jobs waiting or running.', (c) => c.pending + c.running);
    gauge('notion_rules_events_awaiting_match', 'Stored events not yet matched against the rules.', (c) => c.eventsToDispatch);
    gauge('notion_rules_dead_jobs', 'Jobs in dead letters.', (c) => c.dead);
    gauge('notion_rules_failed_events', 'Events a rule failed for (fetch, condition or template), not replayed yet.', (c) => c.failedEvents);
    gauge('notion_rules_shadow_jobs', 'Jobs recorded by shadow rules (their actions were not sent; kept until retention).', (c) => c.shadow);
    new Gauge({
      name: 'notion_rules_rules_paused',
      help: 'Rules an operator paused (they create no jobs until resumed).',
      registers: [registry],
      async collect() {
        try {
          this.set((await store.pausedRules(Date.now())).length);
        } catch {
          // the store is down: /health says so
        }
      },
    });
    gauge('notion_rules_job_lag_seconds', 'How long the oldest due job has waited (0: none late).', (c) => lagsOf(c, Date.now()).jobsMs / 1000);
    gauge('notion_rules_match_lag_seconds', 'Age of the oldest event not yet matched (0: none).', (c) => lagsOf(c, Date.now()).matchMs / 1000);
    if (destinations) {
      const pick = (name: string, help: string, value: (d: DestinationState) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['destination'],
          registers: [registry],
          collect() {
            this.reset();
            for (const d of destinations.snapshot()) this.set({ destination: d.destination }, value(d));
          },
        });
      pick(
        'notion_rules_destination_paused_until_seconds',
        'Until when a destination is paused after a 429 or 529 (0: not paused), by destination (notion, slack:<channel>, http:<origin>).',
        (d) => (d.pausedUntil ? Date.parse(d.pausedUntil) / 1000 : 0),
      );
      pick(
        'notion_rules_destination_failing',
        "1 while a destination's breaker is open (real failures in a row; one probe call per backoff period), by destination.",
        (d) => (d.failing ? 1 : 0),
      );
      pick(
        'notion_rules_destination_queued_calls',
        'Calls waiting in the store for their turn at a destination (its pace, a pause), by destination.',
        (d) => d.queued,
      );
      pick(
        'notion_rules_destination_speed_ratio',
        "A destination's pace as a share of its configured rate: below 1 after 429s (adaptive), recovering with each success.",
        (d) => d.speed,
      );
      // Running totals kept by Destinations, exposed as counters (rate() works on them).
      const total = (name: string, help: string, value: (d: DestinationState) => number) => {
        const seen = new Map<string, number>();
        return new Counter({
          name,
          help,
          labelNames: ['destination'],
          registers: [registry],
          collect() {
            for (const d of destinations.snapshot()) {
              const now = value(d);
              const delta = now - (seen.get(d.destination) ?? 0);
              if (delta > 0) this.inc({ destination: d.destination }, delta);
              seen.set(d.destination, now);
            }
          },
        });
      };
      total('notion_rules_destination_calls_total', 'Calls made to a destination by this process.', (d) => d.calls);
      total('notion_rules_destination_rate_limited_total', 'Answers that asked this process to slow down (429, 529), by destination.', (d) => d.limited);
    }
    new Gauge({
      name: 'notion_rules_store_bytes',
      help: 'Size of the store on disk (SQLite: the database file and its WAL; PostgreSQL: the database).',
      registers: [registry],
      async collect() {
        try {
          this.set(await store.sizeBytes());
        } catch {
          // the store is down: /health says so
        }
      },
    });
  }

  pruned(events: number): void {
    this.prunedEvents.inc(events);
  }

  eventStored(type: string): void {
    this.received.inc({ type });
  }

  /** A new event answered 200 `seconds` after its request was read. */
  ingested(seconds: number): void {
    this.ingestSeconds.observe(seconds);
  }

  eventDuplicate(): void {
    this.duplicates.inc();
  }

  eventRejected(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  reloaded(status: ReloadStatus, ruleSet: RuleSet): void {
    this.reloads.inc({ result: status.ok ? 'success' : 'failure', trigger: status.trigger });
    this.lastReloadOk.set(status.ok ? 1 : 0);
    if (status.ok) this.lastReloadAt.set(status.at.getTime() / 1000);
    this.rulesActive.set(ruleSet.rules.length);
    this.rulesInfo.reset();
    this.rulesInfo.set({ version: ruleSet.version }, 1);
    // Each rule's series from the start (a large folder's beyond the first thousand appear at their first match).
    for (const rule of ruleSet.rules.slice(0, 1000)) this.matches.inc({ rule: rule.id }, 0);
  }

  /** Delivery hooks feeding the counters. */
  hooks(): DeliveryHooks {
    return {
      onRuleOutcome: (rule, outcome) => {
        this.ruleOutcomes.inc({ rule, outcome });
        if (outcome === 'matched') this.matches.inc({ rule });
        if (outcome === 'condition_error' || outcome === 'condition_timeout') this.conditionErrors.inc({ rule });
      },
      onShadowJob: (rule, types) => {
        for (const type of types) this.shadowActions.inc({ rule, type });
      },
      onAction: (type, destination, outcome, ms) => {
        this.actions.inc({ type, outcome: ATTEMPT_OUTCOME[outcome] });
        this.actionSeconds.observe({ type }, ms / 1000);
        this.deliveries.inc({ destination, outcome });
      },
    };
  }
}
