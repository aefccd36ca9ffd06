"use strict";
// The prompt matrix. Every text from the data block is written with textContent: never as markup.
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var rows = data.rows, cols = data.columns, pageSize = data.pageSize || 50;
  var state = {page: 0, shown: rows};
  // Control and bidi characters (ESC, U+202E RIGHT-TO-LEFT OVERRIDE, ...) shown as visible escapes, as in
  // every other output (harness/report/escape.py): a reply must not hide or reorder its own wording.
  var UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
  function visible(text) {
    return String(text).replace(UNSAFE, function (ch) {
      var c = ch.charCodeAt(0);
      return c < 0x100 ? "\\x" + ("0" + c.toString(16)).slice(-2) : "\\u" + ("000" + c.toString(16)).slice(-4);
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = visible(text);
    return e;
  }
  function option(select, value) { var o = el("option", null, value); o.value = value; select.appendChild(o); }
  var q = document.getElementById("q"), fRule = document.getElementById("f-rule"), fCat = document.getElementById("f-cat");
  var fFailed = document.getElementById("f-failed"), fDis = document.getElementById("f-disagree");
  var fRev = document.getElementById("f-review"), body = document.getElementById("mx-body");
  data.rules.forEach(function (r) { option(fRule, r); });
  data.categories.forEach(function (c) { option(fCat, c); });
  var head = document.getElementById("mx-head");
  cols.forEach(function (c) { var th = el("th", null, c.label); th.title = visible(c.model); head.appendChild(th); });
  var haystacks = null;
  function haystack(i) {
    if (!haystacks) haystacks = new Array(rows.length);
    if (haystacks[i] === undefined) {
      var r = rows[i], parts = [r.id, r.cat, r.p];
      for (var k in r.c) parts.push(r.c[k].t);
      haystacks[i] = parts.join("\n").toLowerCase();
    }
    return haystacks[i];
  }
  function ruleFailed(r, rule) {
    for (var k in r.c) if (r.c[k].rules[rule] === "fail") return true;
    return false;
  }
  function apply() {
    var text = q.value.trim().toLowerCase(), rule = fRule.value, cat = fCat.value;
    var out = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (cat && r.cat !== cat) continue;
      if (rule && r.rules.indexOf(rule) < 0) continue;
      if (fFailed.checked && !(rule ? ruleFailed(r, rule) : r.f)) continue;
      if (fDis.checked && !r.d) continue;
      if (fRev.checked && !r.r) continue;
      if (text && haystack(i).indexOf(text) < 0) continue;
      out.push(r);
    }
    state.shown = out; state.page = 0; draw();
  }
  function cell(c) {
    var td = el("td");
    if (!c) { td.appendChild(el("span", "muted", "not in this run")); return td; }
    var line = el("div");
    line.appendChild(el("span", "badge o-" + c.o, c.o + (c.e ? " (" + c.e + ")" : "")));
    if (c.v) line.appendChild(el("span", "badge v-" + c.v, c.v));
    td.appendChild(line);
    td.appendChild(el("div", "reply", c.t));
    if (c.sc.length) {
      var d = el("details"), ul = el("ul", "ev");
      d.appendChild(el("summary", null, "verdicts and evidence (" + c.sc.length + ")"));
      c.sc.forEach(function (s) {
        var li = el("li");
        li.appendChild(el("b", null, s[0]));
        li.appendChild(document.createTextNode(": " + s[1] + (s[4] ? " [" + s[4] + "]" : "")));
        if (s[2]) li.appendChild(el("div", "muted", s[2]));
        if (s[3]) li.appendChild(el("div", null, "evidence: " + s[3]));
        ul.appendChild(li);
      });
      d.appendChild(ul); td.appendChild(d);
    }
    return td;
  }
  function draw() {
    var shown = state.shown, pages = Math.max(1, Math.ceil(shown.length / pageSize));
    if (state.page >= pages) state.page = pages - 1;
    var start = state.page * pageSize, frag = document.createDocumentFragment();
    shown.slice(start, start + pageSize).forEach(function (r) {
      var tr = el("tr");
      tr.setAttribute("data-prompt", r.id);
      var p = el("td", "prompt");
      p.appendChild(el("b", null, r.id));
      p.appendChild(el("div", "muted", r.cat + (r.suite ? " - " + r.suite : "") + (r.rep > 1 ? " - repeat " + r.rep : "")));
      if (r.rules.length) p.appendChild(el("div", "muted", "rules: " + r.rules.join(", ")));
      p.appendChild(el("div", "reply", r.p));
      tr.appendChild(p);
      cols.forEach(function (c) { tr.appendChild(cell(r.c[c.key])); });
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    document.getElementById("count").textContent = shown.length + " of " + rows.length + " prompts";
    document.getElementById("page").textContent = "page " + (state.page + 1) + " of " + pages;
    if (!document.body.hasAttribute("data-matrix-ready") && window.performance && performance.mark) {
      performance.mark("harness-matrix-ready");
    }
    document.body.setAttribute("data-matrix-ready", "1");
  }
  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  [fRule, fCat, fFailed, fDis, fRev].forEach(function (e) { e.addEventListener("change", apply); });
  document.getElementById("prev").addEventListener("click", function () { if (state.page > 0) { state.page--; draw(); } });
  document.getElementById("next").addEventListener("click", function () { state.page++; draw(); });
  apply();
})();
