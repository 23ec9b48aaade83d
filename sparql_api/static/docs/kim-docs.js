/* KIM Graph API documentation: starts Swagger UI (served by this service) on the app's OpenAPI document.
 *
 * The page has no inline script; its CSP allows scripts from this origin only. CSP violations are
 * recorded in <html data-csp-violations>, and <html data-kim-ready="true"> marks a rendered document,
 * so that tests can see both. */
(function () {
  "use strict";

  var root = document.documentElement;
  var violations = [];

  // Registered before swagger-ui-bundle.js runs (this script comes first), so its violations count too.
  document.addEventListener("securitypolicyviolation", function (event) {
    violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
    root.setAttribute("data-csp-violations", violations.join(" | "));
  });

  function start() {
    var element = document.getElementById("swagger-ui");
    window.SwaggerUIBundle({
      url: element.getAttribute("data-openapi-url"),
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
      onComplete: function () {
        root.setAttribute("data-kim-ready", "true");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
