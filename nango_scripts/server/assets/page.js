// The Activity page's only script: keep [data-poll] sections live by fetching their
// fragment every 1.5 s and replacing their content. Without it the page still works
// (reload to see changes). A fragment holding [data-final] is the last one needed.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;

  // As the pages write every time (server/_page_render.py: moment): 2024-05-01 18:06:45 UTC.
  function moment(date) {
    return date.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function live(section) {
    var url = section.getAttribute("data-poll");
    var status = document.getElementById(section.getAttribute("data-status") || "");
    var last = null;
    var stopped = false;

    function say(text) {
      if (status) status.textContent = text;
    }

    function later() {
      if (!stopped) window.setTimeout(tick, INTERVAL_MS);
    }

    function tick() {
      if (document.hidden) return later();
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
        .then(function (answer) {
          if (answer.status === 401) {
            stopped = true;
            say("Your session has ended: reload the page to log in again.");
            return null;
          }
          return answer.text().then(function (html) {
            if (!answer.ok && answer.status !== 400) {
              say("Live updates paused: the server answered " + answer.status + "; retrying.");
              return;
            }
            if (html !== last) {
              section.innerHTML = html;
              last = html;
            }
            if (section.querySelector("[data-final]")) {
              stopped = true;
              say("Finished.");
            } else {
              say("Live: updated at " + moment(new Date()));
            }
          });
        })
        .catch(function () {
          say("Live updates paused: the service cannot be reached; retrying.");
        })
        .then(later);
    }

    say("Live: updating every " + INTERVAL_MS / 1000 + " s.");
    later();
  }

  // Filters left at "any" stay out of the URL (the form works without this too).
  function tidy(form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("select, input").forEach(function (field) {
        if (!field.value) field.disabled = true;
      });
    });
    window.addEventListener("pageshow", function () {
      form.querySelectorAll("select, input").forEach(function (field) {
        field.disabled = false;
      });
    });
  }

  document.querySelectorAll("[data-poll]").forEach(live);
  document.querySelectorAll("form.filters").forEach(tidy);
})();
