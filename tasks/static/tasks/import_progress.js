// The admin's import progress page (tasks/templates/admin/tasks/import_progress.html): polls the
// task status API with the staff session, moves the bar, and reloads the page once the task has
// finished so that the server renders the report. A file, not an inline script: the content
// security policy allows scripts from this server only.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var counts = box.querySelector("[data-counts]");
  var status = box.querySelector("[data-status]");
  var template = box.getAttribute("data-progress-text");
  var locale = document.documentElement.lang || undefined;
  var FINISHED = ["SUCCESS", "FAILURE", "REVOKED"];

  function number(value) {
    return Number(value).toLocaleString(locale);
  }

  function show(task) {
    if (!task.progress) {
      return;
    }
    var total = task.progress.total || Number(bar.getAttribute("max")) || 1;
    var done = Math.min(task.progress.done || 0, total);
    bar.max = total;
    bar.value = done;
    counts.textContent = template.replace("%(done)s", number(done)).replace("%(total)s", number(total));
    status.textContent = box.getAttribute("data-running-text");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (task) {
        if (FINISHED.indexOf(task.status) !== -1) {
          window.location.reload();
          return;
        }
        show(task);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // the server or the network is down: keep trying, slower
      });
  }

  if (url) {
    window.setTimeout(poll, 500);
  }
})();
