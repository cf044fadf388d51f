(function () {
  "use strict";
  var templates = JSON.parse(document.getElementById("plotly-templates").textContent);
  var config = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false,
    showEditInChartStudio: false, toImageButtonOptions: { format: "png" } };
  var plots = document.querySelectorAll("div.plot[data-figure]");
  // Figures are drawn as they come near the screen, and the rest one by one once the page
  // has loaded: the first screen (verdict and issues) does not wait for a dozen plots.
  function draw(div) {
    if (div.hasAttribute("data-drawn")) { return; }
    div.setAttribute("data-drawn", "");
    try {
      var spec = JSON.parse(document.getElementById(div.getAttribute("data-figure")).textContent);
      var layout = spec.layout || {};
      if (spec.template !== null && spec.template !== undefined) {
        layout.template = templates[spec.template];
      }
      Plotly.newPlot(div, spec.data || [], layout, config);
    } catch (error) {
      div.textContent = "This figure could not be drawn: " + error;
      console.error(error);
    }
  }
  function drawAll() {
    for (var i = 0; i < plots.length; i++) { draw(plots[i]); }
  }
  var observer = null;
  if ("IntersectionObserver" in window) {
    observer = new IntersectionObserver(function (entries) {
      for (var e = 0; e < entries.length; e++) {
        if (entries[e].isIntersecting) {
          observer.unobserve(entries[e].target);
          draw(entries[e].target);
        }
      }
    }, { rootMargin: "800px 0px" });
    for (var o = 0; o < plots.length; o++) { observer.observe(plots[o]); }
  }
  var next = 0;
  function drawNext() {
    while (next < plots.length && plots[next].hasAttribute("data-drawn")) { next++; }
    if (next < plots.length) { draw(plots[next]); setTimeout(drawNext, 0); }
  }
  window.addEventListener("load", function () { setTimeout(drawNext, 0); });
  if (observer === null) { drawAll(); }
  function resizeAll() {
    var drawn = document.querySelectorAll(".js-plotly-plot");
    for (var j = 0; j < drawn.length; j++) { Plotly.Plots.resize(drawn[j]); }
  }
  // The severity filter: unticking a severity hides its issues and findings (no server).
  var boxes = document.querySelectorAll(".severity-filter input[name=severity]");
  function applyFilter() {
    var shown = {};
    for (var b = 0; b < boxes.length; b++) { shown[boxes[b].value] = boxes[b].checked; }
    var items = document.querySelectorAll(".issue[data-severity], .finding[data-severity]");
    for (var n = 0; n < items.length; n++) {
      items[n].hidden = shown[items[n].getAttribute("data-severity")] === false;
    }
  }
  for (var f = 0; f < boxes.length; f++) { boxes[f].addEventListener("change", applyFilter); }
  applyFilter();
  // Print opens what is folded, except the parts marked to stay folded (model card, settings).
  var reopened = [];
  window.addEventListener("beforeprint", function () {
    drawAll();
    var details = document.querySelectorAll("details");
    for (var k = 0; k < details.length; k++) {
      var inside = details[k].closest(".print-collapsed");
      if (!details[k].open && inside === null) { details[k].open = true; reopened.push(details[k]); }
    }
    resizeAll();
  });
  window.addEventListener("afterprint", function () {
    for (var r = 0; r < reopened.length; r++) { reopened[r].open = false; }
    reopened = [];
    resizeAll();
  });
})();
