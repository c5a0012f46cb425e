// The profile form (我的资料): while the save is on its way the button says so and cannot
// be pressed twice. The form itself is a plain post; the page works without this script.
(function () {
  "use strict";
  var form = document.querySelector("[data-profile-form]");
  if (!form) { return; }
  var button = form.querySelector('[data-action="save"]');
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
})();
