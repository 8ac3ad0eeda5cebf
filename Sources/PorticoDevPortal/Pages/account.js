// Portico developer portal: sign-up and sign-in, apps and keys, and the usage dashboard.
// Charts are SVG drawn here; all text goes through esc().
"use strict";

(() => {
  const { state, esc, get, post, route, refreshSession, Stale, viewing, main, sidebar, $ } = Portal;

  function formView(kind) {
    sidebar().hidden = true;
    const signup = kind === "signup";
    if (signup && state.info.signup === "closed") {
      main().innerHTML = "<h1>Sign up</h1><p>Sign-up is closed on this portal. Ask its operator for an account.</p>";
      return;
    }
    main().innerHTML = `<h1>${signup ? "Create your account" : "Sign in"}</h1>
      <form class="box narrow" id="account-form" novalidate>
        <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required>
        <label for="password">Password${signup ? " (at least 8 characters)" : ""}</label>
        <input id="password" name="password" type="password" autocomplete="${signup ? "new-password" : "current-password"}" minlength="${signup ? 8 : 1}" required>
        <p class="row"><button type="submit" id="account-submit">${signup ? "Sign up" : "Sign in"}</button>
        <a href="#/${signup ? "signin" : "signup"}">${signup ? "I have an account" : "Create an account"}</a></p>
        <p id="account-error" class="error" role="alert"></p>
      </form>${signup && state.info.signup === "approval" ? '<p class="muted">New apps on this portal wait for an operator\'s approval before they get keys.</p>' : ""}`;
    $("#account-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const credentials = { email: $("#email").value, password: $("#password").value };
        // Sign-up answers the same for a new and a known email (202, no session), so that it
        // tells nobody who has an account; signing in with the same credentials starts the session.
        await post(kind, credentials);
        if (signup) await post("signin", credentials);
        await refreshSession();
        location.hash = signup ? "#/apps" : "#/dashboard";
      } catch (error) {
        $("#account-error").textContent = error.message;
        await refreshSession();
      }
    });
    $("#email").focus();
  }

  function requireSession() {
    if (state.session && state.session.signed_in) return true;
    location.hash = "#/signin";
    return false;
  }

  // ---------- Apps and keys ----------

  async function appsView(notice = "") {
    if (!requireSession()) return;
    const still = viewing();
    sidebar().hidden = true;
    const apps = await get("apps");
    still();
    const list = apps.map((app) => {
      const keys = app.keys.map((k) => `<tr><td><code>${esc(k.prefix)}…</code></td><td>${esc(k.status)}</td><td>${esc(k.created)}</td><td>${esc(k.last_used || "never")}</td>
        <td>${k.status === "active" ? `<button type="button" class="secondary" data-rotate="${app.id}/${k.id}">Rotate</button> <button type="button" class="secondary" data-revoke="${app.id}/${k.id}">Revoke</button>` : ""}</td></tr>`).join("");
      return `<section class="box" aria-label="App ${esc(app.name)}"><h2 class="flush">${esc(app.name)} <span class="tag" data-app-status>${esc(app.status)}</span></h2>
        <p class="muted">${esc(app.description)}</p>
        ${app.status === "pending" ? "<p>This app waits for an operator's approval; keys can be issued once it is approved.</p>" : ""}
        ${keys ? `<table><thead><tr><th>Key</th><th>Status</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>${keys}</tbody></table>` : '<p class="muted">No keys yet.</p>'}
        ${app.status === "active" ? `<button type="button" data-new-key="${app.id}">Create a key</button>` : ""}</section>`;
    }).join("");
    main().innerHTML = `<h1>Apps &amp; keys</h1><div id="notice" aria-live="polite">${notice}</div>${list || "<p>You have no apps yet.</p>"}
      <form class="box narrow" id="app-form"><h2 class="flush">New app</h2>
        <label for="app-name">Name</label><input id="app-name" required maxlength="80">
        <label for="app-description">What it does</label><input id="app-description" maxlength="1000">
        <p class="row"><button type="submit" id="app-create">Create app</button></p><p id="app-error" class="error" role="alert"></p></form>`;
    $("#app-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await post("apps", { name: $("#app-name").value, description: $("#app-description").value });
        await appsView();
      } catch (error) { if (!(error instanceof Stale)) $("#app-error").textContent = error.message; }
    });
    main().addEventListener("click", onKeyAction);
  }

  async function onKeyAction(event) {
    const button = event.target.closest("button[data-new-key], button[data-rotate], button[data-revoke]");
    if (!button) return;
    main().removeEventListener("click", onKeyAction);
    try {
      if (button.dataset.newKey) {
        const key = await post(`apps/${button.dataset.newKey}/keys`);
        await showKey(key, "Your new key");
      } else if (button.dataset.rotate) {
        const [app, id] = button.dataset.rotate.split("/");
        const key = await post(`apps/${app}/keys/${id}/rotate`, { grace: "1h" });
        await showKey(key, "The replacement key (the old one keeps working for an hour)");
      } else {
        const [app, id] = button.dataset.revoke.split("/");
        if (!confirm("Revoke this key? Requests with it are refused at once.")) { main().addEventListener("click", onKeyAction); return; }
        await post(`apps/${app}/keys/${id}/revoke`);
        await appsView("<p>The key is revoked.</p>");
      }
    } catch (error) {
      if (!(error instanceof Stale)) await appsView(`<p class="error">${esc(error.message)}</p>`).catch(() => {});
    }
  }

  async function showKey(key, title) {
    sessionStorage.setItem("portico-key", key.key);
    await appsView(`<div class="box" role="status"><strong>${esc(title)}</strong>: copy it now, it is shown only this once.
      <p class="secret" id="new-key">${esc(key.key)}</p><p class="muted">The docs' try-it forms use it in this tab.</p></div>`);
  }

  // ---------- Usage dashboard ----------

  async function dashboardView() {
    if (!requireSession()) return;
    const still = viewing();
    sidebar().hidden = true;
    const range = sessionStorage.getItem("portico-range") || "24h";
    const bucket = { "1h": "1m", "24h": "1h", "7d": "1d" }[range] || "1h";
    main().innerHTML = `<h1>Your usage</h1><p class="row"><label for="range" class="flush">Period</label>
      <select id="range" class="auto">${["1h", "24h", "7d"].map((r) => `<option${r === range ? " selected" : ""}>${r}</option>`).join("")}</select>
      <span class="muted">as ${esc(state.session.consumer)}</span></p><div id="dash"><p class="muted">Loading…</p></div>`;
    $("#range").addEventListener("change", () => {
      sessionStorage.setItem("portico-range", $("#range").value);
      dashboardView().catch((error) => { if (!(error instanceof Stale)) throw error; });
    });
    const [series, routes, statuses, limits, calls] = await Promise.all([
      get(`me/usage?since=${range}&bucket=${bucket}`), get(`me/usage/top?by=route&since=${range}&limit=8`),
      get(`me/usage/top?by=status&since=${range}`), get("me/limits"), get("me/calls?limit=20"),
    ]);
    still();
    const points = series.points;
    const total = points.reduce((sum, p) => sum + p.count, 0);
    const errors = points.reduce((sum, p) => sum + p.errors, 0);
    const kpis = [["Requests", total], ["Errors", errors], ["p50", ms(latest(points, "p50_ms"))], ["p95", ms(latest(points, "p95_ms"))], ["p99", ms(latest(points, "p99_ms"))]];
    const quotas = limits.limits.map((l) => {
      const used = l.quota - l.remaining;
      return `<div class="kpi"><span class="muted">${esc(l.policy)}</span><b>${esc(used)} / ${esc(l.quota)}</b><span class="muted">${esc(l.remaining)} left · resets in ${esc(l.reset_s)} s</span>
        ${bar(used, l.quota)}</div>`;
    }).join("");
    $("#dash").innerHTML = `<section aria-label="Summary" class="kpis">${kpis.map(([k, v]) => `<div class="kpi"><span class="muted">${k}</span><b>${esc(v)}</b></div>`).join("")}</section>
      <h2>Quota</h2><p>Plan <strong>${esc(limits.plan || "none")}</strong></p><div class="kpis" id="quota">${quotas || '<p class="muted">No limits apply to you.</p>'}</div>
      <div class="grid2"><section aria-labelledby="c1"><h2 id="c1">Requests over time</h2>${lineChart(points, [["count", "requests", "c-accent"], ["errors", "errors", "c-bad"]], "Requests per bucket")}</section>
      <section aria-labelledby="c2"><h2 id="c2">Latency</h2>${lineChart(points, [["p50_ms", "p50", "c-ok"], ["p95_ms", "p95", "c-warn"], ["p99_ms", "p99", "c-bad"]], "Latency in milliseconds")}</section>
      <section aria-labelledby="c3"><h2 id="c3">By route</h2>${barChart(routes.rows.map((r) => [r.key, r.count]), "Requests by route")}</section>
      <section aria-labelledby="c4"><h2 id="c4">By status class</h2>${barChart(statuses.rows.map((r) => [r.key, r.count]), "Requests by status class")}</section></div>
      <h2>Recent calls</h2>${callsTable(calls.calls)}`;
  }

  const ms = (value) => (value === null || value === undefined ? "–" : value.toFixed(value < 10 ? 2 : 0) + " ms");
  function latest(points, key) {
    for (let i = points.length - 1; i >= 0; i--) if (points[i][key] !== null && points[i].count > 0) return points[i][key];
    return null;
  }

  function bar(used, quota) {
    const share = quota > 0 ? Math.min(1, used / quota) : 0;
    return `<svg class="chart" viewBox="0 0 100 8" role="img" aria-label="${Math.round(share * 100)}% used" preserveAspectRatio="none">
      <rect class="track" x="0" y="0" width="100" height="8"/><rect class="fill ${share > 0.9 ? "c-bad" : "c-accent"}" x="0" y="0" width="${(share * 100).toFixed(1)}" height="8"/></svg>`;
  }

  function lineChart(points, series, label) {
    const width = 560, height = 220, left = 44, bottom = 24, top = 10, right = 10;
    if (!points.length) return `<p class="muted">No calls in this period.</p>`;
    const values = points.flatMap((p) => series.map(([key]) => p[key] || 0));
    const max = Math.max(1, ...values);
    const x = (i) => left + (points.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (points.length - 1));
    const y = (v) => top + (height - top - bottom) * (1 - (v || 0) / max);
    let svg = `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>`;
    for (const share of [0, 0.5, 1]) {
      const value = max * share;
      svg += `<line class="axis" x1="${left}" x2="${width - right}" y1="${y(value)}" y2="${y(value)}"/><text x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${esc(value >= 100 ? Math.round(value) : value.toFixed(1))}</text>`;
    }
    const ticks = [0, Math.floor((points.length - 1) / 2), points.length - 1].filter((v, i, a) => a.indexOf(v) === i);
    for (const i of ticks) svg += `<text x="${x(i)}" y="${height - 6}" text-anchor="middle">${esc(shortTime(points[i].time))}</text>`;
    for (const [key, name, color] of series) {
      const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
      svg += `<path class="line ${color}" d="${path}" data-series="${esc(name)}"/>`;
      if (points.length === 1) svg += `<circle class="dot ${color}" cx="${x(0)}" cy="${y(points[0][key])}" r="3"/>`;
    }
    svg += "</svg>";
    return svg + `<div class="legend">${series.map(([, name, color]) => `<span><i class="${color}"></i>${esc(name)}</span>`).join("")}</div>`;
  }

  function barChart(rows, label) {
    if (!rows.length) return '<p class="muted">No calls in this period.</p>';
    const width = 560, row = 26, left = 170, height = rows.length * row + 8;
    const max = Math.max(1, ...rows.map(([, v]) => v));
    let svg = `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>`;
    rows.forEach(([key, value], i) => {
      const w = ((width - left - 50) * value) / max;
      const name = String(key).length > 26 ? String(key).slice(0, 25) + "…" : String(key);
      svg += `<text x="${left - 6}" y="${i * row + 20}" text-anchor="end">${esc(name)}</text><rect x="${left}" y="${i * row + 8}" width="${w.toFixed(1)}" height="16" rx="3" class="fill c-accent"/>
        <text x="${left + w + 6}" y="${i * row + 20}">${esc(value)}</text>`;
    });
    return svg + "</svg>";
  }

  const shortTime = (iso) => (iso || "").replace("T", " ").slice(5, 16);

  function callsTable(calls) {
    if (!calls.length) return '<p class="muted">No calls yet. Try an operation from the docs.</p>';
    return `<table id="recent-calls"><thead><tr><th>Time</th><th>Request id</th><th>Call</th><th>Status</th><th>Time taken</th></tr></thead><tbody>${calls.map((c) =>
      `<tr><td>${esc(shortTime(c.time))}</td><td><code>${esc(c.request_id)}</code></td><td><code>${esc(c.method)} ${esc(c.path)}</code></td><td class="status-${String(c.status)[0]}">${esc(c.status)}</td><td>${esc(ms(c.total_ms))}</td></tr>`).join("")}</tbody></table>`;
  }

  route("signin", () => formView("signin"));
  route("signup", () => formView("signup"));
  route("apps", () => appsView());
  route("dashboard", () => dashboardView());

  document.addEventListener("DOMContentLoaded", () => {
    $("#signout").addEventListener("click", async () => {
      await post("signout").catch(() => {});
      await refreshSession();
      location.hash = "#/";
    });
  });
})();
