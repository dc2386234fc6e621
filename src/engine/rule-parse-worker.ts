import { parentPort } from 'node:worker_threads';
import { parseRuleFile } from './rule-file.js';

// Parses rule files off the event loop for the server (see parse-off-thread.ts).
parentPort?.on('message', (m: { id: number; texts: string[] }) => {
  parentPort!.postMessage({ id: m.id, parsed: m.texts.map(parseRuleFile) });
});
