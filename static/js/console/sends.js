// The send builder: the live audience says when it could not be counted (a lost network,
// a server error), and the time field is only asked for when "定时发送" is chosen.
(function () {
  "use strict";
  var box = document.getElementById("audience");
  var failed = document.querySelector("[data-audience-failed]");
  if (box && failed) {
    var show = function () { failed.hidden = false; };
    box.addEventListener("htmx:responseError", show);
    box.addEventListener("htmx:sendError", show);
    box.addEventListener("htmx:afterSwap", function () { failed.hidden = true; });
  }
  var later = document.querySelector("[data-when-later]");
  var schedule = document.querySelector("[data-schedule]");
  if (later && schedule) {
    var sync = function () { schedule.hidden = !later.checked; };
    document.querySelectorAll("input[name=when]").forEach(function (input) {
      input.addEventListener("change", sync);
    });
    sync();
  }
})();
