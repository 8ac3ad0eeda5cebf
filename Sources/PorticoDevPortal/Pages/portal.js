// Portico developer portal: catalog, docs, search, try-it and code samples.
// No build step and no third-party code. Every piece of text from the server or an OpenAPI
// document goes through esc() or md() (whose HTML passes the allow-list of sanitize()) before
// it reaches innerHTML.
"use strict";

const Portal = (() => {
  const base = location.pathname.replace(/[^/]*$/, "");
  const apiRoot = base + "api/";
  const state = { info: null, session: null, catalog: null, indexes: new Map(), ops: new Map(), schemas: new Map(), markdown: new Map(), limits: null };
  const $ = (selector, root = document) => root.querySelector(selector);
  const main = () => $("#main");
  const sidebar = () => $("#sidebar");

  const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const seg = (value) => encodeURIComponent(value === "" ? "-" : value);

  // Views render after waiting for the server. Each makes a check when it starts and calls it
  // after every wait: once the reader has moved to another page it throws Stale, so a slow
  // answer never paints over the page that replaced it (render and the handlers drop Stale).
  class Stale extends Error {}
  function viewing() {
    const hash = location.hash;
    return () => { if (location.hash !== hash) throw new Stale("the page changed"); };
  }

  class Problem extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.title)) || "HTTP " + status);
      this.status = status;
      this.body = body;
    }
  }

  async function request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (state.session && state.session.csrf) headers["X-CSRF-Token"] = state.session.csrf;
    }
    const response = await fetch(apiRoot + path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
    if (!response.ok) throw new Problem(response.status, data);
    return data;
  }
  const get = (path) => request("GET", path);
  const post = (path, body) => request("POST", path, body ?? {});

  // CommonMark's common forms, with the inline HTML that CommonMark allows passed through an
  // allow-list: descriptions are parsed into an inert <template> (nothing in it runs or loads),
  // every element not on the list is dropped (script, style, iframe, svg, forms…) or unwrapped,
  // every attribute not on the list (on*, style, class) is removed, and links keep only http(s),
  // mailto, fragment and relative targets.
  const allowedTags = new Set(("p br hr em strong b i u s del ins code pre kbd samp sub sup small mark blockquote ul ol li "
    + "dl dt dd h1 h2 h3 h4 h5 h6 a img table thead tbody tfoot tr th td caption span div details summary").split(" "));
  const droppedTags = new Set("script style iframe frame frameset object embed applet svg math template noscript noembed textarea title xmp plaintext form input button select option link meta base".split(" "));
  const allowedAttributes = { a: ["href", "title"], img: ["src", "alt", "title", "width", "height"], td: ["colspan", "rowspan"], th: ["colspan", "rowspan"], ol: ["start"] };
  const safeURL = (value, image) => {
    // Browsers drop tabs, newlines and control characters from URLs (`java\tscript:`): so does the check.
    const url = value.replace(/[\u0000-\u0020\u007f]/g, "");
    if (/^(https?:)?\/\//i.test(url) || (/^mailto:/i.test(url) && !image)) return true;
    return !/^[a-z][a-z0-9+.-]*:/i.test(url);
  };
  function sanitize(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const clean = (parent) => {
      for (const node of [...parent.childNodes]) {
        if (node.nodeType === Node.COMMENT_NODE) { node.remove(); continue; }
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        const tag = node.localName;
        if (droppedTags.has(tag) || node.namespaceURI !== "http://www.w3.org/1999/xhtml") { node.remove(); continue; }
        clean(node);
        if (!allowedTags.has(tag)) { node.replaceWith(...node.childNodes); continue; }
        const keep = allowedAttributes[tag] || [];
        for (const attribute of [...node.attributes]) {
          const name = attribute.name.toLowerCase();
          const ok = (keep.includes(name) || name === "title") && !((name === "href" || name === "src") && !safeURL(attribute.value, tag === "img"));
          if (!ok) node.removeAttribute(attribute.name);
        }
        if (tag === "a") { node.setAttribute("rel", "noopener noreferrer"); }
      }
    };
    clean(template.content);
    return template.innerHTML;
  }

  function md(source) {
    if (!source) return "";
    if (state.markdown.has(source)) return state.markdown.get(source);
    const kept = [];
    const keep = (html) => { kept.push(html); return "\u0000" + (kept.length - 1) + "\u0000"; };
    // Code is literal: fenced blocks and spans are escaped and set aside first.
    let text = String(source).replace(/```[^\n]*\n([\s\S]*?)```/g, (_, code) => keep("<pre><code>" + esc(code) + "</code></pre>"))
      .replace(/`([^`\n]+)`/g, (_, code) => keep("<code>" + esc(code) + "</code>"));
    const inline = (line) => line
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
      .replace(/(^|[^\w])_([^_\s][^_]*)_(?!\w)/g, "$1<em>$2</em>")
      .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt, src) => `<img alt="${esc(alt)}" src="${esc(src)}">`)
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label, href) => `<a href="${esc(href)}">${label}</a>`)
      .replace(/(^|[\s(])(https?:\/\/[^\s<)]+)/g, (_, lead, url) => `${lead}<a href="${esc(url)}">${esc(url)}</a>`);
    const out = [];
    let list = null;
    let ordered = false;
    let paragraph = [];
    const flush = () => {
      if (paragraph.length) out.push("<p>" + inline(paragraph.join(" ")) + "</p>");
      paragraph = [];
      if (list) out.push((ordered ? "<ol>" : "<ul>") + list.map((item) => "<li>" + inline(item) + "</li>").join("") + (ordered ? "</ol>" : "</ul>"));
      list = null;
    };
    for (const raw of text.split("\n")) {
      const line = raw.trimEnd();
      let match;
      if (/^\u0000\d+\u0000$/.test(line.trim())) { flush(); out.push(line.trim()); }
      else if ((match = line.match(/^(#{1,6})\s+(.*)$/))) { flush(); const level = Math.min(6, match[1].length + 2); out.push(`<h${level}>` + inline(match[2]) + `</h${level}>`); }
      else if ((match = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/))) {
        const isOrdered = /\d/.test(match[1]);
        if (paragraph.length || (list && isOrdered !== ordered)) flush();
        ordered = isOrdered;
        (list = list || []).push(match[2]);
      }
      else if ((match = line.match(/^>\s?(.*)$/))) { flush(); out.push("<blockquote>" + inline(match[1]) + "</blockquote>"); }
      else if (!line.trim()) flush();
      else { if (list) flush(); paragraph.push(line.trim()); }
    }
    flush();
    const html = sanitize(out.join("").replace(/\u0000(\d+)\u0000/g, (_, index) => kept[Number(index)]));
    if (state.markdown.size > 5000) state.markdown.clear();
    state.markdown.set(source, html);
    return html;
  }

  const methodBadge = (method) => `<span class="method ${esc(method.toLowerCase())}">${esc(method)}</span>`;
  const docLink = (api, version, rest = "") => `#/apis/${seg(api)}/${seg(version)}${rest}`;

  function lifecycleBanner(lifecycle, what) {
    if (!lifecycle) return "";
    let html = "";
    if (lifecycle.deprecated !== undefined) {
      const since = lifecycle.deprecated === true ? "" : " since " + esc(lifecycle.deprecated);
      html += `<div class="banner" role="note"><strong>Deprecated</strong>: this ${what} is deprecated${since}.`;
      if (lifecycle.successor) html += ` Its successor: <code>${esc(lifecycle.successor)}</code>.`;
      if (lifecycle.docs) html += ` <a href="${esc(lifecycle.docs)}" rel="noopener noreferrer">Read more</a>.`;
      html += "</div>";
    }
    if (lifecycle.sunset) {
      html += `<div class="banner bad" role="note"><strong>Sunset ${esc(lifecycle.sunset)}</strong>: after this date the ${what} answers 410 Gone.</div>`;
    }
    return html;
  }

  // ---------- Catalog ----------

  async function catalogView() {
    const still = viewing();
    sidebar().hidden = true;
    state.catalog = state.catalog || await get("catalog");
    still();
    document.title = state.info.title;
    const cards = state.catalog.map((api) => {
      const versions = api.versions.map((v) => {
        const label = v.version || "current";
        const flags = (v.default ? " <span class=\"tag\">default</span>" : "") + (v.deprecated !== undefined ? " <span class=\"tag\">deprecated</span>" : "")
          + (v.sunset ? ` <span class="tag">sunset ${esc(v.sunset)}</span>` : "");
        return `<li><a href="${docLink(api.name, v.version)}">${esc(label)}</a> <span class="muted">${esc(v.operations)} operations · <code>${esc(v.base_path)}</code></span>${flags}</li>`;
      }).join("");
      const tags = api.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("");
      const summary = (api.description || "").split(/\n\s*\n/)[0];
      return `<article class="card" aria-labelledby="api-${esc(api.name)}"><h2 id="api-${esc(api.name)}">${esc(api.title)}</h2>
        <div class="muted mono">${esc(api.name)}</div>${md(summary)}<div>${tags}</div><ul>${versions}</ul></article>`;
    }).join("");
    main().innerHTML = `<h1>${esc(state.info.title)}</h1><p class="muted">${state.catalog.length} APIs. Press <kbd>/</kbd> to search.</p>
      <section class="cards" aria-label="APIs">${cards || "<p>No APIs are published yet.</p>"}</section>`;
  }

  // ---------- Docs ----------

  async function loadIndex(api, version) {
    const key = api + "@" + version;
    if (!state.indexes.has(key)) state.indexes.set(key, await get(`apis/${seg(api)}/${seg(version)}`));
    return state.indexes.get(key);
  }

  function groupByTag(index) {
    const groups = new Map(index.tags.map((t) => [t.name, []]));
    for (const op of index.operations) {
      const tags = op.tags.length ? op.tags : [""];
      for (const tag of tags) { if (!groups.has(tag)) groups.set(tag, []); groups.get(tag).push(op); }
    }
    return groups;
  }

  function renderSidebar(index, current) {
    const bar = sidebar();
    const key = index.api + "@" + index.version;
    if (bar.dataset.key !== key) {
      let html = `<a href="${docLink(index.api, index.version)}"><strong>${esc(index.title)}</strong></a>`;
      for (const [tag, ops] of groupByTag(index)) {
        if (!ops.length) continue;
        html += `<h3>${esc(tag || "Other")}</h3>`;
        html += ops.map((op) => `<a href="${docLink(index.api, index.version, "/operations/" + encodeURIComponent(op.id))}" data-op="${esc(op.id)}">${methodBadge(op.method)}<span>${esc(op.summary || op.path)}</span></a>`).join("");
      }
      if (index.schemas.length) {
        html += "<h3>Schemas</h3>" + index.schemas.map((name) => `<a href="${docLink(index.api, index.version, "/schemas/" + encodeURIComponent(name))}">${esc(name)}</a>`).join("");
      }
      bar.innerHTML = html;
      bar.dataset.key = key;
    }
    for (const link of bar.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
    if (current) {
      const link = bar.querySelector(`a[data-op="${CSS.escape(current)}"]`);
      if (link) { link.setAttribute("aria-current", "page"); link.scrollIntoView({ block: "nearest" }); }
    }
    bar.hidden = false;
  }

  async function indexView(api, version) {
    const still = viewing();
    const index = await loadIndex(api, version);
    still();
    renderSidebar(index, null);
    document.title = `${index.title} · ${state.info.title}`;
    let html = `<h1>${esc(index.title)} <span class="muted">${esc(index.version)}</span></h1>`;
    html += lifecycleBanner(index.lifecycle, "version");
    html += `<p class="muted">Base path <code>${esc(index.base_path)}</code>${versionNote(index)}</p>`;
    html += md(index.description);
    for (const [tag, ops] of groupByTag(index)) {
      if (!ops.length) continue;
      const description = index.tags.find((t) => t.name === tag)?.description;
      html += `<section aria-label="${esc(tag || "Other")}"><h2>${esc(tag || "Other")}</h2>${md(description)}<table><tbody>`;
      html += ops.map((op) => `<tr><td>${methodBadge(op.method)}</td><td><a href="${docLink(api, version, "/operations/" + encodeURIComponent(op.id))}"><code>${esc(op.path)}</code></a>${op.deprecated ? ' <span class="tag">deprecated</span>' : ""}</td><td>${esc(op.summary)}</td></tr>`).join("");
      html += "</tbody></table></section>";
    }
    if (index.schemas.length) {
      html += `<h2>Schemas</h2><p>${index.schemas.map((name) => `<a class="tag" href="${docLink(api, version, "/schemas/" + encodeURIComponent(name))}">${esc(name)}</a>`).join(" ")}</p>`;
    }
    main().innerHTML = html;
    markRendered("index");
  }

  function versionNote(index) {
    const v = index.versioning;
    if (!v || !v.parameter) return "";
    const where = v.by === "query" ? "query parameter" : "header";
    return ` · version chosen by ${where} <code>${esc(v.parameter)}: ${esc(v.value)}</code>${v.default ? " (default version)" : ""}`;
  }

  // Schemas are sent once, by name: a reference below the top of an operation's schema is a
  // closed <details> that fetches and renders its schema when opened, and long property lists
  // show their first `shownProperties` until asked for the rest. So a page of any size paints
  // only what is on screen.
  const shownProperties = 50;
  const pending = new Map();
  let pendingSerial = 0;

  function refBlock(node, ctx) {
    const link = `<a href="${docLink(ctx.api, ctx.version, "/schemas/" + encodeURIComponent(node.ref))}">${esc(node.ref)}</a>`;
    const note = node.circular ? ' <span class="muted">(recursive)</span>' : "";
    const description = node.description ? `<div class="muted">${md(node.description)}</div>` : "";
    return `<details class="ref" data-ref="${esc(node.ref)}" data-api="${esc(ctx.api)}" data-version="${esc(ctx.version)}"><summary><span class="type">${esc(node.ref)}</span>${note} <span class="muted">· schema</span> ${link}</summary><div class="ref-body"></div></details>${description}`;
  }

  function propertyItems(properties, ctx, depth) {
    const item = (p) => `<li><span class="name">${esc(p.name)}</span>${p.required ? '<span class="req">required</span>' : ""} ${schemaTree(p.schema, ctx, depth + 1)}</li>`;
    let html = properties.slice(0, shownProperties).map(item).join("");
    if (properties.length > shownProperties) {
      const key = String(++pendingSerial);
      pending.set(key, () => properties.slice(shownProperties).map(item).join(""));
      html += `<li><button type="button" class="more" data-more="${key}">Show ${properties.length - shownProperties} more properties</button></li>`;
    }
    return html;
  }

  async function expandRef(details) {
    if (details.dataset.loaded) return;
    details.dataset.loaded = "1";
    const body = details.querySelector(".ref-body");
    const { ref, api, version } = details.dataset;
    const key = `${api}@${version}/${ref}`;
    try {
      if (!state.schemas.has(key)) state.schemas.set(key, await get(`apis/${seg(api)}/${seg(version)}/schemas/${encodeURIComponent(ref)}`));
      body.innerHTML = schemaTree(state.schemas.get(key).schema, { api, version });
    } catch (error) {
      body.innerHTML = `<p class="error">${esc(error.message)}</p>`;
      delete details.dataset.loaded;
    }
  }

  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details instanceof HTMLDetailsElement && details.classList.contains("ref") && details.open) expandRef(details);
  }, true);
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button.more");
    if (!button || !pending.has(button.dataset.more)) return;
    const render = pending.get(button.dataset.more);
    pending.delete(button.dataset.more);
    button.parentElement.outerHTML = render();
  });

  function schemaTree(node, ctx, depth = 0) {
    if (!node || typeof node !== "object") return "";
    const link = node.ref ? ` <a href="${docLink(ctx.api, ctx.version, "/schemas/" + encodeURIComponent(node.ref))}">${esc(node.ref)}</a>` : "";
    if (node.ref && (node.circular || node.collapsed || !node.type && !node.properties && !node.items && !node.one_of && !node.any_of && !node.enum)) return refBlock(node, ctx);
    if (node.unresolved) return `<span class="muted">see</span> ${esc(node.unresolved)}`;
    let html = `<span class="type">${esc(typeLabel(node))}</span>`;
    if (node.ref) html += `<span class="muted"> ·</span>${link}`;
    if (node.nullable) html += ' <span class="muted">nullable</span>';
    if (node.read_only) html += ' <span class="tag">read-only</span>';
    if (node.write_only) html += ' <span class="tag">write-only</span>';
    if (node.deprecated) html += ' <span class="tag">deprecated</span>';
    if (node.merged_from) html += ` <span class="variants">all of ${node.merged_from.map((n) => esc(n)).join(", ")}</span>`;
    if (node.description) html += `<div class="muted">${md(node.description)}</div>`;
    const facts = [];
    if (node.enum) facts.push("one of " + node.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(", "));
    if (node.const !== undefined) facts.push(`always <code>${esc(JSON.stringify(node.const))}</code>`);
    if (node.default !== undefined) facts.push(`default <code>${esc(JSON.stringify(node.default))}</code>`);
    if (node.constraints) facts.push(esc(node.constraints));
    if (node.example !== undefined) facts.push(`example <code>${esc(JSON.stringify(node.example))}</code>`);
    if (node.discriminator) facts.push(`discriminated by <code>${esc(node.discriminator)}</code>`);
    if (facts.length) html += `<div class="variants">${facts.join(" · ")}</div>`;
    if (node.properties && node.properties.length) {
      html += '<ul class="schema">' + propertyItems(node.properties, ctx, depth) + "</ul>";
    }
    if (node.items) html += `<ul class="schema"><li><span class="name">items</span> ${schemaTree(node.items, ctx, depth + 1)}</li></ul>`;
    if (node.additional_properties && typeof node.additional_properties === "object") {
      html += `<ul class="schema"><li><span class="name">{any key}</span> ${schemaTree(node.additional_properties, ctx, depth + 1)}</li></ul>`;
    }
    for (const [key, label] of [["one_of", "exactly one of"], ["any_of", "any of"]]) {
      if (node[key]) html += `<div class="variants">${label}:</div><ul class="schema">` + node[key].map((v, i) => `<li><span class="name">option ${i + 1}</span> ${schemaTree(v, ctx, depth + 1)}</li>`).join("") + "</ul>";
    }
    if (node.not) html += `<div class="variants">not:</div><ul class="schema"><li>${schemaTree(node.not, ctx, depth + 1)}</li></ul>`;
    return html;
  }

  function typeLabel(node) {
    if (node.type === "array" && node.items) return "array of " + (node.items.ref || node.items.type || "any");
    return (node.type || (node.one_of ? "one of" : node.any_of ? "any of" : "any")) + (node.format ? ` (${node.format})` : "");
  }

  // A value shaped like the schema, for request bodies without an example.
  function sample(node, depth = 0) {
    if (!node || depth > 6) return null;
    if (node.example !== undefined) return node.example;
    if (node.default !== undefined) return node.default;
    if (node.enum) return node.enum[0];
    if (node.one_of || node.any_of) return sample((node.one_of || node.any_of)[0], depth + 1);
    const type = (node.type || "").split(" | ")[0];
    if (type === "object" || node.properties) {
      const out = {};
      for (const p of node.properties || []) if (!p.schema.read_only) out[p.name] = sample(p.schema, depth + 1);
      return out;
    }
    if (type === "array") return node.items ? [sample(node.items, depth + 1)] : [];
    if (type === "integer" || type === "number") return 0;
    if (type === "boolean") return false;
    if (type === "string") return ({ "date-time": "2026-01-01T00:00:00Z", date: "2026-01-01", email: "user@example.com", uuid: "3fa85f64-5717-4562-b3fc-2c963f66afa6" })[node.format] || "string";
    return null;
  }

  async function operationView(api, version, id) {
    const still = viewing();
    const index = await loadIndex(api, version);
    still();
    renderSidebar(index, id);
    const key = `${api}@${version}/${id}`;
    if (!state.ops.has(key)) state.ops.set(key, await get(`apis/${seg(api)}/${seg(version)}/operations/${encodeURIComponent(id)}`));
    still();
    const op = state.ops.get(key);
    const ctx = { api, version, index, op };
    document.title = `${op.summary || op.path} · ${index.title}`;
    let html = `<p class="muted"><a href="${docLink(api, version)}">${esc(index.title)} ${esc(index.version)}</a></p>`;
    html += `<h1>${esc(op.summary || op.id)}</h1><p>${methodBadge(op.method)} <code>${esc(op.path)}</code> <span class="muted mono">${esc(op.id)}</span></p>`;
    html += lifecycleBanner(index.lifecycle, "version") + lifecycleBanner(op.lifecycle, "operation");
    html += md(op.description);
    html += authSection(op) + limitsSection(op);
    if (op.parameters.length) {
      html += "<h2>Parameters</h2><table><thead><tr><th>Name</th><th>In</th><th>Schema</th><th>Description</th></tr></thead><tbody>";
      html += op.parameters.map((p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? '<span class="req">required</span>' : ""}${p.deprecated ? ' <span class="tag">deprecated</span>' : ""}</td><td>${esc(p.in)}</td><td>${schemaTree(p.schema, ctx)}</td><td>${md(p.description)}${p.example !== undefined ? `<div class="variants">example <code>${esc(JSON.stringify(p.example))}</code></div>` : ""}</td></tr>`).join("");
      html += "</tbody></table>";
    }
    if (op.request_body) {
      html += `<h2>Request body${op.request_body.required ? ' <span class="req">required</span>' : ""}</h2>${md(op.request_body.description)}`;
      html += op.request_body.content.map((c) => mediaBlock(c, ctx)).join("");
    }
    html += "<h2>Responses</h2>";
    html += op.responses.map((r) => `<section class="box" aria-label="Response ${esc(r.status)}"><strong class="status-${esc(String(r.status)[0])}">${esc(r.status)}</strong> ${md(r.description)}
      ${r.headers.length ? "<table><tbody>" + r.headers.map((h) => `<tr><td><code>${esc(h.name)}</code></td><td>${schemaTree(h.schema, ctx)}</td><td>${md(h.description)}</td></tr>`).join("") + "</tbody></table>" : ""}
      ${r.content.map((c) => mediaBlock(c, ctx)).join("")}</section>`).join("");
    if (op.truncated) html += '<p class="muted">Some schemas are shown by name only; follow the links for the rest.</p>';
    html += tryItForm(ctx);
    main().innerHTML = html;
    wireTryIt(ctx);
    markRendered("operation");
    if (state.session && state.session.signed_in && !state.limits) {
      get("me/limits").then((limits) => { state.limits = limits; const slot = $("#plan-limits"); if (slot) slot.innerHTML = planLimits(); }).catch(() => {});
    }
  }

  function mediaBlock(content, ctx) {
    const example = content.example !== undefined ? content.example : sample(content.schema);
    return `<div><div class="muted mono">${esc(content.media_type)}</div>${schemaTree(content.schema, ctx)}
      ${example !== null && example !== undefined ? `<details><summary>Example</summary><pre><code>${esc(JSON.stringify(example, null, 2))}</code></pre></details>` : ""}</div>`;
  }

  function authSection(op) {
    const auth = op.auth;
    if (!auth || !auth.alternatives.length) return '<h2>Authentication</h2><p>None: anyone may call this operation.</p>';
    const alternatives = auth.alternatives.map((steps) => steps.map((s) => {
      const where = s.type === "api-key" ? `an API key in the <code>${esc(s.header)}</code> header${s.query ? ` or the <code>${esc(s.query)}</code> query parameter` : ""}`
        : s.scheme ? `<code>Authorization: ${esc(s.scheme)} …</code> (${esc(s.type)})` : esc(s.type || s.method);
      return where + (s.scopes.length ? `, scopes ${s.scopes.map((x) => `<code>${esc(x)}</code>`).join(" ")}` : "");
    }).join(" and ")).map((text) => `<li>${text}</li>`).join("");
    return `<h2>Authentication</h2><p>${auth.required ? "Required" : "Optional"}; any one of:</p><ul>${alternatives}</ul>`
      + (auth.scopes.length ? `<p>Scopes needed: ${auth.scopes.map((x) => `<code>${esc(x)}</code>`).join(" ")}</p>` : "");
  }

  function limitsSection(op) {
    const own = op.limits.map((l) => `<li>${esc([l.rate, l.quota].filter(Boolean).join(" and "))} per ${esc(l.by)}${l.name ? ` (<code>${esc(l.name)}</code>)` : ""}</li>`).join("");
    return `<h2>Rate limits</h2>${own ? `<ul>${own}</ul>` : '<p class="muted">No limits on this operation beyond your plan.</p>'}<div id="plan-limits">${planLimits()}</div>`;
  }

  function planLimits() {
    if (!state.session || !state.session.signed_in) return '<p class="muted"><a href="#/signin">Sign in</a> to see your plan\'s limits.</p>';
    if (!state.limits) return "";
    const rows = state.limits.limits.map((l) => `<tr><td><code>${esc(l.policy)}</code></td><td>${esc(l.quota)} per ${esc(l.window_s)} s</td><td>${esc(l.remaining)}</td><td>${esc(l.reset_s)} s</td></tr>`).join("");
    return `<p>Your plan: <strong>${esc(state.limits.plan || "none")}</strong></p>` + (rows ? `<table><thead><tr><th>Limit</th><th>Allows</th><th>Left</th><th>Resets in</th></tr></thead><tbody>${rows}</tbody></table>` : "");
  }

  async function schemaView(api, version, name) {
    const still = viewing();
    const index = await loadIndex(api, version);
    still();
    renderSidebar(index, null);
    const page = await get(`apis/${seg(api)}/${seg(version)}/schemas/${encodeURIComponent(name)}`);
    still();
    document.title = `${name} · ${index.title}`;
    main().innerHTML = `<p class="muted"><a href="${docLink(api, version)}">${esc(index.title)} ${esc(index.version)}</a></p>
      <h1>${esc(page.name)} <span class="muted">schema</span></h1>${schemaTree(page.schema, { api, version })}
      <h2>Example</h2><pre><code>${esc(JSON.stringify(sample(page.schema), null, 2))}</code></pre>`;
    markRendered("schema");
  }

  // ---------- Try it and code samples ----------

  function credentialMethod(ctx) {
    const methods = state.info.auth || [];
    const named = (ctx.op.auth.alternatives || []).flat().map((s) => s.method);
    return methods.find((m) => named.includes(m.name) && m.type === "api-key") || methods.find((m) => named.includes(m.name))
      || (named.length ? null : methods.find((m) => m.type === "api-key")) || null;
  }

  function tryItForm(ctx) {
    const { op } = ctx;
    const method = credentialMethod(ctx);
    const field = (p, i) => {
      const value = p.example !== undefined ? p.example : (p.schema && p.schema.default !== undefined ? p.schema.default : "");
      return `<label for="try-p${i}">${esc(p.name)} <span class="muted">(${esc(p.in)}${p.required ? ", required" : ""})</span></label>
        <input id="try-p${i}" data-param="${i}" value="${esc(typeof value === "string" ? value : JSON.stringify(value))}">`;
    };
    const body = op.request_body && op.request_body.content[0];
    const bodyText = body ? JSON.stringify(body.example !== undefined ? body.example : sample(body.schema), null, 2) : "";
    const credential = method ? `<label for="try-key">${method.type === "api-key" ? "Your API key" : "Authorization"} <span class="muted">(sent as ${esc(method.header)})</span></label>
      <input id="try-key" autocomplete="off" spellcheck="false" value="${esc(method.type === "api-key" ? sessionStorage.getItem("portico-key") || "" : "")}" placeholder="${method.type === "api-key" ? "ptk_…" : esc(method.scheme || "") + " …"}">` : "";
    return `<section aria-labelledby="try-title"><h2 id="try-title">Try it</h2>
      <form class="box" id="try-form">${credential}${op.parameters.map(field).join("")}
      ${body ? `<label for="try-body">Body <span class="muted">(${esc(body.media_type)})</span></label><textarea id="try-body">${esc(bodyText)}</textarea>` : ""}
      <p class="row"><button type="submit" id="try-send">Send request</button><span class="muted" id="try-url"></span></p></form>
      <div id="try-result" aria-live="polite"></div>
      <h2>Code</h2><div class="tabs" role="tablist" aria-label="Code samples">${["curl", "JavaScript", "Python", "Swift"].map((l, i) => `<button type="button" role="tab" id="tab-${i}" aria-selected="${i === 0}" aria-controls="sample" data-lang="${l}">${l}</button>`).join("")}</div>
      <pre id="sample" role="tabpanel" tabindex="0"><code></code></pre></section>`;
  }

  function buildRequest(ctx) {
    const { op, index } = ctx;
    let path = op.path;
    const query = new URLSearchParams();
    const headers = {};
    op.parameters.forEach((p, i) => {
      const input = document.querySelector(`[data-param="${i}"]`);
      const value = input ? input.value : "";
      if (value === "") return;
      if (p.in === "path") path = path.replace("{" + p.name + "}", encodeURIComponent(value));
      else if (p.in === "query") query.append(p.name, value);
      else if (p.in === "header") headers[p.name] = value;
    });
    const v = index.versioning;
    if (v && v.parameter && !v.default) {
      if (v.by === "query") query.set(v.parameter, v.value); else if (v.by === "media-type") headers["Accept"] = v.value; else headers[v.parameter] = v.value;
    }
    const method = credentialMethod(ctx);
    const key = $("#try-key") ? $("#try-key").value.trim() : "";
    if (method && key) headers[method.header] = method.type === "api-key" ? key : (key.includes(" ") ? key : `${method.scheme} ${key}`);
    const bodyField = $("#try-body");
    let body;
    if (bodyField) { body = bodyField.value; headers["Content-Type"] = op.request_body.content[0].media_type; }
    const search = query.toString();
    return { method: op.method, url: path + (search ? "?" + search : ""), headers, body };
  }

  const quote = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
  function samples(req) {
    const absolute = location.origin + req.url;
    const headerLines = Object.entries(req.headers);
    const curl = ["curl -i -X " + req.method + " " + quote(absolute)].concat(headerLines.map(([k, v]) => "  -H " + quote(k + ": " + v)))
      .concat(req.body !== undefined ? ["  --data " + quote(req.body)] : []).join(" \\\n");
    const js = `const response = await fetch(${JSON.stringify(absolute)}, {\n  method: ${JSON.stringify(req.method)},\n  headers: ${JSON.stringify(req.headers, null, 2).replace(/\n/g, "\n  ")},${req.body !== undefined ? "\n  body: " + JSON.stringify(req.body) + "," : ""}\n});\nconsole.log(response.status, await response.text());`;
    const py = `import requests\n\nresponse = requests.request(\n    ${JSON.stringify(req.method)},\n    ${JSON.stringify(absolute)},\n    headers=${JSON.stringify(req.headers)},${req.body !== undefined ? "\n    data=" + JSON.stringify(req.body) + "," : ""}\n)\nprint(response.status_code, response.headers.get("RateLimit"), response.text)`;
    const swift = `import Foundation\n\nvar request = URLRequest(url: URL(string: ${JSON.stringify(absolute)})!)\nrequest.httpMethod = ${JSON.stringify(req.method)}\n${headerLines.map(([k, v]) => `request.setValue(${JSON.stringify(v)}, forHTTPHeaderField: ${JSON.stringify(k)})`).join("\n")}${req.body !== undefined ? "\nrequest.httpBody = Data(" + JSON.stringify(req.body) + ".utf8)" : ""}\nlet (data, response) = try await URLSession.shared.data(for: request)\nprint((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))`;
    return { curl, JavaScript: js, Python: py, Swift: swift };
  }

  function wireTryIt(ctx) {
    const form = $("#try-form");
    if (!form) return;
    let lang = "curl";
    const refresh = () => {
      const req = buildRequest(ctx);
      $("#try-url").textContent = req.method + " " + req.url;
      $("#sample code").textContent = samples(req)[lang];
    };
    form.addEventListener("input", refresh);
    for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
      tab.addEventListener("click", () => {
        lang = tab.dataset.lang;
        for (const other of document.querySelectorAll(".tabs [role=tab]")) other.setAttribute("aria-selected", String(other === tab));
        refresh();
      });
    }
    $(".tabs").addEventListener("keydown", (event) => {
      const tabs = [...document.querySelectorAll(".tabs [role=tab]")];
      const at = tabs.indexOf(document.activeElement);
      if (at < 0 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
      const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      next.focus(); next.click();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const req = buildRequest(ctx);
      const key = $("#try-key");
      if (key && key.value.trim()) sessionStorage.setItem("portico-key", key.value.trim());
      const out = $("#try-result");
      out.innerHTML = '<p class="muted">Sending…</p>';
      const started = performance.now();
      try {
        const response = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, credentials: "omit", redirect: "manual" });
        const text = await response.text();
        const elapsed = performance.now() - started;
        let pretty = text;
        try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON */ }
        const important = /^(ratelimit|ratelimit-policy|cache-status|x-request-id|retry-after|server-timing|deprecation|sunset)$/i;
        const rows = [...response.headers.entries()].map(([k, v]) => `<tr${important.test(k) ? ' class="hl"' : ""}><td><code>${esc(k)}</code></td><td><code>${esc(v)}</code></td></tr>`).join("");
        out.innerHTML = `<div class="box"><p><strong id="try-status" class="status-${String(response.status)[0]}">${response.status} ${esc(response.statusText)}</strong>
          <span class="muted">in <span id="try-time">${elapsed.toFixed(1)}</span> ms</span></p>
          <table id="try-headers" aria-label="Response headers"><tbody>${rows}</tbody></table><pre><code id="try-body-out">${esc(pretty)}</code></pre></div>`;
      } catch (error) {
        out.innerHTML = `<p class="error">The request failed: ${esc(error.message)}</p>`;
      }
    });
    refresh();
  }

  // ---------- Search ----------

  function wireSearch() {
    const input = $("#search");
    const box = $("#search-results");
    let timer = null;
    let selected = -1;
    const close = () => { box.hidden = true; selected = -1; };
    const select = (index) => {
      const links = [...box.querySelectorAll("a")];
      if (!links.length) return;
      selected = (index + links.length) % links.length;
      links.forEach((link, i) => link.setAttribute("aria-selected", String(i === selected)));
      links[selected].scrollIntoView({ block: "nearest" });
    };
    const run = async () => {
      const q = input.value.trim();
      if (!q) { close(); return; }
      const hits = await get("search?q=" + encodeURIComponent(q));
      box.innerHTML = hits.length ? hits.map((h) => {
        const rest = h.kind === "schema" ? "/schemas/" + encodeURIComponent(h.target) : "/operations/" + encodeURIComponent(h.target);
        return `<a role="option" href="${docLink(h.api, h.version, rest)}"><span class="tag">${esc(h.kind)}</span> ${esc(h.title)}<small>${esc(h.api)} ${esc(h.version)} · ${esc(h.detail)}</small></a>`;
      }).join("") : '<p class="muted pad">Nothing found.</p>';
      box.hidden = false;
      selected = -1;
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 120); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
      else if (event.key === "Escape") { close(); input.blur(); }
      else if (event.key === "Enter") {
        event.preventDefault();
        const links = box.querySelectorAll("a");
        const target = links[Math.max(0, selected)];
        if (target) { location.hash = target.getAttribute("href"); close(); }
      }
    });
    box.addEventListener("click", (event) => { if (event.target.closest("a")) close(); });
    $("#search-form").addEventListener("submit", (event) => event.preventDefault());
    document.addEventListener("keydown", (event) => {
      const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
      if (event.key === "/" && !typing) { event.preventDefault(); input.focus(); input.select(); }
    });
    document.addEventListener("click", (event) => { if (!event.target.closest(".search")) close(); });
  }

  // ---------- Routing ----------

  // Render times for the browser tests: the first paint after navigation start, and the last
  // view's time from the hash change to its paint (the server's answer included).
  function markRendered(view) {
    document.body.dataset.view = view;
    const now = performance.now();
    if (window.porticoFirstRender === undefined) window.porticoFirstRender = now;
    window.porticoLastRender = { view, hash: location.hash, ms: now - (window.porticoRenderStart ?? 0) };
  }

  const views = {};
  function route(pattern, view) { views[pattern] = view; }
  route("", catalogView);

  async function render() {
    window.porticoRenderStart = performance.now();
    const still = viewing();
    const hash = location.hash.replace(/^#\/?/, "");
    const parts = hash.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    const version = (v) => (v === "-" ? "" : v);
    try {
      if (parts[0] === "apis" && parts.length === 3) await indexView(parts[1], version(parts[2]));
      else if (parts[0] === "apis" && parts[3] === "operations") await operationView(parts[1], version(parts[2]), parts[4]);
      else if (parts[0] === "apis" && parts[3] === "schemas") await schemaView(parts[1], version(parts[2]), parts[4]);
      else if (views[parts[0] || ""]) await views[parts[0] || ""](parts.slice(1));
      else await catalogView();
      main().focus({ preventScroll: true });
    } catch (error) {
      if (error instanceof Stale) return;
      try { still(); } catch { return; }  // a failure of a page the reader has left is not shown on the next
      sidebar().hidden = true;
      main().innerHTML = `<h1>Something went wrong</h1><p class="error">${esc(error.message)}</p>${error.body && error.body.request_id ? `<p class="muted">Request id <code>${esc(error.body.request_id)}</code></p>` : ""}`;
    }
  }

  async function refreshSession() {
    state.session = await get("session").catch(() => null);
    state.limits = null;
    const signedIn = !!(state.session && state.session.signed_in);
    for (const el of document.querySelectorAll("[data-signed-in]")) el.hidden = !signedIn;
    for (const el of document.querySelectorAll("[data-signed-out]")) el.hidden = signedIn;
    for (const el of document.querySelectorAll("[data-signup]")) el.hidden = signedIn || state.info.signup === "closed";
  }

  async function start() {
    state.info = await get("portal");
    $("#brand").textContent = state.info.title;
    $("#footer-title").textContent = state.info.title;
    document.title = state.info.title;
    if (state.info.accounts) await refreshSession();
    else for (const el of document.querySelectorAll("[data-signed-in], [data-signed-out]")) el.hidden = true;
    wireSearch();
    window.addEventListener("hashchange", render);
    await render();
  }

  document.addEventListener("DOMContentLoaded", () => { start().catch((error) => { main().innerHTML = `<p class="error">${esc(error.message)}</p>`; }); });

  return { state, esc, md, get, post, route, render, refreshSession, Problem, Stale, viewing, main, sidebar, $ };
})();
