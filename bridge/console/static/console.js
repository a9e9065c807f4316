// commerce-gateway console: live deliveries over server-sent events, confirmations for drops.
// Plain JavaScript, no build step, no external resource. Text is inserted with textContent only.
"use strict";

(function () {
  const MAX_ROWS = 200;

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function deliveryRow(d) {
    const tr = document.createElement("tr");
    tr.className = "outcome-" + d.outcome + " fresh";
    tr.dataset.id = String(d.id);
    cell(tr, d.time);
    cell(tr, d.platform);
    cell(tr, d.topic);
    cell(tr, d.shop);
    const outcome = cell(tr, "");
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = d.outcome;
    outcome.appendChild(badge);
    const why = cell(tr, "");
    if (d.reason) {
      const code = document.createElement("code");
      code.className = "reason";
      code.textContent = d.reason;
      why.appendChild(code);
      why.appendChild(document.createTextNode(" "));
    }
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = d.hint;
    why.appendChild(hint);
    cell(tr, d.latency, "num");
    const headers = cell(tr, "");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = String(d.headers.length);
    const pre = document.createElement("pre");
    pre.textContent = d.headers.join("\n");
    details.appendChild(summary);
    details.appendChild(pre);
    headers.appendChild(details);
    return tr;
  }

  function follow(table) {
    const status = document.getElementById("live");
    const none = document.getElementById("none");
    const body = table.tBodies[0];
    const params = new URLSearchParams();
    for (const name of ["platform", "outcome", "shop"]) {
      if (table.dataset[name]) params.set(name, table.dataset[name]);
    }
    params.set("after", table.dataset.after || "0");
    const source = new EventSource(table.dataset.stream + "?" + params.toString());
    source.addEventListener("open", function () {
      status.textContent = "live";
      status.className = "live on";
    });
    source.addEventListener("error", function () {
      status.textContent = "reconnecting…";
      status.className = "live";
    });
    source.addEventListener("delivery", function (event) {
      const d = JSON.parse(event.data);
      if (body.querySelector('tr[data-id="' + d.id + '"]')) return;
      body.insertBefore(deliveryRow(d), body.firstChild);
      while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
      if (none) none.hidden = true;
    });
  }

  function confirmDrops() {
    for (const form of document.querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const table = document.getElementById("deliveries");
    if (table) follow(table);
    confirmDrops();
  });
})();
