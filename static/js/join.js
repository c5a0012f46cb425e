// 领券先领卡: "获取验证码" sends the code without leaving the page and counts down to a resend.
// Without script the same button posts the form and the page comes back with the code sent.
(function () {
  "use strict";

  var form = document.querySelector("[data-join-form]");
  if (!form) { return; }
  var button = form.querySelector('[data-action="send-code"]');
  var notice = form.querySelector("[data-notice]");
  var phone = form.querySelector('input[name="phone"]');
  var code = form.querySelector('input[name="code"]');
  var timer = null;

  function say(text, isError) {
    notice.textContent = text;
    notice.hidden = false;
    notice.classList.toggle("notice--error", !!isError);
  }

  function countdown(seconds) {
    var left = seconds;
    button.disabled = true;
    button.textContent = button.getAttribute("data-wait").replace("{s}", left);
    timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = button.getAttribute("data-label");
        return;
      }
      button.textContent = button.getAttribute("data-wait").replace("{s}", left);
    }, 1000);
  }

  button.addEventListener("click", async function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    button.disabled = true;
    var body = new URLSearchParams();
    body.set("phone", phone.value);
    body.set("csrf_token", form.querySelector('input[name="csrf_token"]').value);
    var response;
    try {
      response = await fetch(button.getAttribute("formaction"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
        body: body
      });
    } catch (err) {
      button.disabled = false;
      say(form.getAttribute("data-network") || "…", true);
      return;
    }
    var data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (response.status === 202) {
      say(form.getAttribute("data-sent"), false);
      phone.removeAttribute("aria-invalid");
      countdown(parseInt(button.getAttribute("data-resend"), 10) || 60);
      code.focus();
      return;
    }
    button.disabled = false;
    say(data && data.error ? data.error.message : (form.getAttribute("data-network") || "…"), true);
    if (data && data.error && data.error.details && data.error.details.field === "phone") {
      phone.setAttribute("aria-invalid", "true");
      phone.focus();
    }
  });
})();
