// The settings page's brand card: the preview follows the colour as it is picked or typed,
// and a chosen logo is shown at once, then uploaded as the image's own bytes (the server
// checks its type and size, engagement/merchants/brand.py). The darker shade and the text
// colour follow the same rule as member pages (engagement/kit/branding.py).
(function () {
  "use strict";

  var preview = document.querySelector("[data-brand-preview]");
  if (!preview) { return; }
  var picker = document.querySelector("[data-color-picker]");
  var text = document.querySelector("[data-color-text]");
  var input = document.querySelector("[data-logo-input]");
  var status = document.querySelector("[data-logo-status]");
  var error = document.querySelector("[data-logo-error]");
  var logo = preview.querySelector("[data-preview-logo]");
  var initial = preview.querySelector("[data-preview-initial]");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var HEX = /^#[0-9a-fA-F]{6}$/;

  function channels(color) {
    return [1, 3, 5].map(function (i) { return parseInt(color.substr(i, 2), 16); });
  }

  function darker(color) {
    return "#" + channels(color).map(function (c) {
      return ("0" + Math.round(c * (1 - 0.22)).toString(16)).slice(-2);
    }).join("");
  }

  function luminance(color) {
    var lin = channels(color).map(function (c) {
      var s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  }

  function paint(color) {
    if (!HEX.test(color)) { return; }
    var dark = darker(color.toLowerCase());
    preview.style.setProperty("--p-brand", color);
    preview.style.setProperty("--p-dark", dark);
    preview.style.setProperty("--p-on", luminance(dark) <= 0.183 ? "#ffffff" : "#1f2329");
  }

  picker.addEventListener("input", function () {
    text.value = picker.value;
    paint(picker.value);
  });
  text.addEventListener("input", function () {
    if (HEX.test(text.value.trim())) {
      picker.value = text.value.trim().toLowerCase();
      paint(text.value.trim());
    }
  });

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    status.textContent = "";
  }

  input.addEventListener("change", async function () {
    var file = input.files && input.files[0];
    error.hidden = true;
    if (!file) { return; }
    document.querySelector("[data-logo-name]").textContent = file.name;
    if (file.size > parseInt(input.getAttribute("data-max-bytes"), 10)) {
      fail(input.getAttribute("data-too-large"));
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      logo.src = reader.result;
      logo.hidden = false;
      initial.hidden = true;
    };
    reader.readAsDataURL(file);
    status.textContent = input.getAttribute("data-uploading");
    input.disabled = true;
    try {
      var response = await fetch(input.getAttribute("data-upload-url"), {
        method: "POST", credentials: "same-origin", body: file,
        headers: { "Content-Type": file.type || "application/octet-stream",
                   "X-CSRF-Token": csrf ? csrf.content : "", "Accept": "application/json" }
      });
      var body = null;
      try { body = await response.json(); } catch (err) { body = null; }
      if (response.status === 201 && body) {
        logo.src = body.logo_url;
        status.textContent = input.getAttribute("data-saved");
        preview.setAttribute("data-logo-url", body.logo_url);
      } else {
        fail(body && body.error ? body.error.message : input.getAttribute("data-failed"));
      }
    } catch (err) {
      fail(input.getAttribute("data-failed"));
    }
    input.disabled = false;
  });
})();
