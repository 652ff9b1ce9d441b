// The dashboard's page and its styles. Every URL in it is relative, so it works under /t/<token>/.

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>claudemesh</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<div id="app"><p class="empty">Loading the dashboard…</p></div>
<script type="module" src="app.js"></script>
</body>
</html>
`

export const STYLE_CSS = `:root {
  --bg: #f7f7f5; --panel: #fff; --ink: #1d1f21; --muted: #6b6f76; --line: #e2e2de;
  --accent: #3b5bdb; --ok: #2b8a3e; --warn: #e67700; --bad: #c92a2a;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; }
.brand { font-weight: 700; letter-spacing: .02em; }
header nav { display: flex; gap: 4px; }
header nav a { padding: 6px 12px; border-radius: 6px; color: var(--ink); text-decoration: none; }
header nav a.on { background: var(--accent); color: #fff; }
.spacer { flex: 1; }
.live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #eee; color: var(--muted); }
.live.on { background: #d3f9d8; color: var(--ok); }
main { padding: 16px 20px 40px; max-width: 1400px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
h2 { margin: 0 0 12px; font-size: 16px; display: flex; align-items: center; gap: 8px; }
h3 { font-size: 13px; color: var(--muted); margin: 14px 0 6px; }
.count { font-size: 12px; color: var(--muted); font-weight: 400; background: #f1f1ee; border-radius: 10px; padding: 0 7px; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 7px 8px; vertical-align: top; }
.id, .meta { color: var(--muted); font-size: 12px; }
code, .id, pre, .path { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.path { font-size: 12px; word-break: break-all; }
.summary { max-width: 320px; }
.tag { display: inline-block; font-size: 12px; background: #edf2ff; color: var(--accent); border-radius: 4px; padding: 0 6px; margin: 0 4px 2px 0; border: 0; }
button.tag { cursor: pointer; }
.tag.on { background: var(--accent); color: #fff; }
.status-idle { color: var(--ok); } .status-working { color: var(--warn); } .status-dnd { color: var(--bad); }
.conn-offline { color: var(--muted); } .conn-relayed { color: var(--warn); } .conn-direct, .conn-tcp-link { color: var(--ok); }
button, a.button { font: inherit; font-size: 13px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; display: inline-block; }
button:hover, a.button:hover { border-color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
button.small { font-size: 12px; padding: 2px 8px; }
.actions { display: inline-flex; gap: 6px; margin-left: auto; }
td.actions { display: table-cell; white-space: nowrap; }
td.actions > * { margin-right: 6px; }
.confirm { display: inline-flex; gap: 6px; }
ul.entries { list-style: none; margin: 0; padding: 0; }
.entry { border-top: 1px solid var(--line); padding: 10px 0; }
.entry:first-child { border-top: 0; }
.entry .head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.entry .key { font-weight: 600; }
.entry .content { white-space: pre-wrap; margin-top: 6px; }
pre.json { background: #f8f9fa; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 8px 0 0; overflow: auto; max-height: 320px; }
.editor { margin-top: 8px; display: grid; gap: 8px; }
.editor label { display: grid; gap: 4px; color: var(--muted); font-size: 12px; }
.editor input, .editor textarea, .search input, input.days { font: inherit; font-family: ui-monospace, monospace; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; color: var(--ink); }
.search input { width: 100%; font-family: inherit; font-size: 15px; padding: 8px 12px; }
.tags { margin: 10px 0; color: var(--muted); }
.buttons { display: flex; gap: 8px; }
.error { color: var(--bad); background: #fff5f5; border: 1px solid #ffc9c9; border-radius: 6px; padding: 8px 10px; margin: 0 0 12px; }
.empty { color: var(--muted); }
.score { font-size: 12px; color: var(--muted); }
.split { display: grid; grid-template-columns: 200px 1fr; gap: 16px; }
.folders { display: grid; align-content: start; gap: 4px; }
.folder { text-align: left; display: flex; justify-content: space-between; }
.folder.on { background: #edf2ff; border-color: var(--accent); }
.fetched { font-size: 12px; }
.settings { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-bottom: 10px; }
.settings p { margin: 0; flex-basis: 100%; }
.settings .on { color: var(--ok); }
input.days { width: 70px; }
.dir { font-size: 12px; color: var(--muted); width: 80px; }
.filter { color: var(--muted); }
`
