// 大转盘: lucky-canvas draws and spins the wheel; it stops on the segment the server picked.
(function () {
  "use strict";

  var Play = window.Play;
  var cfg = Play.config;
  var segments = cfg.segments;
  var box = document.getElementById("wheel");
  var css = getComputedStyle(document.documentElement);
  var brand = css.getPropertyValue("--brand").trim() || "#e4393c";
  var brandDark = css.getPropertyValue("--brand-dark").trim() || "#b22c2f";
  var font = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
  var size = Math.round(Math.min(box.clientWidth || 320, 340));
  var landed = null;
  var quick = Play.reducedMotion();

  function shortName(name) {
    return name.length > 8 ? name.slice(0, 7) + "…" : name;
  }

  var wheel = new window.LuckyCanvas.LuckyWheel(box, {
    width: size + "px",
    height: size + "px",
    blocks: [
      { padding: "14px", background: brandDark },
      { padding: "4px", background: "#ffd45e" }
    ],
    prizes: segments.map(function (seg, i) {
      var light = i % 2 === 0;
      return {
        background: light ? "#fff6e0" : brand,
        fonts: [{
          text: shortName(seg.name), top: "11%", fontSize: "14px", fontWeight: "700",
          fontColor: light ? brandDark : "#ffffff", fontStyle: font,
          wordWrap: true, lengthLimit: "78%", lineClamp: 2, lineHeight: "18px"
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

  function indexFor(outcome) {
    var target = Play.landingPrizeId(outcome);
    var candidates = [];
    segments.forEach(function (seg, i) {
      if (target !== null ? seg.id === target : seg.kind === "nothing") { candidates.push(i); }
    });
    if (!candidates.length) {
      segments.forEach(function (seg, i) { if (seg.kind === "nothing") { candidates.push(i); } });
    }
    return candidates[Math.floor(Math.random() * candidates.length)];
  }

  Play.register({
    animate: function (outcome) {
      var index = indexFor(outcome);
      return new Promise(function (resolve) {
        landed = resolve;
        wheel.play();
        window.setTimeout(function () { wheel.stop(index); }, quick ? 100 : 900);
      });
    },
    reset: function () {}
  });
})();
