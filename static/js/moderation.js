// Keyboard shortcuts for the moderation queue. The page works fully without this file.
(function () {
  "use strict";
  function items() { return Array.from(document.querySelectorAll(".queue-item")); }
  function current() {
    var el = document.activeElement;
    return el ? el.closest(".queue-item") : null;
  }
  function focusItem(index) {
    var list = items();
    if (!list.length) { return; }
    var item = list[Math.max(0, Math.min(index, list.length - 1))];
    item.focus();
    item.scrollIntoView({ block: "start" });
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (tag === "input" || tag === "textarea" || tag === "select") { return; }
    var list = items();
    var item = current();
    var index = item ? list.indexOf(item) : -1;
    if (event.key === "j") { focusItem(index + 1); event.preventDefault(); return; }
    if (event.key === "k") { focusItem(index - 1); event.preventDefault(); return; }
    if (!item) { return; }
    var target = item.querySelector('[data-shortcut="' + event.key + '"]');
    if (!target) { return; }
    event.preventDefault();
    if (target.tagName.toLowerCase() === "summary") {
      target.parentElement.open = true;
      var field = target.parentElement.querySelector("textarea, select, input:not([type=hidden])");
      if (field) { field.focus(); }
    } else {
      target.click();
    }
  });
  // After a decision replaces an item, move on to the next undecided one.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    // An outerHTML swap replaces the element, so look the new one up by its id.
    var old = event.detail.target;
    var swapped = old && old.id ? document.getElementById(old.id) : null;
    if (!swapped || !swapped.classList.contains("decided")) { return; }
    var list = items();
    var next = list.slice(list.indexOf(swapped) + 1).find(function (el) {
      return !el.classList.contains("decided");
    });
    (next || swapped).focus();
  });
})();
