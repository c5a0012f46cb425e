// The payment PIN form on 储值余额 (/m/balance): while the save is on its way the button says
// so and cannot be pressed twice. The form itself is a plain post; the page works without
// this script.
(function () {
  "use strict";
  var form = document.querySelector("[data-pin-form]");
  if (!form) { return; }
  var button = form.querySelector('[data-action="save-pin"]');
  var label = button.textContent;
  form.addEventListener("submit", function (event) {
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.textContent = button.dataset.textLoading;
  });
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.textContent = label;
  });
})();
