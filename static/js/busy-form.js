// Member pages' plain forms marked data-busy-form (我的资料, the payment PIN on 储值余额):
// while the post is on its way the submit button says so (its data-text-loading) and
// cannot be pressed twice. The forms work without this script.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy-form]").forEach(function (form) {
    var button = form.querySelector("button[type=submit][data-text-loading]");
    if (!button) { return; }
    var label = button.textContent;
    form.addEventListener("submit", function (event) {
      if (button.disabled) { event.preventDefault(); return; }
      button.disabled = true;
      button.textContent = button.dataset.textLoading;
    });
    // Back from the browser's cache (bfcache) after a save: the button works again.
    window.addEventListener("pageshow", function () {
      button.disabled = false;
      button.textContent = label;
    });
  });
})();
