// 大转盘: lucky-canvas draws and spins the wheel; it stops on the segment the server picked.
(function () {
  "use strict";

  var Play = window.Play;
  var Games = window.CanvasGames;
  var cfg = Play.config;
  var segments = cfg.segments;
  var box = document.getElementById("wheel");
  var brand = Games.brand;
  var brandDark = Games.brandDark;
  var font = Games.font;
  var size = Math.round(Math.min(box.clientWidth || 320, 340));
  var landed = null;
  var quick = Play.reducedMotion();
  // A label's room: the chord of its segment where the text sits, less a margin.
  var room = 2 * (size / 2 - 18) * 0.86 * Math.sin(Math.PI / segments.length) * 0.74;

  var wheel = new window.LuckyCanvas.LuckyWheel(box, {
    width: size + "px",
    height: size + "px",
    blocks: [
      { padding: "14px", background: brandDark },
      { padding: "4px", background: "#ffd45e" }
    ],
    prizes: segments.map(function (seg, i) {
      var light = i % 2 === 0;
      var label = Games.label(seg.name, room, 36, [14, 13, 12]);
      return {
        background: light ? "#fff6e0" : brand,
        fonts: [{
          text: label.text, top: "11%", fontSize: label.size + "px", fontWeight: "700",
          fontColor: light ? brandDark : "#ffffff", fontStyle: font,
          wordWrap: false, lineHeight: label.lineHeight + "px"
        }],
        imgs: [{ src: cfg.icons[seg.kind], width: "30px", height: "30px", top: "52%" }]
      };
    }),
    buttons: [
      { radius: "34%", background: "#ffd45e" },
      { radius: "29%", background: brandDark, pointer: true },
      {
        radius: "25%", background: "#ffffff",
        fonts: [{ text: cfg.messages.wheelButton, top: "-12px", fontColor: brandDark,
                  fontSize: "20px", fontWeight: "800", fontStyle: font }]
      }
    ],
    defaultConfig: {
      gutter: 0,
      speed: 22,
      accelerationTime: quick ? 150 : 1600,
      decelerationTime: quick ? 350 : 2800
    },
    start: function () {
      if (Play.canPlay() && !Play.busy()) { Play.run(null); }
    },
    end: function () {
      if (landed) { var done = landed; landed = null; done(); }
    }
  });

  Play.register({
    animate: function (outcome) {
      var index = Games.pick(Games.landingIndexes(outcome, segments));
      return new Promise(function (resolve) {
        landed = resolve;
        wheel.play();
        window.setTimeout(function () { wheel.stop(index); }, quick ? 100 : 900);
      });
    },
    reset: function () {}
  });
})();
