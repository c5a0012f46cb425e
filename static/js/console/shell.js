// Every console page: the CSRF token on htmx requests, confirmations before irreversible
// actions, copy buttons, errors that clear when their field is corrected, and a sign-in
// page when a session ends during an htmx request.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');

  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta && event.detail.verb !== "get") event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Forms marked data-busy: while the answer is on its way, the button says so and cannot
  // be pressed twice (a second press would post the form twice).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute("data-busy")) return;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("data-label", button.textContent);
      if (button.getAttribute("data-busy-label")) button.textContent = button.getAttribute("data-busy-label");
      button.setAttribute("aria-busy", "true");
      setTimeout(function () { button.disabled = true; }, 0);  // after the form is sent
    });
  });
  // Back from the next page (the browser's page cache): the buttons work again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.getAttribute("data-label")) button.textContent = button.getAttribute("data-label");
    });
  });

  // A field the server marked wrong stops looking wrong once it is changed: its red border
  // and its message go (the server checks it again on the next submit).
  function clearError(event) {
    var field = event.target;
    if (!field.getAttribute || field.getAttribute("aria-invalid") !== "true") return;
    field.removeAttribute("aria-invalid");
    var described = field.getAttribute("aria-describedby");
    var message = described && document.getElementById(described);
    if (!message && field.name) {
      message = document.querySelector('[data-error-for="' + field.name + '"]');
    }
    if (message && message.classList.contains("field-error")) message.hidden = true;
    if (described && message) field.removeAttribute("aria-describedby");
  }
  document.addEventListener("input", clearError);
  document.addEventListener("change", clearError);

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || label;
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else {
      done();  // selected: the merchant can copy it with the keyboard
    }
  });
})();
