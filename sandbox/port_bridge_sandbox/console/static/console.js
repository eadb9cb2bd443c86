// The console's few behaviours: patterns checked as the user types, runs kept live by polling.
// Every value from the server is set with textContent, never as HTML.
"use strict";

function patternOf(element) {
  const source = element.dataset.pattern;
  for (const flags of ["u", ""]) {
    try { return new RegExp(source, flags); } catch (error) { /* try without the unicode flag */ }
  }
  return null;  // a pattern JavaScript cannot read is left to the server's check
}

function checkPattern(element) {
  const pattern = patternOf(element);
  const bad = pattern !== null && element.value !== "" && !pattern.test(element.value);
  const message = bad ? "must match the pattern " + element.dataset.pattern : "";
  element.setCustomValidity(message);
  const shown = document.querySelector('[data-error-for="' + CSS.escape(element.name) + '"]');
  if (shown && (bad || shown.dataset.fromBrowser)) {
    shown.textContent = message;
    shown.dataset.fromBrowser = "yes";
  }
  return !bad;
}

function watchForms() {
  for (const element of document.querySelectorAll("[data-pattern]")) {
    element.addEventListener("input", () => checkPattern(element));
    checkPattern(element);
  }
  for (const form of document.querySelectorAll("form.action-form")) {
    form.addEventListener("submit", (event) => {
      const fields = Array.from(form.querySelectorAll("[data-pattern]"));
      if (!fields.map(checkPattern).every(Boolean) || !form.checkValidity()) {
        event.preventDefault();
        form.reportValidity();
      }
    });
  }
}

function item(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text === null || text === undefined ? "" : String(text);
  if (className) element.className = className;
  return element;
}

function showRun(section, run) {
  const status = section.querySelector("[data-run-status]");
  status.textContent = run.status;
  status.className = "status status-" + run.status;
  section.querySelector("[data-run-label]").textContent = run.statusLabel || "";
  section.querySelector("[data-run-summary]").textContent = run.summary || "";
  const links = section.querySelector("[data-run-links]");
  links.replaceChildren(...run.link.map((url) => {
    const anchor = item("a", url);
    if (/^https?:\/\//.test(url)) anchor.href = url;
    return anchor;
  }));
  const entities = section.querySelector("[data-run-entities]");
  entities.replaceChildren(...run.entities.flatMap((change) => {
    const anchor = item("a", change.blueprint + " " + change.identifier);
    anchor.href = entities.dataset.catalog + "#blueprint-" + encodeURIComponent(change.blueprint);
    return [anchor, " (" + change.change + ") "];
  }));
  const log = section.querySelector("[data-run-log]");
  for (const line of run.logs.slice(log.children.length)) {
    const entry = document.createElement("li");
    entry.append(item("time", line.at), " ", item("span", line.message));
    log.append(entry);
  }
}

function pollRun(section) {
  const tick = async () => {
    let finished = false;
    try {
      const answer = await fetch(section.dataset.runPoll, { headers: { Accept: "application/json" } });
      if (answer.ok) {
        const run = await answer.json();
        showRun(section, run);
        finished = run.status === "SUCCESS" || run.status === "FAILURE";
      }
    } catch (error) { /* the sandbox stopped or is busy: try again */ }
    if (!finished) setTimeout(tick, 400);
  };
  tick();
}

function pollRuns(table) {
  const body = table.querySelector("tbody");
  const tick = async () => {
    try {
      const answer = await fetch(table.dataset.runsPoll, { headers: { Accept: "application/json" } });
      const { runs } = answer.ok ? await answer.json() : { runs: [] };
      if (runs.length) {  // else the page's "no run yet" row stays
        body.replaceChildren(...runs.map((run) => {
          const row = document.createElement("tr");
          const link = item("a", run.id);
          link.href = table.dataset.runPage + encodeURIComponent(run.id);
          const cell = document.createElement("td");
          cell.append(link);
          row.append(cell, item("td", run.actionTitle), item("td", run.entity));
          const status = document.createElement("td");
          status.append(item("span", run.status, "status status-" + run.status));
          row.append(status, item("td", run.statusLabel), item("td", run.createdAt));
          return row;
        }));
      }
    } catch (error) { /* try again */ }
    setTimeout(tick, 1000);
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  watchForms();
  for (const section of document.querySelectorAll("[data-run-poll]")) pollRun(section);
  for (const table of document.querySelectorAll("[data-runs-poll]")) pollRuns(table);
});
