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
