// Shared by the games lucky-canvas draws (wheel, grid, slot): the brand's colours and font,
// prize labels that fit their cell, and the segment a result lands on.
//
// lucky-canvas's own wordWrap breaks a line at any character, so "Free egg tart" could come
// out as "Free eg / g tart", or "咖啡立减5 / 元". Labels are wrapped here instead, at word
// boundaries (Chinese, Japanese and Korean text may break between two characters, but not
// between a number and its unit), in the largest font size that fits, and handed to
// lucky-canvas as lines with wordWrap off.
(function () {
  "use strict";

  var css = getComputedStyle(document.documentElement);
  var FONT = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
  var WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\uac00-\ud7af";
  // A number keeps its unit ("5元", "8.5折", "10元券", "20积分"), and closing punctuation
  // keeps the character before it: a line never starts with "元" or "，".
  var UNIT = "(?:元券|折券|积分|[元折分张个杯次份件块%\uff05])?";
  var CLOSE = "[，。、！？；：）》」』\uff09]*";
  var TOKEN = new RegExp("[0-9][0-9.,]*" + UNIT + CLOSE + "|[" + WIDE + "]" + CLOSE +
                         "|[^\\s0-9" + WIDE + "]+[0-9]*" + UNIT + "|\\s+", "g");
  var measure = document.createElement("canvas").getContext("2d");

  function lineHeight(size) { return size + 3; }

  function width(text, size, weight) {
    measure.font = weight + " " + size + "px " + FONT;
    return measure.measureText(text).width;
  }

  // Greedy lines of whole tokens; `fits` is false when a token alone is wider than maxWidth.
  function wrap(tokens, maxWidth, size, weight) {
    var lines = [];
    var line = "";
    var fits = true;
    tokens.forEach(function (token) {
      if (/^\s+$/.test(token)) {
        if (line) { line += " "; }
        return;
      }
      if (width(token, size, weight) > maxWidth) { fits = false; }
      if (line.trim() && width(line + token, size, weight) > maxWidth) {
        lines.push(line.trim());
        line = token;
      } else {
        line += token;
      }
    });
    if (line.trim()) { lines.push(line.trim()); }
    return { lines: lines, fits: fits };
  }

  // What does not fit ends in an ellipsis: the last line kept loses whole words until it
  // fits; only a single word wider than the cell is cut inside.
  function ellipsize(lines, maxWidth, size, weight, maxLines) {
    var kept = lines.slice(0, maxLines);
    return kept.map(function (line, i) {
      var more = i === kept.length - 1 && lines.length > maxLines;
      if (!more && width(line, size, weight) <= maxWidth) { return line; }
      var tokens = line.match(TOKEN) || [];
      while (tokens.length > 1 && width(tokens.join("").trim() + "…", size, weight) > maxWidth) {
        tokens.pop();
      }
      line = tokens.join("").trim();
      while (line && width(line + "…", size, weight) > maxWidth) { line = line.slice(0, -1); }
      return line + "…";
    });
  }

  window.CanvasGames = {
    font: FONT,
    brand: css.getPropertyValue("--brand").trim() || "#e4393c",
    brandDark: css.getPropertyValue("--brand-dark").trim() || "#b22c2f",

    // {text: lines joined by "\n", lines, size, lineHeight}: the label in the fewest lines,
    // then the largest of `sizes` (px, largest first), that fits maxWidth by maxHeight.
    label: function (text, maxWidth, maxHeight, sizes, weight) {
      weight = weight || "700";
      var tokens = String(text).match(TOKEN) || [];
      var wrapped = null;
      // Fewer lines first (a smaller size on one line reads better than an orphan).
      for (var n = 1; n * lineHeight(sizes[sizes.length - 1]) <= maxHeight; n++) {
        for (var i = 0; i < sizes.length; i++) {
          wrapped = wrap(tokens, maxWidth, sizes[i], weight);
          if (wrapped.fits && wrapped.lines.length <= n
              && wrapped.lines.length * lineHeight(sizes[i]) <= maxHeight) {
            return { text: wrapped.lines.join("\n"), lines: wrapped.lines.length,
                     size: sizes[i], lineHeight: lineHeight(sizes[i]) };
          }
        }
      }
      var size = sizes[sizes.length - 1];
      var most = Math.max(1, Math.floor(maxHeight / lineHeight(size)));
      var cut = ellipsize(wrapped ? wrapped.lines : [], maxWidth, size, weight, most);
      return { text: cut.join("\n"), lines: cut.length, size: size, lineHeight: lineHeight(size) };
    },

    // Indexes of `segments` a draw's result may land on: the prize won, or for a lose the
    // "nothing" the server picked, else any "nothing" (a prize that ran out is no prize).
    landingIndexes: function (outcome, segments) {
      var target = window.Play.landingPrizeId(outcome);
      var found = [];
      segments.forEach(function (seg, i) {
        if (target !== null ? seg.id === target : seg.kind === "nothing") { found.push(i); }
      });
      if (!found.length) {
        segments.forEach(function (seg, i) { if (seg.kind === "nothing") { found.push(i); } });
      }
      return found;
    },

    pick: function (list) { return list[Math.floor(Math.random() * list.length)]; }
  };
})();
