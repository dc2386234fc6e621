import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import { runCli, writeConfig } from '../../support/child.js';
import { tempDir } from '../../support/tmp.js';

describe('CLI output is safe for a terminal', () => {
  it('`search` shows control characters from page titles as escapes, never raw', async () => {
    const dir = tempDir();
    const url = `sqlite:${join(dir, 'store.db')}`;
    const store = await openStore(url);
    // An OSC sequence that retitles the terminal, a CSI that clears the screen, a C1 CSI.
    await store.indexDocument({
      id: 'p1',
      title: 'Roadmap \u001b]0;pwned\u0007 \u001b[2J \u009b31m done',
      text: 'quarterly roadmap',
      url: 'https://notion.so/p1',
      fields: {},
    });
    await store.close();
    const config = writeConfig(dir, { store: { url }, rules: { dir: join(dir, 'rules') } });
    for (const args of [
      ['search', 'roadmap'],
      ['search', 'roadmap', '--json'],
    ]) {
      const res = await runCli([...args, '--config', config]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(res.stdout).toContain('\\u001b]0;pwned\\u0007');
    }
    const json = await runCli(['search', 'roadmap', '--json', '--config', config]);
    expect((JSON.parse(json.stdout) as Array<{ title: string }>)[0]!.title).toContain('\u009b31m');
  });
});
