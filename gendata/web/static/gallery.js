// gendata gallery: keyboard navigation, the sort menu and "copy parameters".
// Loaded from the gallery itself (the page's Content-Security-Policy allows nothing else).
"use strict";

(function () {
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" ||
                                el.tagName === "SELECT" || el.isContentEditable);
  const follow = (sel) => { const a = document.querySelector(sel); if (a) { location.href = a.href; } };

  function cells() { return Array.from(document.querySelectorAll("#grid .cell")); }

  // How many cells a row of the grid holds, from where they are drawn.
  function columns(list) {
    if (list.length < 2) { return 1; }
    const top = list[0].getBoundingClientRect().top;
    let n = 1;
    while (n < list.length && list[n].getBoundingClientRect().top === top) { n += 1; }
    return n;
  }

  function move(delta) {
    const list = cells();
    if (!list.length) { return; }
    const at = list.indexOf(document.activeElement);
    if (at < 0) { list[0].focus(); return; }
    const to = at + delta;
    if (to >= list.length) { follow("a[rel=next]"); return; }
    if (to < 0) { follow("a[rel=prev]"); return; }
    list[to].focus();
    list[to].scrollIntoView({ block: "nearest" });
  }

  function copyParameters() {
    const source = document.getElementById("infotext");
    const said = document.getElementById("copied");
    if (!source) { return; }
    const done = (ok) => { if (said) { said.textContent = ok ? "Copied." : "Select the text below and copy it."; } };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(() => done(true), () => fallback());
    } else {
      fallback();
    }
    function fallback() {
      const details = source.closest("details");
      if (details) { details.open = true; }
      source.focus();
      source.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const grid = document.getElementById("grid");
    if (grid && grid.dataset.focus) {
      const cell = grid.querySelector(`.cell[data-id="${CSS.escape(grid.dataset.focus)}"]`);
      if (cell) { cell.focus(); }
    }
    const sort = document.getElementById("sort");
    if (sort) { sort.addEventListener("change", () => sort.form.submit()); }
    const copy = document.getElementById("copy");
    if (copy) { copy.addEventListener("click", copyParameters); }
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    const search = document.getElementById("q");
    if (typing(document.activeElement)) {
      if (ev.key === "Escape") { document.activeElement.blur(); }
      return;
    }
    const detail = document.body.classList.contains("detail-page");
    let handled = true;
    switch (ev.key) {
      case "/": search.focus(); search.select(); break;
      case "ArrowRight": case "j":
        if (detail) { follow("#next"); } else { move(1); } break;
      case "ArrowLeft": case "k":
        if (detail) { follow("#prev"); } else { move(-1); } break;
      case "ArrowDown":
        if (detail) { handled = false; } else { move(columns(cells())); } break;
      case "ArrowUp":
        if (detail) { handled = false; } else { move(-columns(cells())); } break;
      case "Escape": case "u":
        if (detail) { follow("#back"); } else { handled = false; } break;
      case "c":
        if (detail) { copyParameters(); } else { handled = false; } break;
      case "Enter":
        handled = false; break;  // a focused cell is a link: the browser opens it
      default: handled = false;
    }
    if (handled) { ev.preventDefault(); }
  });
})();
