// The example page's table, drawn through the JavaScript API as an author would, with nothing
// but the module. (The iframes are sized by the classic script in the page's head, which must
// listen before the frames load; a module script runs only after its imports have loaded.)

import init, { compare, modes } from "./pkg/dsim_wasm.js";

// --- A table from the JavaScript API --------------------------------------------------------

const table = document.querySelector('[data-testid="js-api-table"]');
const errorOutput = document.querySelector('[data-testid="js-api-error"]');
const ackLossInput = document.querySelector('[data-testid="ack-loss-input"]');

const count = new Intl.NumberFormat("en-US");
const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const decimal = (digits) =>
  new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function drawTable(reports, modeInfo) {
  const title = new Map(modeInfo.map((m) => [m.key, m.title]));
  const rows = reports.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.mode = r.mode;
    const head = document.createElement("th");
    head.scope = "row";
    head.textContent = title.get(r.mode) ?? r.mode;
    tr.append(
      head,
      r.guarantee.held
        ? cell(`kept: ${r.guarantee.promise}`, "promise kept")
        : cell(`broken: ${r.guarantee.promise}`, "promise broken"),
      cell(count.format(r.duplicates)),
      cell(count.format(r.lost)),
      cell(dollars.format(r.ledger.overcharged_cents / 100)),
      cell(`${decimal(1).format(r.latency_ms.p99)} ms`),
      cell(decimal(2).format(r.cost.network_messages_per_message)),
    );
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.dataset.state = "ready";
}

function scenarioFromPage() {
  // The input's text goes in as a number, so a reader who types 2 sees the module's own
  // message for an out-of-range probability; an empty box is left for the module to reject.
  const text = ackLossInput.value.trim();
  return {
    ackLoss: text === "" ? undefined : Number(text),
    crashBeforeProcess: 0.002,
    messages: 5000,
    seed: 42,
  };
}

function refresh(modeInfo) {
  try {
    drawTable(compare(scenarioFromPage()), modeInfo);
    errorOutput.textContent = "";
  } catch (error) {
    // The module throws an Error naming the field ("ackLoss: must be between 0 and 1 (got 2)")
    // and stays usable, so the table keeps its last numbers and the next edit just works.
    errorOutput.textContent = error.message;
  }
}

try {
  await init();
  const modeInfo = modes();
  refresh(modeInfo);
  ackLossInput.addEventListener("change", () => refresh(modeInfo));
} catch (error) {
  table.dataset.state = "error";
  table.tBodies[0].replaceChildren();
  const row = table.tBodies[0].insertRow();
  const td = row.insertCell();
  td.colSpan = 7;
  td.textContent = `The simulator could not start: ${error.message}`;
}
