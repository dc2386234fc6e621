import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_ERRORS } from '../../../src/errors/http.js';
import { repoRoot } from '../../support/fixtures.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('the error catalog (src/errors/http.ts)', () => {
  it("is the README's table of error codes, both ways: every code with its status and meaning", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Errors'), readme.indexOf('### Console'));
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(documented).toEqual(Object.entries(HTTP_ERRORS).map(([code, e]) => [code, e.status, e.meaning]));
  });

  it('is where every error code of an answer comes from: no route spells one out', () => {
    const spelled = sources(join(repoRoot, 'src'))
      .filter((file) => !file.includes('/errors/'))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\berror: '([a-z_]+)'/g)].map((m) => `${file}: ${m[1]}`));
    expect(spelled).toEqual([]);
  });
});
