// Small glue for server-rendered pages. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // Traffic-share bars: widths come from data-share (percent).
  function sizeShareBars(root) {
    root.querySelectorAll(".share-bar span[data-share]").forEach(function (el) {
      el.style.width = el.getAttribute("data-share") + "%";
    });
  }

  // "Copy to clipboard" buttons: data-copy names the element whose text is copied.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (!source) { return; }
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function (message) { if (status) { status.textContent = message; } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied."); },
        function () { source.select(); done("Select-all done: press Ctrl+C to copy."); }
      );
    } else {
      source.select();
      done("Select-all done: press Ctrl+C to copy.");
    }
  });

  document.addEventListener("DOMContentLoaded", function () { sizeShareBars(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { sizeShareBars(evt.target); });
})();
