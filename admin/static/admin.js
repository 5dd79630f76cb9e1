// sidelog admin: quick filters, keyboard, live tail. Everything else works
// without this file. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var q = document.getElementById("q");
  var form = document.getElementById("queryform");

  // splitTerms mirrors the server's: spaces outside double quotes.
  function splitTerms(s) {
    var out = [], cur = "", inq = false, esc = false;
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (esc) { esc = false; } else if (inq && c === "\\") { esc = true; } else if (c === '"') { inq = !inq; }
      else if (!inq && /\s/.test(c)) { if (cur) { out.push(cur); cur = ""; } continue; }
      cur += c;
    }
    if (cur) out.push(cur);
    return out;
  }
  function keyOf(t) {
    var m = /^([A-Za-z_.]+)(:|>=|<=|>|<|=)/.exec(t);
    return m ? m[1].toLowerCase() : "";
  }
  function setTerm(keys, term) {
    var terms = splitTerms(q.value).filter(function (t) { return keys.indexOf(keyOf(t)) < 0; });
    if (term) terms.push(term);
    q.value = terms.join(" ");
  }

  // Quick filters write terms into the box, then leave the URL to q alone.
  if (form && q) {
    form.querySelectorAll("select[data-key], input[data-key]").forEach(function (el) {
      el.addEventListener("change", function () {
        var v = el.value;
        if (!v) return;
        var key = el.getAttribute("data-key"), op = el.getAttribute("data-op");
        if (el.name === "range") { setTerm(["since", "until"], v); }
        else if (el.type === "datetime-local") { setTerm([key], key + ":" + (v.length === 16 ? v + ":00" : v) + "Z"); }
        else { setTerm([key], key + op + v); }
        el.value = "";
      });
    });
    form.addEventListener("submit", function () {
      form.querySelectorAll(".quick select, .quick input, .quick button").forEach(function (el) {
        if (!el.value) el.disabled = true;
      });
    });
  }

  // The syntax examples add their term to the box (replacing a term of
  // the same key) instead of leaving the page.
  if (q) {
    document.querySelectorAll("details.syntax a.ex[data-term]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var t = a.getAttribute("data-term"), k = keyOf(t.replace(/^-/, ""));
        if (k && k !== "has") { setTerm([k], t); } else { q.value = (q.value ? q.value + " " : "") + t; }
        q.focus();
      });
    });
    // A query error names its term: select it in the box.
    var qe = document.getElementById("query-error");
    var bad = qe && qe.getAttribute("data-term");
    if (bad) {
      var at = q.value.indexOf(bad);
      if (at >= 0) { q.focus(); q.setSelectionRange(at, at + bad.length); }
    }
  }

  // A chart counted row by row follows the list: fetch it and put it in
  // place (the server escaped it like the rest of the page).
  var slot = document.getElementById("chart-slot");
  if (slot && slot.getAttribute("data-src")) {
    fetch(slot.getAttribute("data-src"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("chart: " + r.status);
      return r.text();
    }).then(function (html) {
      var t = document.createElement("template");
      t.innerHTML = html;
      slot.replaceChildren(t.content);
      slot.classList.add("loaded");
    }).catch(function () { /* the note and its link stay */ });
  }

  // Keyboard: / focuses the box, j/k move, Enter opens, Esc goes back.
  var help = document.getElementById("keyhelp");
  var sel = -1;
  function rows() { return document.querySelectorAll("#records tr.rec"); }
  function select(i) {
    var rs = rows();
    if (!rs.length) return;
    i = Math.max(0, Math.min(rs.length - 1, i));
    if (sel >= 0 && rs[sel]) rs[sel].classList.remove("sel");
    sel = i;
    rs[sel].classList.add("sel");
    rs[sel].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
    if (e.key === "Escape") {
      if (help && !help.hidden) { help.hidden = true; return; }
      if (typing) { t.blur(); return; }
      var back = document.getElementById("back");
      if (back) { window.location.href = back.href; }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/" && q) { e.preventDefault(); q.focus(); q.select(); }
    else if (e.key === "j") { select(sel + 1); }
    else if (e.key === "k") { select(sel - 1); }
    else if (e.key === "Enter" && sel >= 0) {
      var a = rows()[sel] && rows()[sel].querySelector("a.open");
      if (a) window.location.href = a.href;
    } else if (e.key === "?" && help) { help.hidden = !help.hidden; }
  });

  // Live tail: new records at the top over server-sent events. Pauses on
  // request or when the reader scrolls down; what is on screen stays.
  var btn = document.getElementById("tail");
  var state = document.getElementById("tailstate");
  var tbody = document.querySelector("#records tbody");
  if (btn && tbody && window.EventSource) {
    btn.hidden = false;
    var es = null, paused = false, held = [];
    function show() {
      if (!es) { state.textContent = ""; return; }
      state.textContent = paused ? "paused — " + held.length + " new" : "live";
    }
    function add(html) {
      var empty = tbody.querySelector("tr.empty");
      if (empty) empty.remove();
      tbody.insertAdjacentHTML("afterbegin", html);
      var first = tbody.firstElementChild;
      if (first) first.classList.add("new");
      if (sel >= 0) sel++;
    }
    function flush() { while (held.length) add(held.shift()); show(); }
    btn.addEventListener("click", function () {
      if (!es) {
        es = new EventSource(btn.getAttribute("data-src"));
        es.addEventListener("record", function (ev) {
          if (paused) { held.push(ev.data); } else { add(ev.data); }
          show();
        });
        es.addEventListener("failure", function (ev) { state.textContent = "tail error: " + ev.data; });
        paused = false;
        btn.textContent = "❚❚ Pause";
      } else if (!paused) {
        paused = true;
        btn.textContent = "▶ Resume";
      } else {
        paused = false;
        btn.textContent = "❚❚ Pause";
        flush();
      }
      show();
    });
    window.addEventListener("scroll", function () {
      if (es && !paused && window.scrollY > 200) { paused = true; btn.textContent = "▶ Resume"; show(); }
    });
  }
})();
