// Lux Billing — the little JavaScript the pages need beyond htmx. Everything works without it:
// the nav is shown, menus are <details>, forms post normally.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");

  // The menu button opens and closes the side nav on small screens.
  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-nav-toggle]");
    if (toggle) {
      var open = root.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    // A click outside an open menu closes it.
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
    root.classList.remove("nav-open");
  });

  // Copy buttons copy the text of the element their data-copy names.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn || !navigator.clipboard) return;
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (!src) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var label = btn.querySelector("[data-copy-label]");
      if (!label) return;
      var was = label.textContent;
      label.textContent = "Copied";
      setTimeout(function () { label.textContent = was; }, 1600);
    });
  });
})();
