// Layout behaviour shared by every page, the error pages included. No inline scripts
// anywhere (Content-Security-Policy).
(function () {
  "use strict";

  // Tables on a narrow screen: portal.css shows each row of a `table-stack` table as a
  // card, every cell under its column's heading (its data-label). The headings are
  // copied here from the table's header rows, so that no template repeats them; a
  // cell that has its own data-label keeps it. A table opts out with
  // data-stack="off"; tables without a header row (label/value lists) and tables whose
  // headings are controls (a tick-all box, a comparison's records) stay tables; a
  // column's sort link (core/templatetags/listing.py) is a heading all the same. Every
  // table scrolls sideways inside its box when it is wider than the screen.

  // Lays rows out on a grid (rowspan and colspan taken into account) and calls
  // visit(cell, firstColumn) for each cell.
  function walkGrid(rows, visit) {
    var taken = [];
    Array.prototype.forEach.call(rows, function (row, r) {
      var column = 0;
      taken[r] = taken[r] || [];
      Array.prototype.forEach.call(row.cells, function (cell) {
        while (taken[r][column]) {
          column++;
        }
        visit(cell, column);
        var span = cell.colSpan || 1;
        for (var down = 0; down < (cell.rowSpan || 1); down++) {
          taken[r + down] = taken[r + down] || [];
          for (var across = 0; across < span; across++) {
            taken[r + down][column + across] = true;
          }
        }
        column += span;
      });
    });
  }

  // A column's heading: its header cells from top to bottom ("Yesterday · Visits" under
  // a group heading), each once.
  function headings(table) {
    if (!table.tHead || !table.tHead.rows.length) {
      return null;
    }
    var labels = [];
    walkGrid(table.tHead.rows, function (cell, column) {
      var text = cell.textContent.replace(/[▲▼]/g, "").replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) {
        var parts = labels[column + i] || (labels[column + i] = []);
        if (text && parts.indexOf(text) === -1) {
          parts.push(text);
        }
      }
    });
    return labels.map(function (parts) {
      return parts.join(" · ");
    });
  }

  function stackable(table) {
    return (
      table.getAttribute("data-stack") !== "off" &&
      !(table.tHead && table.tHead.querySelector("a:not(.sort-link), button, input, select"))
    );
  }

  function labelCells(table) {
    var labels = headings(table);
    if (!labels) {
      return;
    }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      walkGrid(body.rows, function (cell, column) {
        var label = labels[column];
        // a cell across several columns is a message ("nothing yet"), not a value
        if (cell.tagName === "TD" && cell.colSpan === 1 && label && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", label);
        }
      });
    });
    table.classList.add("table-stack");
  }

  function prepareTable(table) {
    if (table.hasAttribute("data-layout")) {
      return;
    }
    table.setAttribute("data-layout", "");
    if (stackable(table)) {
      labelCells(table);
    }
    // wider than its card (a tablet, a stacked-off table on a phone): it scrolls
    // sideways inside the card instead of pushing the page wider than the screen
    var parent = table.parentElement;
    if (parent && !parent.classList.contains("table-responsive")) {
      var wrapper = document.createElement("div");
      wrapper.className = "table-responsive";
      parent.insertBefore(wrapper, table);
      wrapper.appendChild(table);
    }
  }

  function prepareTables(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("main table.table")) {
      prepareTable(scope);
    }
    // matched against the whole document: a swapped fragment under <main> counts
    Array.prototype.forEach.call(scope.querySelectorAll("main table.table"), prepareTable);
  }

  // "Back" on the error pages: the browser's history when the user came from one of
  // our pages, else the link's own address (home); hidden when there is nowhere to go
  // back to.
  function sameOriginReferrer() {
    try {
      return document.referrer && new URL(document.referrer).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function setUpBackLinks() {
    var links = document.querySelectorAll("[data-history-back]");
    if (!links.length) {
      return;
    }
    var canGoBack = window.history.length > 1 && sameOriginReferrer();
    Array.prototype.forEach.call(links, function (link) {
      if (!canGoBack) {
        link.hidden = true;
        return;
      }
      link.setAttribute("href", document.referrer);
      link.addEventListener("click", function (event) {
        event.preventDefault();
        window.history.back();
      });
    });
  }

  function ready() {
    prepareTables(document);
    setUpBackLinks();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  // htmx swaps in new rows (live search, pages, widgets): label them too.
  document.addEventListener("htmx:afterSwap", function (event) {
    prepareTables(event.detail && event.detail.elt ? event.detail.elt : document);
  });
})();
