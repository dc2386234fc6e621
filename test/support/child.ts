import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot } from './fixtures.js';

export const CLI = join(repoRoot, 'dist/cli/main.js');

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A `notion-rules serve` child process, talking real HTTP on 127.0.0.1. */
export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  logs: LogLine[];
  stderr: string[];
  /** Resolves with the first log line that `match` accepts (already seen or future). */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Servers a test started and did not stop (it failed, or timed out) are killed after it, so no
// `serve` process outlives its test with its temp folder gone.
const started = new Set<ChildProcess>();
const killLeftovers = () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  started.clear();
};
afterEach(killLeftovers);
process.once('exit', killLeftovers);

/** Writes `config` as YAML into `dir` and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>, name = 'config.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}

/** Starts `notion-rules serve --config FILE` and waits until it listens. */
export async function startServer(configFile: string, env: Record<string, string> = {}, extraArgs: string[] = []): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configFile, ...extraArgs], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(proc);
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { level: 'raw', msg: text };
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`no matching log line; stderr: ${stderr.join('\n')}\nlogs: ${JSON.stringify(logs.slice(-10))}`)),
        timeoutMs,
      );
      waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code}) before the expected log line; stderr: ${stderr.join('\n')}`));
      });
    });

  const listening = await waitForLog((l) => l.msg === 'notion-rules listening');
  return {
    proc,
    url: String(listening.url),
    logs,
    stderr,
    waitForLog,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion and collects its output. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdin.end(input ?? '');
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
