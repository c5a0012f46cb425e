// The campaign builder: prize rows, live odds and the inventory check (Alpine.js, CSP build).
// The server renders the form's configuration into #builder-config; the cost preview is an
// htmx fragment that refreshes when a "prizes-changed" event says rows were added or removed.
(function () {
  "use strict";
  var COLORS = ["#1a5fd6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4",
    "#ec4899", "#84cc16", "#f97316", "#6366f1", "#14b8a6", "#a3a3a3"];

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  document.addEventListener("alpine:init", function () {
    var config = JSON.parse(document.getElementById("builder-config").textContent);
    window.Alpine.data("builder", function () {
      return {
        prizes: config.prizes,
        templates: config.templates,
        text: config.text,
        errors: config.errors || {},
        editing: config.mode === "edit",
        live: config.live,
        maxPrizes: config.maxPrizes,
        nextKey: config.prizes.length,
        pityPrize: config.pityPrize || "",
        // 保底 can name any prize row but a "nothing" one.
        pityChoices: function () {
          return this.prizes.filter(function (p) { return p.kind !== "nothing"; });
        },
        pityLabel: function (p) { return p.name || this.text[p.kind] || ""; },
        pityValue: function (p) { return String(p.index); },
        isPity: function (p) { return String(p.index) === this.pityPrize; },

        field: function (p, name) { return "prize-" + p.index + "-" + name; },
        weight: function (p) {
          var n = parseInt(p.weight, 10);
          return isNaN(n) || n < 0 ? 0 : n;
        },
        total: function () {
          var sum = 0;
          for (var i = 0; i < this.prizes.length; i++) sum += this.weight(this.prizes[i]);
          return sum;
        },
        share: function (p) {
          var total = this.total();
          return total ? this.weight(p) / total * 100 : 0;
        },
        percent: function (p) {
          var value = this.share(p);
          if (value > 0 && value < 0.01) return "<0.01%";
          return (Math.round(value * 100) / 100).toString() + "%";
        },
        segment: function (p, i) {
          return { width: this.share(p) + "%", background: COLORS[i % COLORS.length] };
        },
        swatch: function (i) { return { background: COLORS[i % COLORS.length] }; },
        legend: function (p) { return (p.name || this.text.none) + " " + this.percent(p); },
        summary: function () {
          return fill(this.text.summary, { n: this.prizes.length, total: this.total() });
        },
        hasNothing: function () {
          return this.prizes.some(function (p) { return p.kind === "nothing"; });
        },
        kindLabel: function (p) { return this.text[p.kind] || p.kind; },
        namePlaceholder: function (p) { return this.text[p.kind + "Name"] || ""; },
        template: function (p) {
          for (var i = 0; i < this.templates.length; i++) {
            if (this.templates[i].id === p.template) return this.templates[i];
          }
          return null;
        },
        templateName: function (p) { var t = this.template(p); return t ? t.name : ""; },
        optionLabel: function (t) {
          if (t.available === null) return fill(this.text.optionUnlimited, { name: t.name });
          return fill(this.text.option, { name: t.name, n: t.available });
        },
        wanted: function (templateId) {
          var sum = 0;
          for (var i = 0; i < this.prizes.length; i++) {
            var p = this.prizes[i];
            if (p.kind === "coupon" && p.template === templateId) sum += parseInt(p.quantity, 10) || 0;
          }
          return sum;
        },
        overStock: function (p) {
          if (this.editing || p.kind !== "coupon") return false;
          var t = this.template(p);
          return !!t && t.available !== null && this.wanted(t.id) > t.available;
        },
        stockHint: function (p) {
          if (p.kind === "coupon" && this.editing && p.won) return fill(this.text.won, { n: p.won });
          if (p.kind !== "coupon" || this.editing) return "";
          var t = this.template(p);
          if (!t) return "";
          if (t.available === null) return this.text.unlimitedStock;
          return fill(this.overStock(p) ? this.text.over : this.text.available, { n: t.available });
        },
        quantityPlaceholder: function (p) {
          var t = this.template(p);
          if (p.kind === "points" || (t && t.available === null)) return this.text.quantityUnlimited;
          return this.text.quantityRequired;
        },
        hasError: function (p, name) { return !!this.errors[this.field(p, name)]; },
        error: function (p, name) { return this.errors[this.field(p, name)] || ""; },
        kindChanged: function (p) {
          if (p.kind === "nothing" && !p.name) p.name = this.text.nothingName;
          this.changed();
        },
        templateChanged: function (p) {
          var t = this.template(p);
          if (t && !p.name) p.name = t.name;
          this.changed();
        },
        add: function (kind) {
          var index = 0;
          for (var i = 0; i < this.prizes.length; i++) index = Math.max(index, this.prizes[i].index + 1);
          this.prizes.push({ key: this.nextKey++, index: index, kind: kind, weight: "10",
            name: kind === "nothing" ? this.text.nothingName : "", template: "", points: "",
            quantity: "", id: "" });
          this.changed();
        },
        remove: function (i) {
          this.prizes.splice(i, 1);
          this.changed();
        },
        changed: function () {
          var form = this.$root;
          // After Alpine has rendered the rows, so the preview reads the new form.
          this.$nextTick(function () {
            form.dispatchEvent(new CustomEvent("prizes-changed", { bubbles: true }));
          });
        }
      };
    });
  });
})();
