(function () {
  "use strict";
  var templates = JSON.parse(document.getElementById("plotly-templates").textContent);
  var config = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false,
    showEditInChartStudio: false, toImageButtonOptions: { format: "png" } };
  var plots = document.querySelectorAll("div.plot[data-figure]");
  for (var i = 0; i < plots.length; i++) {
    var div = plots[i];
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
  function resizeAll() {
    var drawn = document.querySelectorAll(".js-plotly-plot");
    for (var j = 0; j < drawn.length; j++) { Plotly.Plots.resize(drawn[j]); }
  }
  window.addEventListener("beforeprint", function () {
    var details = document.querySelectorAll("details");
    for (var k = 0; k < details.length; k++) { details[k].open = true; }
    resizeAll();
  });
  window.addEventListener("afterprint", resizeAll);
})();
