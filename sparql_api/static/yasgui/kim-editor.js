/* KIM Graph query editor: starts YASGUI on this service's /sparql with one tab per named query.
 *
 * Links, read from the URL fragment (never sent to the server, so /sparql?query= stays the protocol's):
 *   #tab=<named query>[&run=1]     select that named query's tab, and run it
 *   #query=<SPARQL>[&name=<tab name>][&run=1]   open a tab with this query, and run it
 * The page records CSP violations in <html data-csp-violations> so that tests can see them. */
(function () {
  "use strict";

  var root = document.documentElement;
  var violations = [];

  // Registered before yasgui.min.js runs (this script comes first), so its violations count too.
  document.addEventListener("securitypolicyviolation", function (event) {
    violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
    root.setAttribute("data-csp-violations", violations.join(" | "));
  });

  function tabId(name) {
    return "kim-" + name;
  }

  function followLink(yasgui) {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var tab = null;
    // addTab (when the tab exists) and selectTabId return the tab selected before: ask for the current one
    if (params.get("query")) {
      yasgui.addTab(true, { name: params.get("name") || "Link", yasqe: { value: params.get("query") } },
        { avoidDuplicateTabs: true });
      tab = yasgui.getTab();
    } else if (params.get("tab") && yasgui.getTab(tabId(params.get("tab")))) {
      yasgui.selectTabId(tabId(params.get("tab")));
      tab = yasgui.getTab();
    }
    if (!tab) {
      return;
    }
    // drop the fragment so that reloading the page does not open or run the link again
    history.replaceState(null, "", window.location.pathname + window.location.search);
    if (params.get("run") === "1") {
      root.setAttribute("data-kim-state", "running");
      tab.query();
    }
  }

  // YASGUI's share links put the query in the query string, where /sparql runs it as the protocol
  // says; a link in the fragment opens it in this editor instead.
  function shareableLink() {
    var params = new URLSearchParams({ query: this.getQuery(), name: this.getName() });
    return window.location.origin + window.location.pathname + "#" + params.toString();
  }

  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort",
    "unsignedByte"];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  // Literals as people read them: numbers and plain strings as their value, a language tag or another
  // datatype as a small note after it (YASR writes "19"^^<http://www.w3.org/2001/XMLSchema#integer>).
  function formatLiteral(binding) {
    var value = escapeHtml(binding.value);
    var datatype = binding.datatype || "";
    if (binding["xml:lang"]) {
      return value + '<sup class="kimLang">@' + escapeHtml(binding["xml:lang"]) + "</sup>";
    }
    if (!datatype || datatype === XSD + "string") {
      return value;
    }
    if (datatype.indexOf(XSD) === 0 && NUMERIC.indexOf(datatype.slice(XSD.length)) >= 0) {
      return '<span class="kimNumber">' + value + "</span>";
    }
    var shown = datatype.indexOf(XSD) === 0 ? "xsd:" + datatype.slice(XSD.length) : datatype;
    return value + '<sup class="kimDatatype" title="' + escapeHtml(datatype) + '">' + escapeHtml(shown) + "</sup>";
  }

  // An error as a short message: the problem's title and detail (RFC 9457), not its raw JSON.
  function renderProblem(error) {
    var text = (error && error.text) || "";
    var problem = null;
    try {
      problem = JSON.parse(text);
    } catch (e) {
      problem = null;
    }
    if (!problem || typeof problem !== "object" || !problem.title) {
      return undefined;
    }
    var box = document.createElement("div");
    box.className = "kimProblem";
    box.setAttribute("role", "alert");
    var title = document.createElement("p");
    title.className = "kimProblemTitle";
    title.textContent = problem.title + (problem.status ? " (" + problem.status + ")" : "");
    box.appendChild(title);
    if (problem.detail) {
      var detail = document.createElement("pre");
      detail.className = "kimProblemDetail";
      detail.textContent = problem.detail;
      box.appendChild(detail);
    }
    return Promise.resolve(box);
  }

  function start() {
    Yasgui.Tab.prototype.getShareableLink = shareableLink;
    var table = Yasgui.Yasr && Yasgui.Yasr.plugins && Yasgui.Yasr.plugins.table;
    if (table && table.prototype) {
      table.prototype.formatLiteral = formatLiteral;
    }
    Yasgui.Yasr.defaults.errorRenderers = [renderProblem].concat(Yasgui.Yasr.defaults.errorRenderers || []);
    var config = JSON.parse(document.getElementById("kim-editor-config").textContent);
    var endpoint = new URL(config.endpoint, window.location.href).href;
    // Property and class completion ask lov.linkeddata.es; prefixes and variables are local.
    var completers = ["prefixes", "variables"];
    Yasgui.Yasqe.defaults.autocompleters = completers.slice();
    var yasgui = new Yasgui(document.getElementById("yasgui"), {
      requestConfig: { endpoint: endpoint, method: "POST" },
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
      copyEndpointOnNewTab: true,
      populateFromUrl: false,
      autofocus: false,
      persistenceId: "kim-graph-editor",
      yasqe: { value: config.blankQuery, autocompleters: completers.slice() }
    });
    // Tabs kept from an earlier visit may name another address of this service: this page edits this one.
    Object.keys(yasgui._tabs).forEach(function (id) {
      yasgui.getTab(id).setEndpoint(endpoint);
    });
    // Named tabs keep their stable ids, so a tab edited on an earlier visit keeps the edits.
    config.queries.forEach(function (query) {
      if (!yasgui.getTab(tabId(query.name))) {
        yasgui.addTab(false, { id: tabId(query.name), name: query.name, yasqe: { value: query.query } });
      }
    });
    yasgui.on("queryResponse", function (instance, tab) {
      root.setAttribute("data-kim-state", "answered");
      root.setAttribute("data-kim-answered-tab", tab.getName());
    });
    window.addEventListener("hashchange", function () {
      followLink(yasgui);
    });
    followLink(yasgui);
    root.setAttribute("data-kim-ready", "true");
    window.kimYasgui = yasgui;
  }

  document.addEventListener("DOMContentLoaded", start);
}());
