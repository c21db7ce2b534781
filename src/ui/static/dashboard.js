// The live dashboard of `flotilla up` and `flotilla gateway`: plain browser JavaScript served as it
// is (no build step), under a strict Content-Security-Policy (no inline script or style). Data
// comes from one server-sent-events stream (`/_flotilla/ui/events`); controls call the admin API
// with the session cookie plus the session's CSRF token in a header. The admin token is sent once,
// in the sign-in POST body, and is never kept by the page.
(() => {
  const BASE = '/_flotilla/';
  /** Points kept per series in the browser: the server's history plus what streamed since. */
  const MAX_POINTS = 1200;
  const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

  let csrf;
  let events;
  /** Per service: {section, charts, controls built for these variant tags, history arrays}. */
  const views = new Map();
  /** History points, oldest first: {atMs, v: [[service, tag, weight, rps, err, p50, p99, inflight, desired, ready, panic]]}. */
  let points = [];

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else if (k === 'on') for (const [name, fn] of Object.entries(v)) e.addEventListener(name, fn);
      else e[k] = v;
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c);
    return e;
  }

  function say(text, failed) {
    const m = $('message');
    m.textContent = text;
    m.classList.toggle('failed', failed === true);
  }

  // ---- sign-in ----------------------------------------------------------------------------------

  async function checkSession() {
    const res = await fetch(`${BASE}ui/session`, { credentials: 'same-origin' });
    const body = res.status === 200 ? await res.json() : {};
    if (body.signedIn) {
      csrf = body.csrf;
      showDashboard();
    } else showSignIn();
  }

  function showSignIn() {
    csrf = undefined;
    events?.close();
    events = undefined;
    $('sign-in').hidden = false;
    $('sign-out').hidden = true;
    $('timeline-section').hidden = true;
    $('services').replaceChildren();
    views.clear();
    $('live').textContent = 'not signed in';
  }

  async function signIn(ev) {
    ev.preventDefault();
    const input = $('token');
    const token = input.value;
    input.value = '';
    $('sign-in-error').textContent = '';
    const res = await fetch(`${BASE}ui/session`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200) {
      $('sign-in-error').textContent = `Refused: ${body.error ?? res.status}`;
      return;
    }
    csrf = body.csrf;
    showDashboard();
  }

  async function signOut() {
    await fetch(`${BASE}ui/session`, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { 'x-flotilla-csrf': csrf ?? '' },
    });
    showSignIn();
  }

  function showDashboard() {
    $('sign-in').hidden = true;
    $('sign-out').hidden = false;
    $('timeline-section').hidden = false;
    events = new EventSource(`${BASE}ui/events`);
    events.addEventListener('history', (e) => {
      points = JSON.parse(e.data);
    });
    events.addEventListener('frame', (e) => {
      const { frame, point } = JSON.parse(e.data);
      if (point) {
        points.push(point);
        if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
      }
      render(frame);
    });
    events.addEventListener('error', () => {
      $('live').textContent = 'reconnecting…';
      // A stream refused (session ended) closes for good: check whether we are still signed in.
      if (events?.readyState === EventSource.CLOSED) void checkSession();
    });
  }

  // ---- controls (each one the admin API call `flotilla rollout/scale` makes) ---------------------

  async function admin(method, path, body) {
    const res = await fetch(`${BASE}${path}`, {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-flotilla-csrf': csrf ?? '' },
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status === 401) showSignIn();
    if (res.status !== 200) say(`${method} ${path}: ${answer.error ?? res.status}`, true);
    return res.status === 200;
  }

  function buildControls(service, frame) {
    const box = el('div', { class: 'controls', 'data-controls': service.name });
    const weights = el('fieldset', {}, el('legend', { text: 'Weights' }));
    for (const v of service.variants) {
      const range = el('input', {
        type: 'range',
        min: 0,
        max: 100,
        value: v.weight,
        'data-weight': v.tag,
        'aria-label': `weight of ${v.tag}`,
      });
      const number = el('input', { type: 'number', min: 0, value: v.weight, 'data-weight-number': v.tag });
      range.addEventListener('input', () => {
        box.dataset.editing = '1';
        number.value = range.value;
        // Two variants: the other one takes the rest, as a canary slider is usually read.
        if (service.variants.length === 2) {
          const other = service.variants.find((x) => x.tag !== v.tag);
          const r = box.querySelector(`[data-weight="${other.tag}"]`);
          const n = box.querySelector(`[data-weight-number="${other.tag}"]`);
          r.value = String(100 - Number(range.value));
          n.value = r.value;
        }
      });
      number.addEventListener('input', () => {
        box.dataset.editing = '1';
        range.value = number.value;
      });
      weights.append(el('label', {}, v.tag, range, number));
    }
    weights.append(
      el('button', {
        type: 'button',
        text: 'Set weights',
        'data-action': 'set-weights',
        on: {
          click: async () => {
            const w = {};
            for (const v of service.variants)
              w[v.tag] = Number(box.querySelector(`[data-weight-number="${v.tag}"]`).value);
            if (await admin('PUT', `services/${encodeURIComponent(service.name)}/weights`, { weights: w })) {
              delete box.dataset.editing;
              say(
                `${service.name}: weights set: ${Object.entries(w)
                  .map(([t, x]) => `${t} ${x}`)
                  .join(', ')}`,
              );
            }
          },
        },
      }),
    );
    box.append(weights);
    if (frame.mode === 'up') {
      if (service.variants.length === 2) {
        const rollout = el('fieldset', {}, el('legend', { text: 'Rollout' }));
        for (const action of ['start', 'promote', 'rollback'])
          rollout.append(
            el('button', {
              type: 'button',
              text: action === 'rollback' ? 'Roll back' : action[0].toUpperCase() + action.slice(1),
              'data-action': action,
              on: {
                click: async () => {
                  if (await admin('POST', `services/${encodeURIComponent(service.name)}/rollout`, { action }))
                    say(`${service.name}: rollout ${action}`);
                },
              },
            }),
          );
        box.append(rollout);
      }
      const pin = el('fieldset', {}, el('legend', { text: 'Pin replicas' }));
      for (const v of service.variants.filter((x) => x.scale)) {
        const n = el('input', { type: 'number', min: 0, value: v.scale.desired, 'data-pin': v.tag });
        pin.append(
          el(
            'label',
            {},
            v.tag,
            n,
            el('button', {
              type: 'button',
              text: 'Pin',
              'data-action': `pin-${v.tag}`,
              on: {
                click: async () => {
                  const path = `services/${encodeURIComponent(service.name)}/variants/${encodeURIComponent(v.tag)}/scale`;
                  if (await admin('PUT', path, { replicas: Number(n.value) }))
                    say(`${service.name}/${v.tag}: pinned to ${n.value} replicas`);
                },
              },
            }),
          ),
        );
      }
      if (pin.children.length > 1) box.append(pin);
    }
    return box;
  }

  // ---- rendering ----------------------------------------------------------------------------------

  const fmt = (x, digits = 1) => (x === undefined || x === null ? '–' : Number(x).toFixed(digits));

  function serviceView(service, frame) {
    const tags = service.variants.map((v) => v.tag).join(',');
    let view = views.get(service.name);
    if (view && view.tags === tags) return view;
    if (view) {
      for (const c of view.charts) c.destroy();
      view.section.remove();
    }
    const section = el('section', { class: 'service', 'data-service': service.name });
    const head = el('div');
    const variants = el('div');
    const chartsBox = el('div', { class: 'charts' });
    const replicas = el('div');
    section.append(head, buildControls(service, frame), variants, chartsBox, replicas);
    $('services').append(section);
    const box = (name) => {
      const b = el('div', { class: 'chart', 'data-chart': name });
      chartsBox.append(b);
      return b;
    };
    const series = service.variants.map((v, i) => ({ label: v.tag, color: COLORS[i % COLORS.length] }));
    const managed = service.variants.filter((v) => v.scale);
    const emptyData = (n) => [[], ...Array.from({ length: n }, () => [])];
    const charts = [];
    const add = (name, o) => {
      const b = box(name);
      const c = FlotillaCharts.lineChart(b, { ...o, time: true, height: 200 });
      c.box = b;
      c.name = name;
      charts.push(c);
    };
    add('rps', {
      title: 'Requests/s',
      xLabel: 'time',
      yLabel: 'req/s',
      series,
      data: emptyData(series.length),
    });
    add('p99', {
      title: 'p99 and p50 latency (ms)',
      xLabel: 'time',
      yLabel: 'ms',
      series: [
        ...series.map((s) => ({ ...s, label: `${s.label} p99` })),
        ...series.map((s) => ({ ...s, label: `${s.label} p50`, dash: true, width: 1 })),
      ],
      data: emptyData(series.length * 2),
      ...(service.slo?.latencyMs
        ? { hLines: [{ y: service.slo.latencyMs, label: `SLO ${service.slo.latencyMs} ms` }] }
        : {}),
    });
    add('errors', {
      title: 'Error rate (%)',
      xLabel: 'time',
      yLabel: '%',
      series,
      data: emptyData(series.length),
      ...(service.slo?.errorRate !== undefined
        ? { hLines: [{ y: service.slo.errorRate * 100, label: `SLO ${service.slo.errorRate * 100}%` }] }
        : {}),
    });
    add('weights', {
      title: 'Weights',
      xLabel: 'time',
      yLabel: 'weight',
      series: series.map((s) => ({ ...s, stepped: true })),
      data: emptyData(series.length),
    });
    if (managed.length > 0)
      add('replicas', {
        title: 'Replicas: desired (dashed) and ready; panic shaded',
        xLabel: 'time',
        yLabel: 'replicas',
        yMin: 1,
        series: managed.flatMap((v) => {
          const color = COLORS[service.variants.indexOf(v) % COLORS.length];
          return [
            { label: `${v.tag} desired`, color, dash: true, stepped: true },
            { label: `${v.tag} ready`, color, stepped: true },
          ];
        }),
        data: emptyData(managed.length * 2),
      });
    add('inflight', {
      title: 'Requests in flight',
      xLabel: 'time',
      yLabel: 'requests',
      series,
      data: emptyData(series.length),
    });
    view = { section, head, variants, replicas, charts, tags, managed: managed.map((v) => v.tag) };
    views.set(service.name, view);
    return view;
  }

  /** Columns of the history for one service: x plus one array per series, for each chart. */
  function columns(service, view) {
    const tags = service.variants.map((v) => v.tag);
    const xs = [];
    const by = () => tags.map(() => []);
    const rps = by();
    const p99 = by();
    const p50 = by();
    const err = by();
    const weight = by();
    const inflight = by();
    const desired = view.managed.map(() => []);
    const ready = view.managed.map(() => []);
    const bands = [];
    let panicFrom;
    for (const p of points) {
      const rows = p.v.filter((r) => r[0] === service.name);
      if (rows.length === 0) continue;
      const x = p.atMs / 1000;
      xs.push(x);
      let panic = false;
      tags.forEach((tag, i) => {
        const r = rows.find((row) => row[1] === tag);
        weight[i].push(r ? r[2] : null);
        rps[i].push(r ? r[3] : null);
        err[i].push(r ? r[4] * 100 : null);
        p50[i].push(r ? r[5] : null);
        p99[i].push(r ? r[6] : null);
        inflight[i].push(r ? r[7] : null);
      });
      view.managed.forEach((tag, i) => {
        const r = rows.find((row) => row[1] === tag);
        desired[i].push(r ? r[8] : null);
        ready[i].push(r ? r[9] : null);
        if (r && r[10] === 1) panic = true;
      });
      if (panic && panicFrom === undefined) panicFrom = x;
      if (!panic && panicFrom !== undefined) {
        bands.push([panicFrom, x]);
        panicFrom = undefined;
      }
    }
    if (panicFrom !== undefined) bands.push([panicFrom, xs[xs.length - 1]]);
    return {
      rps: [xs, ...rps],
      p99: [xs, ...p99, ...p50],
      errors: [xs, ...err],
      weights: [xs, ...weight],
      inflight: [xs, ...inflight],
      replicas: [xs, ...view.managed.flatMap((_, i) => [desired[i], ready[i]])],
      bands,
      desired,
      ready,
    };
  }

  function table(header, rows) {
    return el(
      'table',
      {},
      el('tr', {}, ...header.map((h) => el('th', { text: h }))),
      ...rows.map((r) =>
        el('tr', {}, ...r.map((c) => (c instanceof Node ? el('td', {}, c) : el('td', { text: String(c) })))),
      ),
    );
  }

  function render(frame) {
    $('live').textContent = `live · ${new Date(frame.atMs).toLocaleTimeString()}`;
    const seen = new Set();
    for (const service of frame.services) {
      seen.add(service.name);
      const view = serviceView(service, frame);
      const r = service.rollout;
      view.head.replaceChildren(
        el('h2', { text: service.name }),
        el('div', {
          class: 'meta',
          text: [
            service.hosts.length ? `hosts ${service.hosts.join(', ')}` : '',
            service.path ? `path ${service.path}` : '',
            service.slo
              ? `SLO p99 ≤ ${service.slo.latencyMs} ms, errors ≤ ${service.slo.errorRate * 100}%`
              : '',
          ]
            .filter(Boolean)
            .join(' · '),
        }),
        r
          ? el('div', {
              class: 'meta',
              'data-rollout-phase': r.phase,
              text: `rollout ${r.phase}: ${r.canary} at ${fmt(r.canaryWeight, 0)}% against ${r.stable}${
                r.steps ? `, step ${(r.step ?? 0) + 1} of ${r.steps.length} (${r.steps.join(' → ')}%)` : ''
              }${r.lastDecision ? ` — ${r.lastDecision}` : ''}`,
            })
          : undefined,
      );
      const slo = service.slo;
      view.variants.replaceChildren(
        table(
          [
            'variant',
            'model',
            'weight',
            'req/s',
            'errors',
            'p50 ms',
            'p99 ms',
            'in flight',
            'replicas ready/desired',
            'scaling',
          ],
          service.variants.map((v) => {
            const p99 = el('span', { text: fmt(v.p99Ms) });
            if (slo && v.p99Ms !== undefined && v.p99Ms > slo.latencyMs) p99.className = 'over';
            return [
              v.tag,
              v.model,
              v.weight,
              fmt(v.rps),
              `${fmt(v.errorRate * 100, 2)}%`,
              fmt(v.p50Ms),
              p99,
              v.inflight,
              v.scale
                ? `${v.scale.ready}/${v.scale.desired} (${v.scale.min}–${v.scale.max}${v.scale.pinned ? ', pinned' : ''})`
                : '–',
              v.scale
                ? el('span', {
                    class: v.scale.panic ? 'badge panic' : 'badge',
                    text: `${v.scale.panic ? 'panic' : 'stable'}${v.scale.queued ? `, ${v.scale.queued} queued` : ''}`,
                    title: v.scale.lastDecision ?? '',
                  })
                : '–',
            ];
          }),
        ),
      );
      view.replicas.replaceChildren(
        el('h3', { text: 'Replicas' }),
        table(
          ['variant', 'replica', 'state', 'address', 'restarts', 'ready after ms', 'in flight', 'ejected'],
          service.variants.flatMap((v) =>
            v.replicas.map((x) => [
              v.tag,
              x.id,
              x.state,
              x.address ?? '–',
              x.restarts ?? '–',
              x.startMs ?? '–',
              x.inflight,
              x.ejected ? 'ejected' : x.healthy === false ? 'unhealthy' : 'no',
            ]),
          ),
        ),
      );
      const cols = columns(service, view);
      for (const c of view.charts) {
        c.setData(cols[c.name], c.name === 'replicas' ? { bands: cols.bands } : undefined);
        if (c.name === 'replicas') {
          // What the chart shows now, readable by people and by the browser tests alike.
          const last = (a) => a.map((s) => s[s.length - 1] ?? 0);
          c.box.setAttribute('data-desired', last(cols.desired).join(','));
          c.box.setAttribute('data-ready', last(cols.ready).join(','));
          c.box.setAttribute(
            'data-max-desired',
            String(Math.max(0, ...cols.desired.flat().filter((x) => x !== null))),
          );
          c.box.setAttribute('data-panic-bands', String(cols.bands.length));
        }
      }
      // Weights moved elsewhere (a rollout step, the CLI) show up in the controls unless being edited.
      const controls = view.section.querySelector('[data-controls]');
      if (controls && controls.dataset.editing !== '1')
        for (const v of service.variants) {
          controls.querySelector(`[data-weight="${v.tag}"]`).value = String(v.weight);
          controls.querySelector(`[data-weight-number="${v.tag}"]`).value = String(v.weight);
        }
    }
    for (const [name, view] of views)
      if (!seen.has(name)) {
        for (const c of view.charts) c.destroy();
        view.section.remove();
        views.delete(name);
      }
    $('timeline').replaceChildren(
      ...[...frame.events].reverse().map((e) =>
        el('li', {
          class: `kind-${e.kind}`,
          text: `${new Date(e.atMs).toLocaleTimeString()} ${e.service}${e.variant ? `/${e.variant}` : ''} ${e.kind}: ${e.message}`,
        }),
      ),
    );
  }

  addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', (ev) => void signIn(ev));
    $('sign-out').addEventListener('click', () => void signOut());
    void checkSession();
  });
})();
