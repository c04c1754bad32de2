// quantdesk dashboard: REST snapshots, refreshed whenever /ws says something happened.
"use strict";

const $ = (id) => document.getElementById(id);
const STALE_AFTER_MS = 3000;
let lastBeat = 0;
let chart = null;
let refreshTimer = null;

function text(el, value) { el.textContent = value == null ? "" : String(value); }

function money(value) {
  if (value == null) return "";
  const n = Number(value);
  return n.toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function signed(cell, value) {
  text(cell, money(value));
  cell.className = "num " + (Number(value) >= 0 ? "pos" : "neg");
}

function fill(tableId, rows, columns) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const column of columns) {
      const td = document.createElement("td");
      column(td, row);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

const plain = (key) => (td, row) => text(td, row[key]);
const shortTime = (iso) => (iso ? new Date(iso).toLocaleTimeString("en-IN", { timeZone: "Asia/Kolkata" }) : "");

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

async function refresh() {
  try {
    const [state, risk, signals, trades] = await Promise.all([
      getJson("/state"), getJson("/risk"), getJson("/signals?limit=20"), getJson("/trades?limit=50"),
    ]);
    render(state, risk, signals, trades);
  } catch (err) {
    text($("action-result"), "refresh failed: " + err.message);
  }
}

function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 100);
}

function render(state, risk, signals, trades) {
  text($("mode"), state.mode + (state.safe_mode ? " · SAFE" : ""));
  text($("session"), state.session_id + " · " + shortTime(state.clock) + " IST");
  text($("heat"), money(risk.heat));
  text($("heat-pct"), risk.heat_pct);
  $("banner").dataset.colour = risk.risk_banner_color;
  text($("trading"), risk.trading_state + (risk.kill_switch ? " · KILL SWITCH" : ""));
  text($("equity"), money(state.equity));
  signed($("day-pnl"), state.daily_pnl);
  fill("positions", state.positions, [
    plain("symbol"), plain("quantity"), (td, r) => text(td, money(r.avg_price)),
    (td, r) => text(td, money(r.mark)), (td, r) => signed(td, r.unrealised_pnl),
  ]);
  fill("orders", state.open_orders, [
    plain("symbol"), plain("leg"), plain("side"), plain("order_type"), plain("quantity"),
    (td, r) => text(td, r.limit_price || r.trigger_price || "MKT"), plain("status"),
  ]);
  fill("signals", signals, [
    plain("rank"), (td, r) => text(td, shortTime(r.time)), plain("symbol"), plain("side"),
    (td, r) => text(td, r.strength.toFixed(2)),
    (td, r) => text(td, (r.decision || "…") + (r.reasons.length ? " " + r.reasons.join(",") : "")),
  ]);
  fill("trades", trades.slice().reverse(), [
    (td, r) => text(td, shortTime(r.exit_time)), plain("symbol"), plain("side"), plain("quantity"),
    (td, r) => text(td, money(r.entry_price)), (td, r) => text(td, money(r.exit_price)),
    (td, r) => signed(td, r.net_pnl), plain("exit_reason"),
  ]);
  const breakers = $("breakers");
  breakers.replaceChildren();
  const items = [["kill switch", risk.kill_switch, risk.kill_switch ? "engaged" : "off"]]
    .concat(risk.breakers.map((b) => [b.name, b.tripped, b.tripped ? b.reason + " (" + b.recovery + ")" : "ok"]));
  for (const [name, bad, detail] of items) {
    const li = document.createElement("li");
    li.className = bad ? "neg" : "pos";
    li.dataset.name = name;
    text(li, name + ": " + detail);
    breakers.appendChild(li);
  }
  drawEquity(state.equity_curve);
}

function drawEquity(points) {
  const xs = points.map((p) => new Date(p.time).getTime() / 1000);
  const ys = points.map((p) => Number(p.equity));
  const data = [xs, ys];
  const width = Math.max(300, $("chart").clientWidth || 600);
  if (!chart) {
    chart = new uPlot({
      width, height: 220, legend: { show: false },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Asia/Kolkata"),  // NSE time
      scales: { x: { time: true } },
      series: [{}, { label: "equity", stroke: "#4cc27d", width: 2 }],
      axes: [{ stroke: "#8a96a3" }, { stroke: "#8a96a3", size: 80 }],
    }, data, $("chart"));
  } else {
    chart.setData(data);
  }
}

function connect(delay = 500) {
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => { delay = 500; };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "heartbeat") {
      lastBeat = Date.now();
      markConnection();
    } else {
      scheduleRefresh();
    }
  };
  socket.onclose = () => {
    markConnection();
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);  // reconnect by itself
  };
}

function markConnection() {
  const live = Date.now() - lastBeat < STALE_AFTER_MS;
  const el = $("conn");
  el.dataset.state = live ? "live" : "stale";
  el.className = "pill " + (live ? "live" : "stale");
  text(el, live ? "live" : "stale");
}

const CONFIRM = {
  pause: "Pause new entries? Exits keep working.",
  resume: "Resume entries (and release the kill switch)?",
  "cancel-all": "Cancel every working order? Stops of open positions are re-placed.",
  flatten: "FLATTEN: engage the kill switch, cancel every order and close every position?",
};

async function act(action) {
  const dialog = $("confirm");
  text($("confirm-text"), CONFIRM[action]);
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "ok") return;
  const key = $("key").value;
  sessionStorage.setItem("qd-key", key);
  const path = action === "cancel-all" ? "/orders/cancel-all" : "/" + action;
  const body = action === "resume" ? { release_kill_switch: true } : {};
  const headers = { "Content-Type": "application/json" };
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  text($("action-result"), action + ": " + (response.ok ? answer.detail : response.status + " " + (answer.detail || "")));
  refresh();
}

document.querySelectorAll("button[data-action]").forEach((button) => {
  button.addEventListener("click", () => act(button.dataset.action));
});
$("key").value = sessionStorage.getItem("qd-key") || "";
setInterval(markConnection, 1000);
setInterval(refresh, 5000);  // a safety net; events drive the refreshes
refresh();
connect();
