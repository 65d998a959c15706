/* Forms marked data-submit-once send once: a second click (or Enter) while the page is already
   on its way is ignored, so a double click does not post the same change twice. The first
   click's button still goes with the form (the button is not disabled, only the repeat is
   stopped); the server refuses repeats on its own too. Leaving the page and coming back
   (the back button's page cache) lets the form be sent again. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
    if (form.getAttribute("data-submitting") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "1");
    form.setAttribute("aria-busy", "true");
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
    });
  });
})();
