// tests/console/drive.mjs - clicks through lambdad's web console in headless
// Chromium (Debian's, driven by playwright-core) for tests/api/test_console.py.
//
//   node drive.mjs SCENARIO  (settings in the environment, below)
//
// Scenarios:
//   full     sign in, create a python function through the form, wait for
//            Active, invoke it (result, log tail), invoke it failing (function
//            error), open its tabs (configuration, logs, metrics, async,
//            event sources, versions), the functions list
//   enforce  sign in with a key made by `lambdad keys`, list the functions,
//            invoke FUNCTION; then sign in with a wrong secret and read the
//            error AWS's SDK shows
// Prints one line "RESULT:<json>" with what it saw; screenshots go to
// ARTIFACTS and their paths into the result. Every wait is bounded.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const env = process.env;
const scenario = process.argv[2] || "full";
const BASE = env.CONSOLE_URL; // http://127.0.0.1:PORT/_lambdad/console/
const ARTIFACTS = env.ARTIFACTS;
const KEY = env.ACCESS_KEY || "console-test";
const SECRET = env.SECRET_KEY || "console-test-secret";
const FN = env.FUNCTION || "console-fn";
const MARKER = env.MARKER || "console-marker";
const WAIT = Number(env.WAIT_MS || 30000);

const result = { scenario, screenshots: [], console: [], steps: [] };
fs.mkdirSync(ARTIFACTS, { recursive: true });

async function shot(page, name) {
  const p = path.join(ARTIFACTS, `${scenario}-${name}.png`);
  await page.screenshot({ path: p, fullPage: true });
  result.screenshots.push(p);
}

function step(s) {
  result.steps.push(s);
}

async function text(page, sel) {
  const el = await page.$(sel);
  return el ? (await el.textContent()) || "" : null;
}

async function signIn(page, key, secret) {
  await page.fill("#access-key", key);
  await page.fill("#secret-key", secret);
  await page.click("#signin-submit");
}

// the first #id of ids that shows, or null
async function firstOf(page, sels, timeout = WAIT) {
  try {
    await page.waitForSelector(sels.join(", "), { timeout });
  } catch {
    return null;
  }
  for (const s of sels) if (await page.$(s)) return s;
  return null;
}

const PY_CODE = `import json

def lambda_handler(event, context):
    print("${MARKER} got", json.dumps(event))
    if event.get("fail"):
        raise ValueError("${MARKER} asked to fail")
    return {"doubled": event.get("n", 0) * 2, "marker": "${MARKER}"}
`;

async function full(page) {
  await page.goto(BASE, { waitUntil: "load" });
  await page.waitForSelector("#access-key", { timeout: WAIT });
  await shot(page, "signin");
  await signIn(page, KEY, SECRET);
  result.list_before = await firstOf(page, ["#functions", "#no-functions", ".error"]);
  step("signed in");
  await page.click("#create-function");
  await page.waitForSelector("#fn-runtime option", { timeout: WAIT, state: "attached" });
  result.runtimes = await page.$$eval("#fn-runtime option", (os) => os.map((o) => o.value));
  const py = result.runtimes.filter((r) => r.startsWith("python")).sort((a, b) =>
    Number(b.split(".")[1]) - Number(a.split(".")[1]));
  result.runtime = env.RUNTIME && result.runtimes.includes(env.RUNTIME) ? env.RUNTIME : py[0];
  await page.selectOption("#fn-runtime", result.runtime);
  await page.fill("#fn-name", FN);
  result.role = await page.inputValue("#fn-role");
  result.handler = await page.inputValue("#fn-handler");
  await page.fill("#fn-code", PY_CODE);
  await shot(page, "create-form");
  await page.click("#fn-create");
  const after = await firstOf(page, ["#function-name", "#create-form .error"]);
  if (after !== "#function-name") {
    result.create_error = await text(page, "#create-form .error");
    return;
  }
  step("created");
  result.url_after_create = page.url();
  // the page follows Pending until the settle service makes it Active
  try {
    await page.waitForFunction(() => document.querySelector("#fn-state")?.textContent === "Active", null, {
      timeout: WAIT,
    });
  } catch {
    /* reported below */
  }
  result.state = await text(page, "#fn-state");
  result.last_update_status = await text(page, "#fn-last-update-status");
  result.cfg_runtime = await text(page, "#cfg-runtime");
  await shot(page, "function-page");
  step("function page");

  // invoke
  await page.click("#tab-invoke");
  await page.fill("#invoke-payload", JSON.stringify({ n: 21 }));
  await page.click("#invoke");
  const inv = await firstOf(page, ["#invoke-result", ".error"]);
  if (inv === "#invoke-result") {
    result.invoke = {
      status: await text(page, "#invoke-status"),
      payload: await text(page, "#invoke-payload-out"),
      log: await text(page, "#invoke-log"),
      function_error: await text(page, "#invoke-function-error"),
    };
  } else {
    result.invoke = { error: await text(page, ".error") };
  }
  await shot(page, "invoke");
  step("invoked");
  await page.fill("#invoke-payload", JSON.stringify({ fail: true }));
  await page.click("#invoke");
  if ((await firstOf(page, ["#invoke-function-error", ".error"])) === "#invoke-function-error") {
    result.invoke_fail = {
      status: await text(page, "#invoke-status"),
      payload: await text(page, "#invoke-payload-out"),
      function_error: await text(page, "#invoke-function-error"),
      log: await text(page, "#invoke-log"),
    };
  } else {
    result.invoke_fail = { error: await text(page, ".error") };
  }
  await shot(page, "invoke-error");

  // live logs: wait for the marker's line or an error from the Logs API
  await page.click("#tab-logs");
  result.log_group = await (await page.waitForSelector("#log-group", { timeout: WAIT })).textContent();
  try {
    await page.waitForFunction(
      (m) =>
        (document.querySelector("#log-events")?.textContent || "").includes(m) || !!document.querySelector(".card .error"),
      MARKER,
      { timeout: Number(env.LOGS_WAIT_MS || 15000) },
    );
  } catch {
    /* reported below */
  }
  result.logs = { text: (await text(page, "#log-events")) || "", error: await text(page, ".card .error") };
  // the filter box: a pattern that matches the failing invocation only
  await page.fill("#log-filter", `"asked to fail"`);
  await page.click("#log-filter-apply");
  try {
    await page.waitForFunction(
      (m) => {
        const t = document.querySelector("#log-events")?.textContent || "";
        return t.includes(m + " asked to fail") || !!document.querySelector(".card .error");
      },
      MARKER,
      { timeout: Number(env.LOGS_WAIT_MS || 15000) },
    );
  } catch {
    /* reported below */
  }
  result.logs_filtered = { text: (await text(page, "#log-events")) || "", error: await text(page, ".card .error") };
  await shot(page, "logs");

  // metrics: four charts, and an error or data from GetMetricData
  await page.click("#tab-metrics");
  await page.waitForSelector("#chart-invocations", { timeout: WAIT });
  try {
    await page.waitForFunction(
      () =>
        Number(document.querySelector("#chart-invocations")?.getAttribute("data-total") || 0) > 0 ||
        !!document.querySelector(".card .error"),
      null,
      { timeout: Number(env.METRICS_WAIT_MS || 10000) },
    );
  } catch {
    /* reported below */
  }
  result.metrics = {
    charts: await page.$$eval(".chart", (cs) => cs.map((c) => c.id)),
    svgs: await page.$$eval(".chart svg", (s) => s.length),
    invocations: Number(await page.getAttribute("#chart-invocations", "data-total")),
    errors: Number(await page.getAttribute("#chart-errors", "data-total")),
    error: await text(page, ".card .error"),
  };
  await shot(page, "metrics");

  await page.click("#tab-async");
  result.async = {
    none: await firstOf(page, ["#async-config-none", "#async-config", ".card .error"]),
    note: await text(page, "#async-queue-note"),
  };
  await shot(page, "async");
  await page.click("#tab-event-sources");
  result.esm = await firstOf(page, ["#esm-none", "#esms", ".card .error"]);
  await page.click("#tab-versions");
  result.versions = (await firstOf(page, ["#versions", ".card .error"])) === "#versions"
    ? await page.$$eval("#versions tbody tr td:first-child", (tds) => tds.map((t) => t.textContent))
    : { error: await text(page, ".card .error") };
  await shot(page, "versions");

  // the list, with the new function and its state
  await page.click(".crumbs a");
  await page.waitForSelector(`tr[data-function="${FN}"]`, { timeout: WAIT });
  try {
    await page.waitForFunction(
      (fn) => document.querySelector(`tr[data-function="${fn}"] .badge`)?.textContent === "Active",
      FN,
      { timeout: WAIT },
    );
  } catch {
    /* reported below */
  }
  result.list_row = await page.$eval(`tr[data-function="${FN}"]`, (tr) =>
    Array.from(tr.querySelectorAll("td")).map((td) => td.textContent),
  );
  await shot(page, "functions");
  // a deep link is answered with index.html and opens the page itself
  await page.goto(`${BASE}functions/${FN}/versions`, { waitUntil: "load" });
  result.deep_link = await firstOf(page, ["#versions", ".error"]);

  // a function the test set up with a mapping, an event invoke config, a
  // version and an alias
  const other = env.OTHER_FUNCTION;
  if (!other) return;
  await page.goto(`${BASE}functions/${other}/event-sources`, { waitUntil: "load" });
  if ((await firstOf(page, ["#esms", "#esm-none", ".card .error"])) === "#esms")
    result.other_esms = await page.$$eval("#esms tbody tr", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)),
    );
  else result.other_esms = { error: await text(page, ".card .error") };
  await shot(page, "event-sources");
  await page.click("#tab-async");
  result.other_async = (await firstOf(page, ["#async-config", "#async-config-none", ".card .error"])) === "#async-config"
    ? await page.$$eval("#async-config tr", (trs) =>
        Object.fromEntries(trs.map((tr) => [tr.querySelector("th").textContent, tr.querySelector("td").textContent])),
      )
    : { error: await text(page, ".card .error") };
  await page.click("#tab-versions");
  await firstOf(page, ["#aliases", ".card .error"]);
  result.other_versions = await page.$$eval("#versions tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
  result.other_aliases = await page.$$eval("#aliases tbody tr", (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)),
  );
  await shot(page, "versions-aliases");
}

async function enforce(page) {
  await page.goto(BASE, { waitUntil: "load" });
  await page.waitForSelector("#access-key", { timeout: WAIT });
  await signIn(page, KEY, SECRET);
  result.list = await firstOf(page, ["#functions", "#no-functions", ".error"]);
  result.list_error = await text(page, ".error");
  result.list_names = await page.$$eval("tr[data-function]", (trs) => trs.map((t) => t.getAttribute("data-function")));
  await shot(page, "signed-list");
  await page.goto(`${BASE}functions/${FN}/invoke`, { waitUntil: "load" });
  await page.waitForSelector("#invoke", { timeout: WAIT });
  await page.fill("#invoke-payload", JSON.stringify({ n: 5 }));
  await page.click("#invoke");
  if ((await firstOf(page, ["#invoke-result", ".error"])) === "#invoke-result")
    result.invoke = { status: await text(page, "#invoke-status"), payload: await text(page, "#invoke-payload-out") };
  else result.invoke = { error: await text(page, ".error") };
  await shot(page, "signed-invoke");
  // the same key with a wrong secret
  await page.goto(BASE, { waitUntil: "load" });
  await page.click("#signout");
  await page.waitForSelector("#access-key", { timeout: WAIT });
  await signIn(page, KEY, SECRET + "x");
  result.wrong = await firstOf(page, ["#functions", "#no-functions", ".error"]);
  result.wrong_error = await text(page, ".error");
  await shot(page, "wrong-secret");
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    timeout: 60000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("console", (m) => result.console.push(`${m.type()}: ${m.text()}`.slice(0, 500)));
  page.on("pageerror", (e) => result.console.push(`pageerror: ${e.message}`.slice(0, 500)));
  // everything the page loads must come from lambdad (no CDN, fonts, analytics)
  const origin = new URL(BASE).origin;
  result.foreign_requests = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith("data:")) result.foreign_requests.push(u);
  });
  if (scenario === "enforce") await enforce(page);
  else await full(page);
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.exception = String(e && e.stack ? e.stack : e).slice(0, 3000);
} finally {
  if (browser) await browser.close().catch(() => {});
}
console.log("RESULT:" + JSON.stringify(result));
