// The segment editor (templates/marketing/segment_form.html): rules that depend on
// another are only offered with it (a disabled control is not sent, neither to the
// live count nor on saving), and one button clears every rule. The live
// count itself is htmx's (hx-post on the form, debounced); no inline scripts (CSP).
(function () {
  "use strict";
  var form = document.querySelector("[data-segment-editor]");
  if (!form) {
    return;
  }
  function field(name) {
    return form.elements.namedItem(name);
  }
  function hasValue(el) {
    if (!el) {
      return false;
    }
    if (el.multiple) {
      return el.selectedOptions.length > 0;
    }
    return el.value !== "";
  }
  function sync() {
    var tierMin = field("tier_min");
    var tiers = field("tiers");
    if (tierMin && tiers) {
      // a lowest tier ("Gold or above") or single tiers, not both
      tiers.disabled = hasValue(tierMin);
      tierMin.disabled = !tierMin.value && hasValue(tiers);
    }
    var trend = hasValue(field("trend_direction"));
    ["trend_months", "trend_pct"].forEach(function (name) {
      var el = field(name);
      if (el) {
        el.disabled = !trend;
      }
    });
  }
  form.addEventListener("change", sync);
  var clear = form.querySelector("[data-segment-clear]");
  if (clear) {
    clear.addEventListener("click", function () {
      Array.prototype.forEach.call(form.querySelectorAll("[data-rule] select"), function (el) {
        Array.prototype.forEach.call(el.options, function (option) {
          option.selected = false;
        });
        if (!el.multiple) {
          el.selectedIndex = 0;
        }
      });
      sync();
      form.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  sync();
})();
