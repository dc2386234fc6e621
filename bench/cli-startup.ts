import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU time (user + system) a CLI command spends from process start to exit, the median of `runs`
 * runs: a preload reports the process's own `process.cpuUsage()` on fd 3 as it exits.
 */
export async function cliCpuMs(cli: string, args: string[], cwd: string, work: string, runs = 5): Promise<number> {
  const preload = join(work, 'cpu-report.cjs');
  writeFileSync(preload, "process.on('exit', () => { const u = process.cpuUsage(); require('fs').writeSync(3, String((u.user + u.system) / 1000)); });\n");
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await new Promise<number>((resolve, reject) => {
        const proc = spawn(process.execPath, ['--require', preload, cli, ...args], { cwd, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
        let out = '';
        proc.stdio[3]!.on('data', (d: Buffer) => (out += d.toString()));
        proc.on('error', reject);
        proc.on('close', () => resolve(Number(out)));
      }),
    );
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]!);
}
