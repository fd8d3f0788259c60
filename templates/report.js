/* feedback report: progressive enhancement only — the page works without this script.
   Adds click-to-sort on the headers of table.sortable (sorting by data-sort on cells) and
   opens every <details> while printing. No network, no globals. */
(function () {
  "use strict";

  function cellKey(group, index) {
    var row = group.rows[0];
    var cell = row && row.cells[index];
    if (!cell) { return ""; }
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim() : key;
  }

  function compare(a, b, numeric) {
    if (a === "" && b === "") { return 0; }
    if (a === "") { return 1; }          /* missing values last in both directions */
    if (b === "") { return -1; }
    if (numeric) { return parseFloat(a) - parseFloat(b); }
    return a.localeCompare(b);
  }

  function sortTable(table, th, index) {
    var descending = th.getAttribute("aria-sort") !== "descending";
    var numeric = th.getAttribute("data-type") === "number";
    var groups = Array.prototype.slice.call(table.tBodies);
    groups.sort(function (g1, g2) {
      var a = cellKey(g1, index), b = cellKey(g2, index);
      if (a === "" || b === "") { return compare(a, b, numeric); }
      var c = compare(a, b, numeric);
      return descending ? -c : c;
    });
    groups.forEach(function (g) { table.appendChild(g); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function enhance(table) {
    if (!table.tHead || !table.tHead.rows.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, th, index); });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), enhance);

  var reopened = [];
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true;
      reopened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (d) { d.open = false; });
    reopened = [];
  });
}());
