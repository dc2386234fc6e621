import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Running {
  proc: ChildProcess;
  url: string;
  /** Peak resident memory so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** CPU time the process has used so far (user + system, all its threads), in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * `NOTION_RULES_BENCH_PROFILE=DIR`: every process the bench starts writes a V8 CPU profile there
 * when it exits (open it in Chrome's DevTools or speedscope).
 */
const PROFILE_DIR = process.env.NOTION_RULES_BENCH_PROFILE;

/** Starts `node args…` and waits for its "listening" line (pino JSON or plain). */
export function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const flags = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const proc = spawn(process.execPath, [...flags, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code} before listening`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let url: string | undefined;
      if (line.startsWith('listening ')) url = line.slice('listening '.length);
      else if (line.includes('"notion-rules listening"')) url = (JSON.parse(line) as { url: string }).url;
      if (!url) return;
      proc.removeAllListeners('exit');
      resolve({
        proc,
        url,
        peakRssMb: () => {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
          return m ? Math.round(Number(m[1]) / 1024) : NaN;
        },
        cpuMs: () => cpuMsOf(proc.pid!),
        stop: () =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

/** `/proc/PID/stat`'s utime + stime (clock ticks of 10 ms on Linux), in ms. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": field 3 onwards
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
