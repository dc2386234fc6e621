/**
 * The container's HEALTHCHECK: exit 0 when GET /health answers 2xx on the local port.
 * A separate tiny entry point, so the probe does not load the whole CLI every 30 s.
 */
const port = process.env.PORT ?? '3000';
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), 4000);
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: controller.signal });
  process.exitCode = res.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
}
