// Behaviour the pages share. No inline scripts anywhere (Content-Security-Policy).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });
  // A form marked data-swap-errors shows the 400 answer (its error messages) in its
  // target, where htmx would otherwise drop it (live search with a bad filter).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig ? event.detail.requestConfig.elt : null;
    if (event.detail.xhr.status === 400 && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // Confirmation for destructive buttons: <button data-confirm="...">.
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
