import { html, type SafeHtml } from './html.js';

export type Section = 'overview' | 'events' | 'dead' | 'rules' | 'audit' | 'search';

/** What the top of every page shows: the service's state, as /health reports it. */
export interface StatusLine {
  status: 'ok' | 'degraded';
  reasons: string[];
  queueDepth?: number;
  dead?: number;
  rulesVersion: string;
  rulesCount: number;
  successRate: number | null;
  /** Destinations paused by a 429 (flow control, not a fault): until when, why, calls waiting. */
  paused?: Array<{ destination: string; pausedUntil: string | null; reason: string | null; queued: number }>;
}

export interface Chrome {
  title: string;
  section?: Section;
  csrf?: string;
  status?: StatusLine;
  flash?: string | undefined;
}

const SECTIONS: Array<[Section, string, string]> = [
  ['overview', 'Overview', '/console'],
  ['events', 'Events', '/console/events'],
  ['dead', 'Dead letters', '/console/dead'],
  ['rules', 'Rules', '/console/rules'],
  ['audit', 'Audit', '/console/audit'],
  ['search', 'Search', '/console/search'],
];

/** The page around every console view: navigation, status line, one <main>. */
export function layout(chrome: Chrome, body: SafeHtml): SafeHtml {
  const nav = chrome.csrf
    ? html`<nav aria-label="Console">
        <ul>${SECTIONS.map(([key, label, href]) => html`<li><a href="${href}"${key === chrome.section ? html` aria-current="page"` : ''}>${label}${key === 'dead' && chrome.status?.dead ? ` (${chrome.status.dead})` : ''}</a></li>`)}</ul>
      </nav>
      <form class="inline" method="post" action="/console/logout"><input type="hidden" name="csrf" value="${chrome.csrf}"><button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${chrome.title} · notion-rules</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">notion-rules</span>${nav}</header>
${chrome.status ? statusLine(chrome.status) : ''}
<main id="main">
${chrome.flash ? html`<p class="flash" role="status">${chrome.flash}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

function statusLine(s: StatusLine): SafeHtml {
  const rate = s.successRate === null ? '—' : `${(s.successRate * 100).toFixed(1)} %`;
  return html`<section class="status" aria-label="Service status">
  <span>Status: <strong class="${s.status === 'ok' ? 'ok' : 'warn'}">${s.status}</strong></span>
  <span>Queue: ${s.queueDepth ?? '—'}</span>
  <span>Dead letters: <a href="/console/dead">${s.dead ?? '—'}</a></span>
  <span>Recent action success: ${rate}</span>
  <span>Rules: <a href="/console/rules">${s.rulesCount} · <code>${s.rulesVersion}</code></a></span>
  ${s.reasons.length > 0 ? html`<ul class="warn">${s.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
  ${s.paused && s.paused.length > 0 ? html`<ul class="paused">${s.paused.map((p) => html`<li>${p.destination} paused until ${p.pausedUntil ?? ''} (${p.reason ?? 'asked to slow down'}); ${p.queued} call${p.queued === 1 ? '' : 's'} waiting, no attempt spent</li>`)}</ul>` : ''}
</section>`;
}

/** A status word as a badge; colour repeats the word, it never replaces it. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'muted'): SafeHtml {
  return html`<span class="badge ${tone}">${text}</span>`;
}
