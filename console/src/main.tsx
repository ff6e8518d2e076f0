// main.tsx - the console: sign-in (credentials and region), the functions
// list, a function's page (configuration, invoke, logs, metrics, async,
// event source mappings, versions and aliases) and the create form.
// Routes are paths below the base (/_lambdad/console/); lambdad answers
// index.html for each of them.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  type FunctionConfiguration,
  type GetFunctionResponse,
  type Runtime,
  type ListAliasesResponse,
} from "@aws-sdk/client-lambda";
import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { strToU8, zipSync } from "fflate";
import {
  REGIONS,
  b64decode,
  cloudwatch,
  errorText,
  isNotFound,
  lambda,
  loadCreds,
  loadRegion,
  logs,
  saveCreds,
  saveRegion,
  servedRuntimes,
} from "./api";
import { Chart, type Series } from "./chart";
import "./style.css";

const BASE = import.meta.env.BASE_URL; // "/_lambdad/console/"

// ---- routing ----

function currentRoute(): string {
  const p = window.location.pathname;
  return p.startsWith(BASE) ? p.slice(BASE.length) : "";
}

let setRouteHook: ((r: string) => void) | null = null;

export function go(route: string) {
  history.pushState(null, "", BASE + route);
  setRouteHook?.(route);
}

function Link(props: { to: string; children: any; id?: string }) {
  return (
    <a
      href={BASE + props.to}
      id={props.id}
      onClick={(e) => {
        e.preventDefault();
        go(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

function ErrorBox(props: { error: any }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      {typeof props.error === "string" ? props.error : errorText(props.error)}
    </div>
  );
}

function fmtDate(s?: string | Date): string {
  if (!s) return "";
  const d = typeof s === "string" ? new Date(s) : s;
  return isNaN(d.getTime()) ? String(s) : d.toLocaleString();
}

function StateBadge(props: { state?: string; id?: string }) {
  const s = props.state || "-";
  return (
    <span id={props.id} class={`badge state-${s.toLowerCase()}`}>
      {s}
    </span>
  );
}

// ---- sign-in ----

function SignIn(props: { onDone: () => void }) {
  const [key, setKey] = useState("");
  const [secret, setSecret] = useState("");
  const [token, setToken] = useState("");
  return (
    <form
      class="card signin"
      id="signin"
      onSubmit={(e) => {
        e.preventDefault();
        saveCreds({ accessKeyId: key.trim(), secretAccessKey: secret.trim(), sessionToken: token.trim() || undefined });
        props.onDone();
      }}
    >
      <h2>Credentials</h2>
      <p class="muted">
        Requests are signed with SigV4, as the AWS CLI signs them. Under <code>--auth permissive</code> any key works;
        under <code>--auth enforce</code> use a key made by <code>lambdad keys create</code>. Kept in this tab's
        sessionStorage only.
      </p>
      <label>
        Access key ID
        <input id="access-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} required autocomplete="off" />
      </label>
      <label>
        Secret access key
        <input
          id="secret-key"
          type="password"
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
          required
          autocomplete="off"
        />
      </label>
      <label>
        Session token (optional)
        <input id="session-token" value={token} onInput={(e) => setToken(e.currentTarget.value)} autocomplete="off" />
      </label>
      <button id="signin-submit" type="submit">
        Use these credentials
      </button>
    </form>
  );
}

// ---- functions list ----

function FunctionsList() {
  const [fns, setFns] = useState<FunctionConfiguration[] | null>(null);
  const [err, setErr] = useState<any>(null);
  const load = async () => {
    setErr(null);
    try {
      const all: FunctionConfiguration[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 50; page++) {
        const r = await lambda().send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 }));
        all.push(...(r.Functions || []));
        marker = r.NextMarker;
        if (!marker) break;
      }
      setFns(all);
      // ListFunctions carries no State (as on AWS): GetFunctionConfiguration
      // has it, asked for the first 100 functions, 8 at a time
      const need = all.filter((f) => !f.State).slice(0, 100);
      for (let i = 0; i < need.length; i += 8) {
        const got = await Promise.all(
          need.slice(i, i + 8).map((f) =>
            lambda()
              .send(new GetFunctionConfigurationCommand({ FunctionName: f.FunctionName }))
              .catch(() => null),
          ),
        );
        got.forEach((g, j) => g && Object.assign(need[i + j], { State: g.State, LastUpdateStatus: g.LastUpdateStatus }));
        setFns([...all]);
      }
    } catch (e) {
      setErr(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  return (
    <section>
      <div class="toolbar">
        <h2>Functions</h2>
        <button onClick={load} id="refresh-functions">
          Refresh
        </button>
        <button onClick={() => go("create")} id="create-function">
          Create function
        </button>
      </div>
      <ErrorBox error={err} />
      {fns === null && !err && <p class="muted">Loading…</p>}
      {fns && !fns.length && <p class="muted" id="no-functions">No functions in {loadRegion()} yet.</p>}
      {fns && fns.length > 0 && (
        <table id="functions">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Runtime</th>
              <th>Last modified</th>
              <th>Memory (MB)</th>
            </tr>
          </thead>
          <tbody>
            {fns.map((f) => (
              <tr data-function={f.FunctionName}>
                <td>
                  <Link to={`functions/${encodeURIComponent(f.FunctionName!)}`}>{f.FunctionName}</Link>
                </td>
                <td>
                  <StateBadge state={f.State} />
                </td>
                <td>{f.Runtime || f.PackageType}</td>
                <td>{fmtDate(f.LastModified)}</td>
                <td>{f.MemorySize}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// ---- create ----

const roleFor = (account: string) => `arn:aws:iam::${account}:role/lambdad-console`;

// The caller's account, for a role ARN that CreateFunction accepts (a role of
// another account is refused): no Lambda operation returns it as such, but
// AWS's not-found message names the ARN of the function it looked for.
async function callerAccount(): Promise<string | null> {
  try {
    await lambda().send(new GetFunctionConfigurationCommand({ FunctionName: `console-probe-${Date.now()}` }));
  } catch (e: any) {
    const m = /arn:aws[\w-]*:lambda:[\w-]+:(\d{12}):function/.exec(e?.message || "");
    if (m) return m[1];
  }
  return null;
}

function template(runtime: string): { handler: string; code: string } {
  if (runtime.startsWith("python"))
    return {
      handler: "lambda_function.lambda_handler",
      code: `import json\n\ndef lambda_handler(event, context):\n    print("event:", json.dumps(event))\n    return {"statusCode": 200, "echo": event}\n`,
    };
  if (runtime.startsWith("nodejs"))
    return {
      handler: "index.handler",
      code: `export const handler = async (event) => {\n  console.log("event:", JSON.stringify(event));\n  return { statusCode: 200, echo: event };\n};\n`,
    };
  if (runtime.startsWith("provided"))
    return {
      handler: "bootstrap",
      code:
        `#!/bin/sh\n# a custom runtime: the Runtime API loop\nset -eu\nwhile true; do\n` +
        `  HEADERS=$(mktemp)\n  EVENT=$(curl -sS -LD "$HEADERS" "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next")\n` +
        `  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)\n` +
        `  curl -sS -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response" -d "$EVENT"\ndone\n`,
    };
  return { handler: "index.handler", code: "" };
}

// the file the handler names, for the runtime's language
function fileFor(runtime: string, handler: string): string {
  if (runtime.startsWith("provided")) return "bootstrap";
  const mod = handler.includes(".") ? handler.slice(0, handler.lastIndexOf(".")) : handler;
  if (runtime.startsWith("python")) return mod.replace(/\./g, "/") + ".py";
  if (runtime.startsWith("nodejs")) return mod + ".mjs";
  return mod;
}

function CreateFunction() {
  const [runtimes, setRuntimes] = useState<string[]>([]);
  const [name, setName] = useState("");
  const [runtime, setRuntime] = useState("");
  const [handler, setHandler] = useState("");
  const [role, setRole] = useState(roleFor("000000000000"));
  const [memory, setMemory] = useState(128);
  const [timeout, setTimeoutS] = useState(3);
  const [code, setCode] = useState("");
  const [err, setErr] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const pick = (rt: string) => {
    setRuntime(rt);
    const t = template(rt);
    setHandler(t.handler);
    setCode(t.code);
  };
  useEffect(() => {
    callerAccount().then((a) => a && setRole((r) => (r === roleFor("000000000000") ? roleFor(a) : r)));
    servedRuntimes().then((rts) => {
      setRuntimes(rts);
      pick(rts.find((r) => r.startsWith("python")) || rts[0] || "python3.12");
    });
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setBusy(true);
    try {
      const file = fileFor(runtime, handler);
      const zip = zipSync({ [file]: [strToU8(code), { os: 3, attrs: (0o100755 << 16) >>> 0 }] }, { level: 6 });
      await lambda().send(
        new CreateFunctionCommand({
          FunctionName: name.trim(),
          Runtime: runtime as Runtime,
          Handler: handler.trim(),
          Role: role.trim(),
          MemorySize: memory,
          Timeout: timeout,
          Code: { ZipFile: zip },
        }),
      );
      go(`functions/${encodeURIComponent(name.trim())}`);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card create" id="create-form" onSubmit={submit}>
      <h2>Create function</h2>
      <div class="grid2">
        <label>
          Function name
          <input id="fn-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Runtime
          <select id="fn-runtime" value={runtime} onChange={(e) => pick(e.currentTarget.value)}>
            {runtimes.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Handler
          <input id="fn-handler" value={handler} onInput={(e) => setHandler(e.currentTarget.value)} />
        </label>
        <label>
          Role ARN
          <input id="fn-role" value={role} onInput={(e) => setRole(e.currentTarget.value)} />
        </label>
        <label>
          Memory (MB)
          <input
            id="fn-memory"
            type="number"
            min={128}
            max={10240}
            value={memory}
            onInput={(e) => setMemory(Number(e.currentTarget.value))}
          />
        </label>
        <label>
          Timeout (s)
          <input
            id="fn-timeout"
            type="number"
            min={1}
            max={900}
            value={timeout}
            onInput={(e) => setTimeoutS(Number(e.currentTarget.value))}
          />
        </label>
      </div>
      <label>
        Code <span class="muted">({fileFor(runtime, handler)}, zipped in the browser)</span>
        <textarea
          id="fn-code"
          class="code"
          rows={14}
          spellcheck={false}
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
      </label>
      <ErrorBox error={err} />
      <div class="toolbar">
        <button type="submit" id="fn-create" disabled={busy}>
          {busy ? "Creating…" : "Create function"}
        </button>
        <Link to="">Cancel</Link>
      </div>
    </form>
  );
}

// ---- function page ----

const TABS = ["configuration", "invoke", "logs", "metrics", "async", "event-sources", "versions"] as const;
type Tab = (typeof TABS)[number];
const TAB_TITLES: Record<Tab, string> = {
  configuration: "Configuration",
  invoke: "Invoke",
  logs: "Logs",
  metrics: "Metrics",
  async: "Async",
  "event-sources": "Event sources",
  versions: "Versions & aliases",
};

function Field(props: { k: string; v: any; id?: string }) {
  if (props.v === undefined || props.v === null || props.v === "") return null;
  return (
    <tr>
      <th>{props.k}</th>
      <td id={props.id}>{typeof props.v === "object" ? <pre>{JSON.stringify(props.v, null, 2)}</pre> : String(props.v)}</td>
    </tr>
  );
}

function Configuration(props: { fn: GetFunctionResponse }) {
  const c = props.fn.Configuration || {};
  return (
    <div class="card">
      <table class="kv" id="configuration">
        <tbody>
          <Field k="Function ARN" v={c.FunctionArn} />
          <Field k="State" v={c.State} id="cfg-state" />
          <Field k="State reason" v={c.StateReason} />
          <Field k="LastUpdateStatus" v={c.LastUpdateStatus} id="cfg-last-update-status" />
          <Field k="LastUpdateStatus reason" v={c.LastUpdateStatusReason} />
          <Field k="Runtime" v={c.Runtime} id="cfg-runtime" />
          <Field k="Handler" v={c.Handler} />
          <Field k="Package type" v={c.PackageType} />
          <Field k="Architectures" v={c.Architectures?.join(", ")} />
          <Field k="Role" v={c.Role} />
          <Field k="Memory (MB)" v={c.MemorySize} />
          <Field k="Timeout (s)" v={c.Timeout} />
          <Field k="Ephemeral storage (MB)" v={c.EphemeralStorage?.Size} />
          <Field k="Code size (bytes)" v={c.CodeSize} />
          <Field k="Code SHA-256" v={c.CodeSha256} />
          <Field k="Last modified" v={fmtDate(c.LastModified)} />
          <Field k="Version" v={c.Version} />
          <Field k="Revision" v={c.RevisionId} />
          <Field k="Description" v={c.Description} />
          <Field k="Environment" v={c.Environment?.Variables} />
          <Field k="Layers" v={c.Layers?.map((l) => l.Arn)} />
          <Field k="Logging" v={c.LoggingConfig} />
          <Field k="Dead-letter queue" v={c.DeadLetterConfig?.TargetArn} />
          <Field k="Reserved concurrency" v={props.fn.Concurrency?.ReservedConcurrentExecutions} />
          <Field k="Tags" v={props.fn.Tags} />
        </tbody>
      </table>
    </div>
  );
}

function Invoke(props: { name: string }) {
  const [payload, setPayload] = useState('{\n  "hello": "lambdad"\n}');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<any>(null);
  const [res, setRes] = useState<{ status?: number; error?: string; version?: string; body: string; log: string } | null>(
    null,
  );
  const run = async () => {
    setErr(null);
    setRes(null);
    try {
      JSON.parse(payload || "null");
    } catch (x) {
      setErr(`The payload is not JSON: ${(x as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      const r = await lambda().send(
        new InvokeCommand({
          FunctionName: props.name,
          InvocationType: "RequestResponse",
          LogType: "Tail",
          Payload: new TextEncoder().encode(payload),
        }),
      );
      setRes({
        status: r.StatusCode,
        error: r.FunctionError,
        version: r.ExecutedVersion,
        body: r.Payload ? new TextDecoder().decode(r.Payload) : "",
        log: b64decode(r.LogResult),
      });
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card">
      <label>
        Payload (JSON)
        <textarea
          id="invoke-payload"
          class="code"
          rows={6}
          spellcheck={false}
          value={payload}
          onInput={(e) => setPayload(e.currentTarget.value)}
        />
      </label>
      <button id="invoke" onClick={run} disabled={busy}>
        {busy ? "Invoking…" : "Invoke"}
      </button>
      <ErrorBox error={err} />
      {res && (
        <div id="invoke-result">
          <p>
            Status <b id="invoke-status">{res.status}</b>
            {res.version && <> · executed version {res.version}</>}
            {res.error && (
              <>
                {" "}
                · function error <b id="invoke-function-error" class="bad">{res.error}</b>
              </>
            )}
          </p>
          <h4>Result</h4>
          <pre id="invoke-payload-out" class={res.error ? "bad" : ""}>{res.body}</pre>
          <h4>Log tail (last 4 KB)</h4>
          <pre id="invoke-log">{res.log}</pre>
        </div>
      )}
    </div>
  );
}

function Logs(props: { name: string; group: string }) {
  const [events, setEvents] = useState<FilteredLogEvent[]>([]);
  const [pattern, setPattern] = useState("");
  const [applied, setApplied] = useState("");
  const [live, setLive] = useState(true);
  const [err, setErr] = useState<any>(null);
  const state = useRef({ since: Date.now() - 3600_000, seen: new Set<string>(), gen: 0 });
  useEffect(() => {
    // a new filter pattern starts over
    state.current = { since: Date.now() - 3600_000, seen: new Set(), gen: state.current.gen + 1 };
    setEvents([]);
    const gen = state.current.gen;
    let timer: number | undefined;
    const poll = async () => {
      const st = state.current;
      try {
        const got: FilteredLogEvent[] = [];
        let token: string | undefined;
        for (let page = 0; page < 10; page++) {
          const r = await logs().send(
            new FilterLogEventsCommand({
              logGroupName: props.group,
              startTime: st.since,
              filterPattern: applied || undefined,
              nextToken: token,
              limit: 1000,
            }),
          );
          got.push(...(r.events || []));
          token = r.nextToken;
          if (!token) break;
        }
        if (gen !== state.current.gen) return;
        const fresh = got.filter((e) => e.eventId && !st.seen.has(e.eventId));
        for (const e of fresh) if ((e.timestamp || 0) > st.since) st.since = e.timestamp!;
        // the ids matter only for events at or after the next startTime
        if (st.seen.size > 10000) st.seen = new Set(got.filter((e) => (e.timestamp || 0) >= st.since).map((e) => e.eventId!));
        fresh.forEach((e) => st.seen.add(e.eventId!));
        if (fresh.length)
          setEvents((old) => [...old, ...fresh].sort((a, b) => (a.timestamp || 0) - (b.timestamp || 0)).slice(-2000));
        setErr(null);
      } catch (x) {
        if (gen === state.current.gen) setErr(x);
      }
      if (live && gen === state.current.gen) timer = window.setTimeout(poll, 2000);
    };
    poll();
    return () => {
      state.current.gen++;
      if (timer) clearTimeout(timer);
    };
  }, [props.group, applied, live]);
  return (
    <div class="card">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(pattern);
        }}
      >
        <span class="muted">
          Log group <code id="log-group">{props.group}</code>
        </span>
        <input
          id="log-filter"
          placeholder="filter pattern, e.g. ERROR or { $.level = &quot;ERROR&quot; }"
          value={pattern}
          onInput={(e) => setPattern(e.currentTarget.value)}
        />
        <button type="submit" id="log-filter-apply">
          Filter
        </button>
        <label class="inline">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> live (every 2 s)
        </label>
      </form>
      <p class="muted">CloudWatch Logs FilterLogEvents over the last hour, then every new event.</p>
      <ErrorBox error={err} />
      <div class="logs" id="log-events">
        {events.map((e) => (
          <div class="logline">
            <span class="ts">{new Date(e.timestamp || 0).toISOString()}</span>
            <span class="stream">{e.logStreamName}</span>
            <span class="msg">{(e.message || "").replace(/\r/g, "\n")}</span>
          </div>
        ))}
        {!events.length && <p class="muted">No events yet.</p>}
      </div>
    </div>
  );
}

const METRICS = [
  { id: "invocations", name: "Invocations", stat: "Sum", unit: "count" },
  { id: "errors", name: "Errors", stat: "Sum", unit: "count" },
  { id: "duration", name: "Duration", stat: "Average", unit: "ms" },
  { id: "throttles", name: "Throttles", stat: "Sum", unit: "count" },
];

function useMetrics(name: string, list: { id: string; name: string; stat: string }[]) {
  const [data, setData] = useState<Record<string, Series> | null>(null);
  const [range, setRange] = useState({ from: Date.now() - 3600_000, to: Date.now() });
  const [err, setErr] = useState<any>(null);
  const load = async () => {
    const to = Date.now();
    const from = to - 3600_000;
    setRange({ from, to });
    setErr(null);
    try {
      const out: Record<string, Series> = {};
      let token: string | undefined;
      for (let page = 0; page < 10; page++) {
        const r = await cloudwatch((c) =>
          c.send(
            new GetMetricDataCommand({
              StartTime: new Date(from),
              EndTime: new Date(to),
              NextToken: token,
              MetricDataQueries: list.map((m) => ({
                Id: m.id,
                MetricStat: {
                  Metric: { Namespace: "AWS/Lambda", MetricName: m.name, Dimensions: [{ Name: "FunctionName", Value: name }] },
                  Period: 60,
                  Stat: m.stat,
                },
              })),
            }),
          ),
        );
        for (const res of r.MetricDataResults || []) {
          const s = (out[res.Id!] ??= { timestamps: [], values: [] });
          s.timestamps.push(...(res.Timestamps || []));
          s.values.push(...(res.Values || []));
        }
        token = r.NextToken;
        if (!token) break;
      }
      setData(out);
    } catch (x) {
      setErr(x);
    }
  };
  useEffect(() => {
    load();
  }, [name]);
  return { data, range, err, load };
}

function Metrics(props: { name: string }) {
  const { data, range, err, load } = useMetrics(props.name, METRICS);
  return (
    <div class="card">
      <div class="toolbar">
        <span class="muted">CloudWatch GetMetricData, namespace AWS/Lambda, 1-minute periods, last hour</span>
        <button id="metrics-refresh" onClick={load}>
          Refresh
        </button>
      </div>
      <ErrorBox error={err} />
      <div class="charts">
        {METRICS.map((m) => (
          <Chart
            id={`chart-${m.id}`}
            title={`${m.name} (${m.stat})`}
            unit={m.unit}
            series={data?.[m.id] || null}
            from={range.from}
            to={range.to}
          />
        ))}
      </div>
    </div>
  );
}

const ASYNC_METRICS = [
  { id: "received", name: "AsyncEventsReceived", stat: "Sum", unit: "count" },
  { id: "age", name: "AsyncEventAge", stat: "Maximum", unit: "ms" },
  { id: "dropped", name: "AsyncEventsDropped", stat: "Sum", unit: "count" },
];

function Async(props: { name: string }) {
  const [cfg, setCfg] = useState<any>(undefined);
  const [err, setErr] = useState<any>(null);
  const m = useMetrics(props.name, ASYNC_METRICS);
  useEffect(() => {
    lambda()
      .send(new GetFunctionEventInvokeConfigCommand({ FunctionName: props.name }))
      .then((r) => setCfg(r))
      .catch((x) => (isNotFound(x) ? setCfg(null) : setErr(x)));
  }, [props.name]);
  return (
    <div class="card">
      <h3>Event invoke config</h3>
      <ErrorBox error={err} />
      {cfg === null && (
        <p class="muted" id="async-config-none">
          None configured: AWS's defaults apply (2 retries, events kept for 6 hours, no destinations).
        </p>
      )}
      {cfg && (
        <table class="kv" id="async-config">
          <tbody>
            <Field k="Maximum retry attempts" v={cfg.MaximumRetryAttempts} />
            <Field k="Maximum event age (s)" v={cfg.MaximumEventAgeInSeconds} />
            <Field k="On success" v={cfg.DestinationConfig?.OnSuccess?.Destination} />
            <Field k="On failure" v={cfg.DestinationConfig?.OnFailure?.Destination} />
            <Field k="Last modified" v={fmtDate(cfg.LastModified)} />
          </tbody>
        </table>
      )}
      <h3>Queue</h3>
      <p class="muted" id="async-queue-note">
        The depth of the async queue is not exposed through any AWS API (AWS has none for it either), so the console
        cannot show it. What CloudWatch's AWS/Lambda namespace does define for asynchronous invocation is shown
        below, where lambdad records it: events received, the age of the oldest event taken from the queue, and
        events dropped.
      </p>
      <ErrorBox error={m.err} />
      <div class="charts">
        {ASYNC_METRICS.map((a) => (
          <Chart
            id={`chart-${a.id}`}
            title={`${a.name} (${a.stat})`}
            unit={a.unit}
            series={m.data?.[a.id] || null}
            from={m.range.from}
            to={m.range.to}
          />
        ))}
      </div>
    </div>
  );
}

function EventSources(props: { name: string }) {
  const [esms, setEsms] = useState<any[] | null>(null);
  const [err, setErr] = useState<any>(null);
  const load = async () => {
    setErr(null);
    try {
      const all: any[] = [];
      let marker: string | undefined;
      for (let page = 0; page < 20; page++) {
        const r = await lambda().send(new ListEventSourceMappingsCommand({ FunctionName: props.name, Marker: marker }));
        all.push(...(r.EventSourceMappings || []));
        marker = r.NextMarker;
        if (!marker) break;
      }
      setEsms(all);
    } catch (x) {
      setErr(x);
    }
  };
  useEffect(() => {
    load();
  }, [props.name]);
  return (
    <div class="card">
      <div class="toolbar">
        <button onClick={load}>Refresh</button>
      </div>
      <ErrorBox error={err} />
      {esms && !esms.length && <p class="muted" id="esm-none">No event source mappings.</p>}
      {esms && esms.length > 0 && (
        <table id="esms">
          <thead>
            <tr>
              <th>UUID</th>
              <th>Source</th>
              <th>State</th>
              <th>State transition reason</th>
              <th>Last processing result</th>
              <th>Batch size</th>
            </tr>
          </thead>
          <tbody>
            {esms.map((m) => (
              <tr>
                <td>{m.UUID}</td>
                <td>{m.EventSourceArn || JSON.stringify(m.SelfManagedEventSource?.Endpoints || "")}</td>
                <td>
                  <StateBadge state={m.State} />
                </td>
                <td>{m.StateTransitionReason}</td>
                <td>{m.LastProcessingResult}</td>
                <td>{m.BatchSize}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Versions(props: { name: string }) {
  const [versions, setVersions] = useState<FunctionConfiguration[] | null>(null);
  const [aliases, setAliases] = useState<any[] | null>(null);
  const [err, setErr] = useState<any>(null);
  useEffect(() => {
    (async () => {
      try {
        const v: FunctionConfiguration[] = [];
        let marker: string | undefined;
        for (let page = 0; page < 20; page++) {
          const r = await lambda().send(new ListVersionsByFunctionCommand({ FunctionName: props.name, Marker: marker }));
          v.push(...(r.Versions || []));
          marker = r.NextMarker;
          if (!marker) break;
        }
        setVersions(v);
        const a: any[] = [];
        marker = undefined;
        for (let page = 0; page < 20; page++) {
          const r: ListAliasesResponse = await lambda().send(new ListAliasesCommand({ FunctionName: props.name, Marker: marker }));
          a.push(...(r.Aliases || []));
          marker = r.NextMarker;
          if (!marker) break;
        }
        setAliases(a);
      } catch (x) {
        setErr(x);
      }
    })();
  }, [props.name]);
  return (
    <div class="card">
      <ErrorBox error={err} />
      <h3>Versions</h3>
      {versions && (
        <table id="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>State</th>
              <th>Description</th>
              <th>Code SHA-256</th>
              <th>Last modified</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr>
                <td>{v.Version}</td>
                <td>
                  <StateBadge state={v.State} />
                </td>
                <td>{v.Description}</td>
                <td class="mono">{v.CodeSha256}</td>
                <td>{fmtDate(v.LastModified)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Aliases</h3>
      {aliases && !aliases.length && <p class="muted">No aliases.</p>}
      {aliases && aliases.length > 0 && (
        <table id="aliases">
          <thead>
            <tr>
              <th>Alias</th>
              <th>Version</th>
              <th>Routing</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {aliases.map((a) => (
              <tr>
                <td>{a.Name}</td>
                <td>{a.FunctionVersion}</td>
                <td>{a.RoutingConfig?.AdditionalVersionWeights ? JSON.stringify(a.RoutingConfig.AdditionalVersionWeights) : ""}</td>
                <td>{a.Description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function FunctionPage(props: { name: string; tab: Tab }) {
  const [fn, setFn] = useState<GetFunctionResponse | null>(null);
  const [err, setErr] = useState<any>(null);
  useEffect(() => {
    let stop = false;
    let timer: number | undefined;
    let polls = 0;
    const load = async () => {
      try {
        const r = await lambda().send(new GetFunctionCommand({ FunctionName: props.name }));
        if (stop) return;
        setFn(r);
        setErr(null);
        const c = r.Configuration || {};
        // follow a transition (Pending, InProgress) until it settles
        if ((c.State === "Pending" || c.LastUpdateStatus === "InProgress") && polls++ < 300)
          timer = window.setTimeout(load, 1000);
      } catch (x) {
        if (!stop) setErr(x);
      }
    };
    load();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [props.name]);
  const c = fn?.Configuration;
  const group = c?.LoggingConfig?.LogGroup || `/aws/lambda/${props.name}`;
  const base = `functions/${encodeURIComponent(props.name)}`;
  return (
    <section>
      <p class="crumbs">
        <Link to="">Functions</Link> / <b id="function-name">{props.name}</b>
      </p>
      <ErrorBox error={err} />
      {c && (
        <div class="summary">
          <span>
            State <StateBadge state={c.State} id="fn-state" />
          </span>
          <span>
            LastUpdateStatus <StateBadge state={c.LastUpdateStatus} id="fn-last-update-status" />
          </span>
          <span>{c.Runtime || c.PackageType}</span>
          <span>{c.MemorySize} MB</span>
          <span class="muted">modified {fmtDate(c.LastModified)}</span>
        </div>
      )}
      <nav class="tabs">
        {TABS.map((t) => (
          <Link to={t === "configuration" ? base : `${base}/${t}`} id={`tab-${t}`}>
            <span class={t === props.tab ? "tab active" : "tab"}>{TAB_TITLES[t]}</span>
          </Link>
        ))}
      </nav>
      {fn && props.tab === "configuration" && <Configuration fn={fn} />}
      {props.tab === "invoke" && <Invoke name={props.name} />}
      {props.tab === "logs" && fn && <Logs name={props.name} group={group} />}
      {props.tab === "metrics" && <Metrics name={props.name} />}
      {props.tab === "async" && <Async name={props.name} />}
      {props.tab === "event-sources" && <EventSources name={props.name} />}
      {props.tab === "versions" && <Versions name={props.name} />}
    </section>
  );
}

// ---- the frame ----

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [signedIn, setSignedIn] = useState(!!loadCreds());
  const [region, setRegion] = useState(loadRegion());
  setRouteHook = setRoute;
  useEffect(() => {
    const pop = () => setRoute(currentRoute());
    window.addEventListener("popstate", pop);
    return () => window.removeEventListener("popstate", pop);
  }, []);
  let page;
  const parts = route.split("/").filter(Boolean);
  if (!signedIn) page = <SignIn onDone={() => setSignedIn(true)} />;
  else if (parts[0] === "create") page = <CreateFunction />;
  else if (parts[0] === "functions" && parts[1]) {
    const tab = (TABS as readonly string[]).includes(parts[2]) ? (parts[2] as Tab) : "configuration";
    page = <FunctionPage key={`${region}/${parts[1]}`} name={decodeURIComponent(parts[1])} tab={tab} />;
  } else page = <FunctionsList key={region} />;
  const creds = loadCreds();
  return (
    <>
      <header>
        <Link to="">
          <span class="logo">λ lambdad</span>
        </Link>
        <span class="spacer" />
        <label class="inline">
          Region{" "}
          <select
            id="region"
            value={region}
            onChange={(e) => {
              saveRegion(e.currentTarget.value);
              setRegion(e.currentTarget.value);
            }}
          >
            {(REGIONS.includes(region) ? REGIONS : [region, ...REGIONS]).map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        {creds && (
          <>
            <span class="muted" id="whoami">
              {creds.accessKeyId}
            </span>
            <button
              id="signout"
              class="link"
              onClick={() => {
                saveCreds(null);
                setSignedIn(false);
              }}
            >
              Change credentials
            </button>
          </>
        )}
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
