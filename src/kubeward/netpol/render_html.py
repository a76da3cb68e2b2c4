"""The truth table as one self-contained HTML page: a heat map per probe, explained on hover.

Rules:

 1. Self-contained: styles and script are inline; the page loads nothing (no fonts, images or
    scripts from anywhere), so it can be mailed, archived or opened offline.
 2. One tab per probe; each cell is green (allowed), red (refused) or grey (the destination has
    no port of that name). Hovering a cell shows the verdict and the reason on both sides; the
    same text is the cell's ``title``, for keyboards and screen readers.
 3. Namespaces are separated by heavier rules so that the blocks of a namespace read at once.
 4. Reasons are stored once in a string table and cells refer to them by index, so the page
    grows with the number of pods squared times a few bytes, not times the text.
 5. Pages are refused past :data:`MAX_PODS` pods: a wider grid is unreadable; narrow it with
    ``-n NAMESPACE``.
"""

from __future__ import annotations

import html
import json

from kubeward.errors import InputError
from kubeward.netpol.evaluator import Evaluator
from kubeward.netpol.matrix import TruthTable, explain_cell

MAX_PODS = 400


def truth_table_html(evaluator: Evaluator, table: TruthTable, title: str = "") -> str:
    """Render ``table`` (built from ``evaluator``) with an explanation for every cell."""
    pods = table.pods
    if len(pods) > MAX_PODS:
        raise InputError(
            f"-o html: {len(pods)} pods is more than a readable page holds ({MAX_PODS}); "
            "narrow it with -n NAMESPACE"
        )
    strings: list[str] = []
    index: dict[str, int] = {}

    def ref(text: str) -> int:
        found = index.get(text)
        if found is None:
            found = index[text] = len(strings)
            strings.append(text)
        return found

    probes = []
    for result in table.probes:
        cells: list[str] = []
        egress: list[int] = []
        ingress: list[int] = []
        for i, source in enumerate(pods):
            for j, destination in enumerate(pods):
                verdict = explain_cell(evaluator, source, destination, result.probe)
                if isinstance(verdict, str):
                    cells.append("n")
                    egress.append(ref(verdict))
                    ingress.append(ref(verdict))
                    continue
                assert verdict.allowed == result.matrix[i][j]
                cells.append("a" if verdict.allowed else "d")
                egress.append(ref(verdict.egress.summary))
                ingress.append(ref(verdict.ingress.summary))
        probes.append(
            {
                "label": str(result.probe),
                "cells": "".join(cells),
                "egress": egress,
                "ingress": ingress,
            }
        )
    data = {
        "pods": [pod.key for pod in pods],
        "strings": strings,
        "probes": probes,
    }
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    heading = title or "NetworkPolicy truth table"
    policies = len(evaluator.inventory.policies)
    subtitle = (
        f"{len(pods)} pods, {policies} NetworkPolicies. Row: the pod opening the connection; "
        "column: the pod receiving it."
    )
    return _PAGE.format(
        title=html.escape(heading),
        subtitle=html.escape(subtitle),
        payload=payload,
        style=_STYLE,
        script=_SCRIPT,
    )


_STYLE = """
:root { --ok: #2e9d4f; --no: #d0453b; --na: #b9bec7; --ink: #1d2330; --rule: #1d2330; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       margin: 24px; background: #fafbfc; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.sub { margin: 0 0 16px; color: #4a5263; }
.legend { display: flex; gap: 18px; align-items: center; margin-bottom: 14px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.sw { width: 14px; height: 14px; border-radius: 3px; display: inline-block; }
.tabs { display: flex; gap: 4px; border-bottom: 1px solid #ccd1da; margin-bottom: 12px; }
.tabs button { border: 1px solid #ccd1da; border-bottom: none; background: #eef0f4;
               padding: 6px 14px; border-radius: 6px 6px 0 0; cursor: pointer; font: inherit; }
.tabs button[aria-selected="true"] { background: #fff; font-weight: 600; }
section.probe { display: none; }
section.probe.shown { display: block; }
.stats { margin: 0 0 10px; color: #4a5263; }
table.grid { border-collapse: collapse; background: #fff; }
table.grid th { font-weight: 500; font-size: 12px; white-space: nowrap; padding: 2px 6px; }
table.grid thead th.col { writing-mode: vertical-rl; transform: rotate(180deg);
                          text-align: left; vertical-align: bottom; padding: 6px 2px; }
table.grid tbody th { text-align: right; }
table.grid td { width: var(--cell, 18px); height: var(--cell, 18px); min-width: var(--cell, 18px);
                border: 1px solid #fff; text-align: center; font-size: 11px;
                color: rgba(255,255,255,.85); cursor: pointer; }
td.pinned { outline: 3px solid #111; outline-offset: -3px; }
#detail { margin: 0 0 14px; padding: 10px 12px; background: #fff; border: 1px solid #ccd1da;
          border-radius: 6px; white-space: pre-wrap; min-height: 3.2em; font-size: 13px; }
td.a { background: var(--ok); }
td.d { background: var(--no); }
td.n { background: var(--na); }
td.nsl, th.nsl { border-left: 2px solid var(--rule) !important; }
tr.nst td, tr.nst th { border-top: 2px solid var(--rule) !important; }
td:hover { outline: 2px solid #111; outline-offset: -2px; }
#tip { position: fixed; pointer-events: none; max-width: 520px; background: #111826; color: #f5f6f8;
       padding: 10px 12px; border-radius: 6px; font-size: 12.5px; line-height: 1.45;
       box-shadow: 0 6px 20px rgba(0,0,0,.25); display: none; z-index: 10; white-space: pre-wrap; }
#tip b { color: #fff; }
"""

_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var pods = data.pods, n = pods.length, S = data.strings;
  var tabs = document.getElementById('tabs'), body = document.getElementById('probes');
  var tip = document.getElementById('tip'), detail = document.getElementById('detail');
  var size = Math.max(10, Math.min(28, Math.floor(760 / Math.max(n, 1))));
  document.documentElement.style.setProperty('--cell', size + 'px');
  var pinned = null;
  function ns(k) { return pods[k].split('/')[0]; }
  function words(p, i, j) {
    var c = p.cells.charAt(i * n + j), k = i * n + j;
    var head = pods[i] + ' \\u2192 ' + pods[j] + ' on ' + p.label + ': ' +
      (c === 'a' ? 'ALLOWED' : c === 'd' ? 'DENIED' : 'NO SUCH PORT');
    if (c === 'n') { return head + '\\n' + S[p.egress[k]]; }
    return head + '\\nEgress of ' + pods[i] + ': ' + S[p.egress[k]] +
      '\\nIngress of ' + pods[j] + ': ' + S[p.ingress[k]];
  }
  data.probes.forEach(function (p, t) {
    var button = document.createElement('button');
    button.textContent = p.label;
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-selected', t === 0 ? 'true' : 'false');
    tabs.appendChild(button);
    var section = document.createElement('section');
    section.className = 'probe' + (t === 0 ? ' shown' : '');
    section.id = 'probe-' + t;
    var allowed = 0;
    for (var x = 0; x < p.cells.length; x++) { if (p.cells.charAt(x) === 'a') allowed++; }
    var stats = document.createElement('p');
    stats.className = 'stats';
    stats.textContent = p.label + ': ' + allowed + ' of ' + (n * n) + ' connections allowed.';
    section.appendChild(stats);
    var table = document.createElement('table');
    table.className = 'grid';
    var thead = table.createTHead(), hr = thead.insertRow();
    var corner = document.createElement('th');
    corner.textContent = 'from \\\\ to';
    hr.appendChild(corner);
    pods.forEach(function (name, j) {
      var th = document.createElement('th');
      th.className = 'col' + (j > 0 && ns(j) !== ns(j - 1) ? ' nsl' : '');
      th.textContent = name;
      hr.appendChild(th);
    });
    var tbody = table.createTBody();
    for (var i = 0; i < n; i++) {
      var row = tbody.insertRow();
      if (i > 0 && ns(i) !== ns(i - 1)) row.className = 'nst';
      var th = document.createElement('th');
      th.textContent = pods[i];
      row.appendChild(th);
      for (var j = 0; j < n; j++) {
        var td = row.insertCell(), c = p.cells.charAt(i * n + j);
        td.className = c + (j > 0 && ns(j) !== ns(j - 1) ? ' nsl' : '');
        td.textContent = c === 'a' ? '.' : c === 'd' ? 'X' : '';
        td.title = words(p, i, j);
        td.dataset.i = i; td.dataset.j = j;
      }
    }
    table.addEventListener('mousemove', function (e) {
      var td = e.target.closest('td');
      if (!td) { tip.style.display = 'none'; return; }
      tip.textContent = td.title;
      tip.style.display = 'block';
      var x = e.clientX + 16, y = e.clientY + 16;
      if (x + tip.offsetWidth > window.innerWidth) x = e.clientX - tip.offsetWidth - 16;
      if (y + tip.offsetHeight > window.innerHeight) y = e.clientY - tip.offsetHeight - 16;
      tip.style.left = x + 'px'; tip.style.top = y + 'px';
    });
    table.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    table.addEventListener('click', function (e) {
      var td = e.target.closest('td');
      if (!td) return;
      if (pinned) pinned.classList.remove('pinned');
      pinned = td;
      td.classList.add('pinned');
      detail.textContent = td.title;
    });
    section.appendChild(table);
    body.appendChild(section);
    button.addEventListener('click', function () {
      Array.prototype.forEach.call(tabs.children, function (b, k) {
        b.setAttribute('aria-selected', k === t ? 'true' : 'false');
        document.getElementById('probe-' + k).className = 'probe' + (k === t ? ' shown' : '');
      });
    });
  });
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p class="sub">{subtitle}</p>
<div class="legend" id="legend">
  <span><i class="sw" style="background:var(--ok)"></i>allowed (.)</span>
  <span><i class="sw" style="background:var(--no)"></i>denied (X)</span>
  <span><i class="sw" style="background:var(--na)"></i>destination has no such named port</span>
  <span>Hover a cell for the reason on both sides; click it to keep the reason below.</span>
</div>
<div id="detail">Click a cell to see why the connection is allowed or denied.</div>
<noscript><p>This page draws its tables with JavaScript; the data is in the page source.</p></noscript>
<div class="tabs" id="tabs" role="tablist"></div>
<div id="probes"></div>
<div id="tip"></div>
<script type="application/json" id="data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""
