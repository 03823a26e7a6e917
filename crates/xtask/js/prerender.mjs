// `cargo xtask prerender`'s browser half (crates/xtask/src/prerender.rs): opens the built page
// in headless Chromium through chromedriver (WebDriver over Node's own fetch, no package), waits
// until the app has finished the default scenario's run and loaded its lower panels, and
// writes the page's markup as it then stands: the first paint index.html will carry.
//
//   node prerender.mjs <chromedriver url> <chromium> <page url> <out file>
import { writeFileSync } from "node:fs";

const [driver, chromium, page, out] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function webdriver(method, path, body) {
  const response = await fetch(driver + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer.value)}`);
  return answer.value;
}

// Ready: the run finished, the panels' chunk is in, and two more frames have been drawn.
const READY = `
  const root = document.querySelector('[data-testid=app-root]');
  return !!root && root.dataset.runState === 'finished'
    && !document.querySelector('[data-testid=panels-loading]')
    && !!document.querySelector('[data-testid=compare-button]');`;

// The markup, made static and only what the first screen draws: what the app holds in properties (an input's value, a box's check,
// a progress bar's value) written into attributes; no data-testid (tests and the app's own
// takeover look for the app, never the copy); ids prefixed, with the attributes that point at
// them, so the copy's labels still name their controls without clashing with the app's; and
// no style attribute, which the page's CSP would refuse in markup (only a chart's tooltip
// has one, and only while hovered).
const CAPTURE = `
  const copy = document.querySelector('[data-testid=app-root]').cloneNode(true);
  const live = document.querySelector('[data-testid=app-root]');
  const liveInputs = live.querySelectorAll('input, progress, select, textarea');
  copy.querySelectorAll('input, progress, select, textarea').forEach((el, i) => {
    const from = liveInputs[i];
    if (el.tagName === 'INPUT' && (from.type === 'checkbox' || from.type === 'radio')) {
      if (from.checked) el.setAttribute('checked', ''); else el.removeAttribute('checked');
    } else if (el.tagName === 'SELECT') {
      [...el.options].forEach((o, j) => o.toggleAttribute('selected', from.options[j].selected));
    } else if (el.tagName === 'TEXTAREA') {
      el.textContent = from.value;
    } else if (from.value !== undefined && from.value !== '') {
      el.setAttribute('value', from.value);
    }
  });
  // The panels under the charts stay out (below the first screen, and most of the markup):
  // the app brings them when it takes over.
  copy.querySelectorAll('.lower-results').forEach((panels) => panels.remove());
  // A folded group shows only its summary: what it folds away is not drawn, nor sent.
  copy.querySelectorAll('details:not([open])').forEach((group) =>
    [...group.children].forEach((child) => child.tagName === 'SUMMARY' || child.remove()));
  const pointers = ['for', 'aria-labelledby', 'aria-describedby', 'aria-controls', 'list'];
  for (const el of [copy, ...copy.querySelectorAll('*')]) {
    el.removeAttribute('data-testid');
    el.removeAttribute('style');
    if (el.id) el.id = 'prerendered-' + el.id;
    for (const name of pointers) {
      const v = el.getAttribute(name);
      if (v) el.setAttribute(name, v.split(/\\s+/).map((id) => 'prerendered-' + id).join(' '));
    }
    for (const attr of [...el.attributes]) {
      if (attr.name.startsWith('on')) el.removeAttribute(attr.name);
    }
  }
  return copy.outerHTML;`;

const session = await webdriver("POST", "/session", {
  capabilities: {
    alwaysMatch: {
      "goog:chromeOptions": {
        binary: chromium,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--window-size=1400,1000",
        ],
      },
    },
  },
});
const id = session.sessionId;
try {
  await webdriver("POST", `/session/${id}/url`, { url: page });
  const deadline = Date.now() + 120_000;
  let ready = false;
  while (!ready) {
    if (Date.now() > deadline) throw new Error(`${page} did not finish its run within 120 s`);
    ready = await webdriver("POST", `/session/${id}/execute/sync`, { script: READY, args: [] });
    if (!ready) await sleep(100);
  }
  await webdriver("POST", `/session/${id}/execute/async`, {
    script: "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
    args: [],
  });
  const html = await webdriver("POST", `/session/${id}/execute/sync`, { script: CAPTURE, args: [] });
  writeFileSync(out, html);
} finally {
  await webdriver("DELETE", `/session/${id}`).catch(() => {});
}
