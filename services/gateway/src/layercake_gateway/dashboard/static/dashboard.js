// The project page's live feed: the project's events from the API's SSE stream
// (GET /projects/ID/events, signed in by the session cookie), each shown as text
// (textContent: an event's fields are never read as markup), and a debounced
// `lc:refresh` on <body> that the timeline and the sections reload on (htmx).
"use strict";
(function () {
  const feed = document.getElementById("feed");
  if (!feed) return;
  const count = document.getElementById("feed-count");
  const state = document.getElementById("feed-state");
  const types = (feed.dataset.types || "").split(" ").filter(Boolean);
  const kept = 300; // the newest events shown; older ones leave the page
  let shown = 0;
  let timer = null;

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      document.body.dispatchEvent(new CustomEvent("lc:refresh"));
    }, 400);
  }

  function line(type, data) {
    let event = {};
    try { event = JSON.parse(data); } catch (_) { /* shown by type alone */ }
    const item = document.createElement("li");
    const when = document.createElement("time");
    when.textContent = (event.occurred_at || "").replace("T", " ").slice(0, 19);
    if (event.occurred_at) when.dateTime = event.occurred_at;
    const what = document.createElement("strong");
    what.textContent = type;
    const facts = [event.gate, event.role, event.by ? "by " + event.by : null,
                   event.attempt ? "attempt " + event.attempt : null, event.option, event.reason]
      .filter(Boolean).join(" · ");
    item.append(when, " ", what, facts ? " " + facts : "");
    feed.prepend(item);
    while (feed.children.length > kept) feed.lastElementChild.remove();
    shown += 1;
    if (count) count.textContent = String(shown);
  }

  const source = new EventSource(feed.dataset.source);
  for (const type of types) {
    source.addEventListener(type, function (message) {
      line(type, message.data);
      refresh();
    });
  }
  source.onopen = function () { if (state) state.textContent = "live"; };
  source.onerror = function () { if (state) state.textContent = "reconnecting…"; };
})();
