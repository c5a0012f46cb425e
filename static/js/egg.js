// 砸金蛋: the result is fetched first; then the hammer swings, the egg cracks and opens on it.
(function () {
  "use strict";

  var Play = window.Play;
  var msg = Play.messages;
  var stage = document.querySelector("[data-eggs]");
  var hammer = document.querySelector("[data-hammer]");
  var eggs = Array.prototype.slice.call(stage.querySelectorAll("[data-egg]"));

  function wait(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, Play.reducedMotion() ? 0 : ms); });
  }

  function aim(egg) {
    var box = stage.getBoundingClientRect();
    var r = egg.getBoundingClientRect();
    hammer.style.left = (r.left - box.left + r.width * 0.55) + "px";
    hammer.style.top = (r.top - box.top - r.height * 0.35) + "px";
  }

  Play.register({
    animate: async function (outcome, control) {
      var egg = control && control.hasAttribute("data-egg") ? control : eggs[1];
      var win = outcome.outcome === "win" && outcome.prize;
      egg.querySelector("[data-egg-prize]").textContent = win ? outcome.prize.name : msg.loseTitle;
      stage.classList.add("is-playing");
      egg.classList.add("is-target");
      aim(egg);
      hammer.classList.add("is-swinging");
      await wait(760);
      hammer.classList.remove("is-swinging");
      egg.classList.add("is-cracked");
      await wait(420);
      egg.classList.add("is-open");
      egg.classList.toggle("is-win", !!win);
      if (win) {
        var r = egg.getBoundingClientRect();
        Play.celebrate((r.left + r.width / 2) / window.innerWidth, (r.top + r.height / 3) / window.innerHeight);
      }
      await wait(900);
    },
    reset: function () {
      stage.classList.remove("is-playing");
      eggs.forEach(function (egg) {
        egg.classList.remove("is-target", "is-cracked", "is-open", "is-win");
        egg.querySelector("[data-egg-prize]").textContent = "";
      });
    }
  });
})();
