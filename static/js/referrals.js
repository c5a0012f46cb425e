// The referrer page: copy the share link, or hand it to the phone's share sheet.
(function () {
  "use strict";
  var card = document.querySelector("[data-share-link]");
  if (!card) return;
  var input = card.querySelector("[data-share-url]");
  var copied = card.querySelector("[data-copied]");
  var shareButton = card.querySelector('[data-action="share-link"]');

  function done() {
    if (copied) copied.hidden = false;
  }

  card.querySelector('[data-action="copy-link"]').addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        input.select();
      });
    } else {
      input.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: copy by hand */ }
    }
  });

  if (navigator.share && shareButton) {
    shareButton.hidden = false;
    shareButton.addEventListener("click", function () {
      navigator.share({ title: document.title, url: input.value }).catch(function () {});
    });
  }
})();

// The withdrawal forms: while the post is on its way the button says so and cannot be
// pressed twice (the confirmation's key makes a second post harmless anyway).
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) return;
      window.setTimeout(function () {
        button.setAttribute("data-idle-label", button.textContent);
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        if (button.getAttribute("data-busy-label")) {
          button.textContent = button.getAttribute("data-busy-label");
        }
      }, 0);
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = button.getAttribute("data-idle-label") || button.textContent;
    });
  });
})();
