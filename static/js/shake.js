// 摇一摇: shaking the phone (DeviceMotion) starts a draw, as the button does; then the phone
// on the page shakes and opens on the server's result. iOS asks for motion access, which a
// page may only request on a tap, so there a button asks first; where there is no motion
// sensor, or access is refused, the button alone plays and the hint says so.
(function () {
  "use strict";

  var Play = window.Play;
  var msg = Play.messages;
  var stage = document.querySelector("[data-shake]");
  var prizeEl = document.querySelector("[data-shake-prize]");
  var hint = document.querySelector("[data-shake-hint]");
  var ask = document.querySelector('[data-action="motion"]');
  // A jolt: two axes change by more than this (m/s²) between readings; two jolts within
  // WINDOW ms are a shake (one bump of the phone on a table is not).
  var JOLT = 12;
  var JOLTS = 2;
  var WINDOW = 1000;
  // Phones report motion many times a second; none by then means no sensor.
  var SENSOR_WAIT = 1500;
  var last = null;
  var jolts = [];
  var sensed = false;
  var listening = false;

  function say(key) { hint.textContent = hint.getAttribute("data-" + key); }

  function wait(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, Play.reducedMotion() ? 0 : ms); });
  }

  function onMotion(event) {
    var a = event.accelerationIncludingGravity || event.acceleration;
    if (!a || a.x === null || a.y === null || a.z === null) { return; }
    if (!sensed) { sensed = true; say("ready"); }
    if (last) {
      var moved = [a.x - last.x, a.y - last.y, a.z - last.z].filter(function (d) {
        return Math.abs(d) > JOLT;
      }).length;
      var now = Date.now();
      if (moved >= 2) {
        jolts = jolts.filter(function (t) { return now - t < WINDOW; });
        jolts.push(now);
        if (jolts.length >= JOLTS) { jolts = []; shaken(); }
      }
    }
    last = { x: a.x, y: a.y, z: a.z };
  }

  function shaken() {
    if (!Play.canPlay() || Play.busy()) { return; }
    // Chromium refuses (and logs) a vibration before the first tap on the page.
    var tapped = navigator.userActivation && navigator.userActivation.hasBeenActive;
    if (tapped && navigator.vibrate) { navigator.vibrate(120); }
    Play.run(null);
  }

  function listen() {
    if (listening) { return; }
    listening = true;
    window.addEventListener("devicemotion", onMotion);
    window.setTimeout(function () { if (!sensed) { say("no-sensor"); } }, SENSOR_WAIT);
  }

  if (!("DeviceMotionEvent" in window)) {
    say("no-sensor");
  } else if (typeof window.DeviceMotionEvent.requestPermission === "function") {
    // iOS 13+: motion access is asked for on a tap, never on load.
    if (Play.canPlay()) {
      say("ask");
      ask.hidden = false;
      ask.addEventListener("click", function () {
        ask.hidden = true;
        window.DeviceMotionEvent.requestPermission().then(function (state) {
          if (state === "granted") { say("ready"); listen(); } else { say("denied"); }
        }, function () { say("denied"); });
      });
    }
  } else {
    listen();
  }

  Play.register({
    animate: async function (outcome) {
      var win = outcome.outcome === "win" && outcome.prize;
      prizeEl.textContent = win ? outcome.prize.name : msg.loseTitle;
      stage.classList.add("is-shaking");
      await wait(1100);
      stage.classList.remove("is-shaking");
      stage.classList.add("is-open");
      stage.classList.toggle("is-win", !!win);
      await wait(800);
    },
    reset: function () {
      stage.classList.remove("is-shaking", "is-open", "is-win");
      prizeEl.textContent = "";
    }
  });
})();
