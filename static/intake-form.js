/* The public intake form (served as a file: the CSP allows scripts from 'self' only).
   1. The error summary takes focus when the page loads, so a screen reader reads it and a
      keyboard user starts from it; each of its links moves focus to its field (scrolled so the
      field's label is in view), not only the page.
   2. A field the rules require only for some answers to other fields ("Lead investor or
      accelerator" for VC or accelerator funding, or when it is an Activate Provider) says
      "(required)" or "(optional)" as those answers change. The server marks it the same way when
      it renders the page, and says the same when it refuses the form. */
(function () {
  "use strict";

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    var label = document.querySelector("label[for='" + id + "']");
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    return true;
  }

  var summary = document.getElementById("error-summary");
  if (summary) {
    if (document.activeElement !== summary) summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-focus]");
      if (link && focusField(link.getAttribute("data-focus"))) event.preventDefault();
    });
  }

  var dependents = document.querySelectorAll("[data-required-if]");
  Array.prototype.forEach.call(dependents, function (field) {
    var rules = JSON.parse(field.getAttribute("data-required-if") || "[]");
    var label = document.querySelector("label[for='" + field.id + "']");
    var marker = label && label.querySelector("[data-required-marker]");
    if (!marker) return;
    function holds(rule) {
      var source = document.getElementById(rule.field);
      if (!source) return false;
      if (rule.checked) return source.checked;
      return rule.values.indexOf(source.value) !== -1;
    }
    function update() {
      var required = rules.some(holds);
      marker.textContent = required ? "(required)" : "(optional)";
      if (required) field.setAttribute("aria-required", "true");
      else field.removeAttribute("aria-required");
    }
    rules.forEach(function (rule) {
      var source = document.getElementById(rule.field);
      if (source) source.addEventListener("change", update);
    });
    update();
  });
})();
