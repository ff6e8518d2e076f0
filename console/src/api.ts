// api.ts - the console's only way to lambdad: the AWS SDK for JavaScript v3
// clients (Lambda, CloudWatch Logs, CloudWatch) pointed at the page's own
// origin, signing with the credentials the user entered (sessionStorage).
import { LambdaClient } from "@aws-sdk/client-lambda";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { AwsSmithyRpcV2CborProtocol } from "@aws-sdk/core/protocols";

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const CREDS_KEY = "lambdad.console.credentials";
const REGION_KEY = "lambdad.console.region";
export const DEFAULT_REGION = "us-east-1";
export const REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
  "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1",
  "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
];

export function loadCreds(): Creds | null {
  try {
    const c = JSON.parse(sessionStorage.getItem(CREDS_KEY) || "null");
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}

export function saveCreds(c: Creds | null) {
  if (c) sessionStorage.setItem(CREDS_KEY, JSON.stringify(c));
  else sessionStorage.removeItem(CREDS_KEY);
  reset();
}

export function loadRegion(): string {
  return sessionStorage.getItem(REGION_KEY) || DEFAULT_REGION;
}

export function saveRegion(r: string) {
  sessionStorage.setItem(REGION_KEY, r);
  reset();
}

function common() {
  const c = loadCreds();
  return {
    region: loadRegion(),
    endpoint: window.location.origin,
    // no retries: a retried Invoke could run the function twice; the
    // user (or the next poll) tries again
    maxAttempts: 1,
    credentials: async () => {
      if (!c) throw new Error("no credentials: enter an access key first");
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken || undefined };
    },
  };
}

let lambdaC: LambdaClient | null = null;
let logsC: CloudWatchLogsClient | null = null;
let cwJson: CloudWatchClient | null = null;
let cwCbor: CloudWatchClient | null = null;
// which protocol lambdad's CloudWatch API answered last (AWS serves both)
let cwProtocol: "json" | "cbor" = "json";

function reset() {
  lambdaC = logsC = cwJson = cwCbor = null;
}

export function lambda(): LambdaClient {
  return (lambdaC ??= new LambdaClient(common()));
}

export function logs(): CloudWatchLogsClient {
  return (logsC ??= new CloudWatchLogsClient(common()));
}

function isUnknownOperation(e: any): boolean {
  const s = e?.$metadata?.httpStatusCode;
  return e?.name === "UnknownOperationException" || s === 404 || s === 415;
}

// CloudWatch: the JavaScript SDK speaks AWS JSON 1.0 to it, botocore the
// Smithy RPC v2 CBOR protocol; the console tries JSON first and falls back
// to CBOR when lambdad answers that it does not know the operation.
export async function cloudwatch<T>(run: (c: CloudWatchClient) => Promise<T>): Promise<T> {
  cwJson ??= new CloudWatchClient(common());
  cwCbor ??= new CloudWatchClient({ ...common(), protocol: AwsSmithyRpcV2CborProtocol } as any);
  const order = cwProtocol === "json" ? [cwJson, cwCbor] : [cwCbor, cwJson];
  try {
    return await run(order[0]);
  } catch (e) {
    if (!isUnknownOperation(e)) throw e;
    let r: T;
    try {
      r = await run(order[1]);
    } catch (e2) {
      throw isUnknownOperation(e2) || (e2 as any)?.$metadata?.httpStatusCode === 404 ? e : e2;
    }
    cwProtocol = cwProtocol === "json" ? "cbor" : "json";
    return r;
  }
}

// AWS's error as it came back: its type (the exception's name) and message
export function errorText(e: any): string {
  if (!e) return "";
  const status = e.$metadata?.httpStatusCode;
  const name = e.name && e.name !== "Error" ? e.name : "";
  const msg = e.message || String(e);
  return `${name ? name + ": " : ""}${msg}${status ? ` (HTTP ${status})` : ""}`;
}

export function isNotFound(e: any): boolean {
  return e?.name === "ResourceNotFoundException" || e?.$metadata?.httpStatusCode === 404;
}

const dec = new TextDecoder();
export function b64decode(s: string | undefined): string {
  if (!s) return "";
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return dec.decode(bytes);
}

// The runtimes lambdad serves (GET /_lambdad/console/runtimes.json, next to
// the console's files: which interpreters this host has is no AWS API)
export async function servedRuntimes(): Promise<string[]> {
  try {
    const r = await fetch(import.meta.env.BASE_URL + "runtimes.json");
    if (!r.ok) throw new Error(String(r.status));
    const j = await r.json();
    if (Array.isArray(j.Runtimes)) return j.Runtimes;
  } catch {
    /* fall through */
  }
  return ["python3.12", "nodejs20.x", "provided.al2023"];
}
