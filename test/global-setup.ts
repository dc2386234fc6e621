import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Child-process tests run the built CLI (dist/), exactly as `npm start` does. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
