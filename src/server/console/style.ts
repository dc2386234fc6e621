/** The console's one stylesheet, served at /console/console.css (no CDN, no build step). */
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #5f6368; --line: #d9d9de; --accent: #1f5fbf;
  --ok: #1b7f3b; --warn: #9a5b00; --bad: #b3261e; --chip: #f1f3f4; --info: #1f5fbf; --alt: #7b3fbf; --dim: #9aa0a6; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #151517; --muted: #a0a4aa; --line: #3a3b3f; --accent: #8ab4f8;
  --ok: #6dd58c; --warn: #f2b661; --bad: #f28b82; --chip: #26272b; --info: #8ab4f8; --alt: #c58af9; --dim: #80868b; } }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45; font-size: 15px; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .25rem .5rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .6rem 1.5rem; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; margin-right: 1rem; }
nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
nav a { text-decoration: none; padding: .2rem .1rem; } nav a[aria-current="page"] { font-weight: 700; border-bottom: 2px solid var(--accent); }
header form { margin-left: auto; }
main { padding: 1rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.35rem; margin: .4rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; } h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .88em; }
pre { background: var(--chip); padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; margin: .3rem 0; max-height: 32rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .85em; border: 1px solid currentColor; white-space: nowrap; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); } .muted { color: var(--muted); }
.status { padding: .5rem 1.5rem; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 1.2rem; }
.status ul { margin: 0; padding-left: 1.2rem; }
.flash { border: 1px solid var(--ok); color: var(--ok); padding: .5rem .8rem; border-radius: 6px; margin-bottom: 1rem; }
.error { border: 1px solid var(--bad); color: var(--bad); padding: .5rem .8rem; border-radius: 6px; margin-bottom: 1rem; }
form.inline { display: inline; margin: 0; }
.toolbar { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin-bottom: .8rem; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
input, select, button { font: inherit; padding: .35rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; border-color: var(--accent); color: var(--accent); font-weight: 600; }
button.primary { background: var(--accent); color: var(--bg); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.job { border: 1px solid var(--line); border-radius: 8px; padding: .2rem 1rem .6rem; margin-bottom: 1rem; }
.login { max-width: 26rem; margin: 4rem auto; }
.login input { width: 100%; margin-bottom: .8rem; }
details summary { cursor: pointer; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); gap: 1rem; margin-bottom: 1.5rem; }
.charts.fill { grid-template-columns: repeat(auto-fill, minmax(min(100%, 24rem), 1fr)); }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .9rem; min-width: 0; }
figure.chart { margin: 0; } figure.chart figcaption { font-weight: 600; }
figure.chart svg { display: block; width: 100%; height: auto; }
.legend { list-style: none; padding: 0; margin: .2rem 0 .3rem; display: flex; flex-wrap: wrap; gap: .2rem 1rem; font-size: .85em; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .35em; vertical-align: -1px; }
.swatch.dashed { height: 0; border-top: 2px dashed var(--bad); vertical-align: middle; }
g.c-ok, .spark g.c-ok { fill: var(--ok); } .swatch.c-ok { background: var(--ok); } path.c-ok { stroke: var(--ok); }
g.c-info { fill: var(--info); } .swatch.c-info { background: var(--info); } path.c-info { stroke: var(--info); }
g.c-warn { fill: var(--warn); } .swatch.c-warn { background: var(--warn); } path.c-warn { stroke: var(--warn); }
g.c-bad { fill: var(--bad); } .swatch.c-bad { background: var(--bad); } path.c-bad { stroke: var(--bad); }
g.c-muted { fill: var(--dim); } .swatch.c-muted { background: var(--dim); } path.c-muted { stroke: var(--dim); }
g.c-alt { fill: var(--alt); } .swatch.c-alt { background: var(--alt); } path.c-alt { stroke: var(--alt); }
path.line { fill: none; stroke-width: 2; }
.axis text { fill: var(--muted); font-size: 11px; } .axis .grid { stroke: var(--line); stroke-width: 1; }
.threshold line { stroke: var(--bad); stroke-dasharray: 5 4; stroke-width: 1.5; } .threshold text { fill: var(--bad); font-size: 11px; }
.spark { vertical-align: middle; } .spark .base { stroke: var(--line); }
dl.now { display: flex; flex-wrap: wrap; gap: .3rem 1.5rem; margin: 0 0 .4rem; } dl.now dt { font-size: .85em; color: var(--muted); } dl.now dd { margin: 0; }
nav.windows ul { list-style: none; display: flex; gap: 1rem; padding: 0; margin: 0 0 1rem; } nav.windows a[aria-current="page"] { font-weight: 700; }
table.data td { text-align: right; font-variant-numeric: tabular-nums; }
`;
