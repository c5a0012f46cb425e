// The member import page: a chosen CSV file is sent to the preview (which writes nothing)
// and its answer, an HTML fragment in the page's language, shows the first rows and their
// problems; "import" sends the same file again to create the import and opens its page,
// where the status card is polled until the import is done.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');

  function post(url, file) {
    var query = "?filename=" + encodeURIComponent(file.name);
    return fetch(url + query, {
      method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": "text/csv", "X-CSRF-Token": meta ? meta.content : "" }
    });
  }

  function notice(text) {
    var box = document.createElement("div");
    box.className = "notice error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-upload-error", "");
    box.textContent = text;
    return box;
  }

  var upload = document.querySelector("[data-import-upload]");
  if (upload) {
    var input = upload.querySelector("[data-import-file]");
    var area = upload.querySelector("[data-import-preview]");
    var text = upload.dataset;
    var chosen = null;
    var fileName = upload.querySelector("[data-file-name]");

    var show = function (node) { area.replaceChildren(node); };
    var loading = function (label) {
      var p = document.createElement("p");
      p.className = "loading-line";
      p.setAttribute("data-loading", "");
      p.textContent = label;
      show(p);
    };

    input.addEventListener("change", function () {
      chosen = input.files && input.files[0];
      fileName.textContent = chosen ? chosen.name : fileName.dataset.none;
      if (!chosen) { area.replaceChildren(); return; }
      if (chosen.size > Number(text.maxBytes)) { show(notice(text.textTooBig)); return; }
      loading(text.textChecking);
      post(text.previewUrl, chosen).then(function (response) {
        // 200: the preview; 4xx: the file cannot be read (its own fragment says why).
        if (response.status >= 500) throw new Error("server");
        return response.text().then(function (html) { area.innerHTML = html; });
      }).catch(function (error) {
        show(notice(error.message === "server" ? text.textFailed : text.textOffline));
      });
    });

    area.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action=start-import]");
      if (!button || !chosen) return;
      var problem = area.querySelector("[data-start-error]");
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      var label = button.textContent;
      button.textContent = text.textStarting;
      post(text.startUrl, chosen).then(function (response) {
        if (response.status === 202) {
          return response.json().then(function (data) { window.location.assign(data.url); });
        }
        if (response.status >= 500) throw new Error("server");
        return response.text().then(function (html) { area.innerHTML = html; });
      }).catch(function (error) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.textContent = label;
        if (problem) {
          problem.textContent = error.message === "server" ? text.textFailed : text.textOffline;
          problem.hidden = false;
        }
      });
    });
  }

  // The import's own page: follow it until it is done, then show the result.
  var card = document.querySelector("[data-import-progress]");
  if (card && card.dataset.status !== "done") {
    var url = card.dataset.progressUrl;
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          card.replaceWith(fresh);
          card = fresh;
          if (card.dataset.status === "done") {
            window.location.reload();  // the result with its failed rows
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          var warn = card.querySelector("[data-poll-error]");
          if (warn) warn.hidden = false;
          setTimeout(poll, 3000);
        });
    };
    setTimeout(poll, 700);
  }
})();
