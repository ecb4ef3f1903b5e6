"""The report's inline CSS and JavaScript: the page must open from disk with no network at all."""

from __future__ import annotations

# Nothing may load from anywhere: even injected markup could not fetch or run anything else.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "form-action 'none'; base-uri 'none'")

CSS = """
[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
 color:#1d2125;background:#f6f7f9}
header,main{max-width:1200px;margin:0 auto;padding:0 20px}
header{padding-top:18px}h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
 border-bottom:1px solid #d6d9de;padding-bottom:4px}h3{font-size:15px;margin:0 0 4px}
.muted{color:#5f6873;font-size:12px}code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;
 font-size:12px}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0}th,td{text-align:left;
 padding:4px 8px;border-bottom:1px solid #e4e6ea;vertical-align:top}th{background:#eef0f3;font-weight:600}
table.texts{table-layout:fixed}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.barcell{width:40%}.bar{height:14px;background:#c7cdd4;border-radius:2px;display:flex;overflow:hidden}
.bar span{display:block;height:100%}.bar .k{background:#3c8d5a}.bar .r{background:#c0463b}
.bar .x{background:#c0463b}
nav.toc{columns:3 220px;font-size:12px}nav.toc a{display:block;overflow:hidden;text-overflow:ellipsis;
 white-space:nowrap}
.filter{position:sticky;top:0;background:#f6f7f9;padding:8px 0;z-index:1;border-bottom:1px solid #d6d9de}
.filter input{width:60%;padding:6px 8px;font-size:14px;border:1px solid #b8bec6;border-radius:4px}
section.doc{background:#fff;border:1px solid #d6d9de;border-radius:6px;padding:12px;margin:14px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:8px}
.colhead{font-weight:600;font-size:12px;color:#5f6873;border-bottom:1px solid #e4e6ea}
.p{padding:3px 6px;border-radius:3px;word-wrap:break-word;overflow-wrap:anywhere}
.p.kept{grid-column:1;background:#eef7f0}.p.removed{grid-column:2;background:#fbeeed}
.p del{color:#7a3b35}.label{display:block;font-size:11px;color:#8a2f26;margin-top:2px}
.note{display:block;font-size:11px;color:#6b5d00}.idx{color:#8b949e;font-size:11px;margin-right:4px}
.reject{color:#8a2f26}
"""

# Filters document sections by id or text; `#q=word` in the address pre-fills the filter.
JS = """
(function () {
  var input = document.getElementById('q');
  var shown = document.getElementById('shown');
  var docs = Array.prototype.slice.call(document.querySelectorAll('section.doc'));
  var links = {};
  Array.prototype.forEach.call(document.querySelectorAll('nav.toc a'), function (a) {
    links[a.getAttribute('href').slice(1)] = a;
  });
  function apply() {
    var q = input.value.trim().toLowerCase(), n = 0;
    docs.forEach(function (d) {
      var hit = !q || d.getAttribute('data-doc').toLowerCase().indexOf(q) >= 0 ||
                d.textContent.toLowerCase().indexOf(q) >= 0;
      d.hidden = !hit;
      if (links[d.id]) { links[d.id].hidden = !hit; }
      if (hit) { n += 1; }
    });
    shown.textContent = String(n);
  }
  input.addEventListener('input', apply);
  var m = /[#&]q=([^&]*)/.exec(window.location.hash);
  if (m) { input.value = decodeURIComponent(m[1].replace(/\\+/g, ' ')); }
  apply();
})();
"""
