// Small glue for server-rendered pages. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // Traffic-share bars: widths come from data-share (percent).
  function sizeShareBars(root) {
    root.querySelectorAll(".share-bar span[data-share]").forEach(function (el) {
      el.style.width = el.getAttribute("data-share") + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { sizeShareBars(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { sizeShareBars(evt.target); });
})();
