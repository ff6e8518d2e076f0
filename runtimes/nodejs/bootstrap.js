/*
 * lambdad's runtime client for the nodejs family.
 *
 * Started by lambdad as `node /var/runtime/bootstrap.js` in an execution
 * environment (cwd /var/task, code at /var/task, layers at /opt). It speaks
 * the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API with node's `http`
 * module and one keep-alive socket: GET /invocation/next, call the handler
 * named by $_HANDLER, POST /invocation/{id}/response or /error; an init
 * failure is posted to /init/error and the process exits 129.
 *
 * Behaviour follows AWS's nodejs runtime interface client: handler
 * resolution (CommonJS, ES modules, .js/.mjs/.cjs, "type": "module"), the
 * Runtime.* errors and their error document ({errorType, errorMessage,
 * trace}), async handlers, callback handlers with
 * context.callbackWaitsForEmptyEventLoop (the response is sent once the
 * event loop is empty, through 'beforeExit', unless the flag is false),
 * context.succeed/fail/done, and console.* rewritten to
 * "TIMESTAMP\tREQUEST_ID\tLEVEL\tmessage" (or JSON with
 * AWS_LAMBDA_LOG_FORMAT=JSON, filtered by AWS_LAMBDA_LOG_LEVEL).
 *
 * Response streaming, as AWS's client does it: a handler wrapped by
 * awslambda.streamifyResponse(handler, {highWaterMark}) is called as
 * handler(event, responseStream, context); responseStream is a Writable
 * whose bytes go out as they are written, in one chunked POST
 * .../response with Lambda-Runtime-Function-Response-Mode: streaming (the
 * request starts at the first write, so setContentType works until then).
 * awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies})
 * sets the content type application/vnd.awslambda.http-integration-response
 * and writes the JSON prelude and 8 NUL bytes before the first write. An
 * error before any byte is posted to /error; after, it goes in the
 * Lambda-Runtime-Function-Error-Type / -Body (base64 JSON) trailers. The
 * stream ends when the handler's promise resolves, if the handler has not
 * ended it.
 */

'use strict';

const util = require('util');
const http = require('http');
const path = require('path');
const fs = require('fs');

/* ------------------------------------------------------------ Errors --- */

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const e of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError,
  MalformedStreamingHandler, InvalidStreamingOperation, UnhandledPromiseRejection]) {
  e.prototype.name = `Runtime.${e.name}`;
}

function isErrorLike(obj) {
  return obj && obj.name && obj.message && obj.stack && typeof obj.name === 'string' &&
    typeof obj.message === 'string' && typeof obj.stack === 'string';
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/* The error document posted to the Runtime API. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign({ errorType: error.name, errorMessage: error.message, code: error.code }, error);
    if (typeof error.stack == 'string') ret.stack = error.stack.split('\n');
    return ret;
  }
  return error;
}

/* The error as logged in text format; it always starts with a tab. */
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

/* ------------------------------------------------------------ Logging -- */

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID_SYMBOL = Symbol.for('aws.lambda.runtime.tenantId');
const LOG_FORMAT_JSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';
const structuredConsole = {};

function jsonErrorReplacer(_, value) {
  if (value instanceof Error) {
    return Object.assign({
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    }, value);
  }
  return value;
}

function formatJsonMessage(requestId, timestamp, level, ...messageParams) {
  const result = { timestamp, level: level.name, requestId };
  const tenantId = global[TENANT_ID_SYMBOL];
  if (tenantId !== undefined && tenantId !== null) result.tenantId = tenantId;
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function logText(level, message, ...params) {
  let line = `${new Date().toISOString()}\t${global[REQUEST_ID_SYMBOL]}\t${level.name}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function logJson(level, message, ...params) {
  const line = formatJsonMessage(global[REQUEST_ID_SYMBOL], new Date().toISOString(), level, message, ...params);
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const levels = {
    TRACE: { name: 'TRACE', priority: 1 },
    DEBUG: { name: 'DEBUG', priority: 2 },
    INFO: { name: 'INFO', priority: 3 },
    WARN: { name: 'WARN', priority: 4 },
    ERROR: { name: 'ERROR', priority: 5 },
    FATAL: { name: 'FATAL', priority: 6 },
  };
  const min = levels[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || levels.TRACE;
  const log = LOG_FORMAT_JSON ? logJson : logText;
  const nop = () => {};
  const at = (level) => (level.priority >= min.priority ? (msg, ...params) => log(level, msg, ...params) : nop);
  console.trace = at(levels.TRACE);
  console.debug = at(levels.DEBUG);
  console.info = at(levels.INFO);
  console.log = console.info;
  console.warn = at(levels.WARN);
  console.error = at(levels.ERROR);
  console.fatal = (msg, ...params) => log(levels.FATAL, msg, ...params);
  structuredConsole.logError = LOG_FORMAT_JSON
    ? (_, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(intoError(err)));
}

/* -------------------------------------------------------- Runtime API -- */

const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

class RuntimeClient {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    this.hostname = hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    this.port = parseInt(hostPort.slice(i + 1), 10);
    // One socket, kept alive; an idle socket in the agent's pool is unref'd,
    // so it never keeps the event loop (and 'beforeExit') from happening.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /* Resolves {status, headers, body: Buffer}. A request on a kept-alive
   * socket that the server had closed is sent again once, on a new one. */
  request(method, urlPath, headers, body, retried) {
    return new Promise((resolve, reject) => {
      const req = http.request({
        hostname: this.hostname, port: this.port, path: urlPath, method, agent: this.agent,
        headers: Object.assign(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}, headers),
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (e) => {
        if (!retried && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          this.request(method, urlPath, headers, body, true).then(resolve, reject);
        } else {
          reject(e);
        }
      });
      req.end(body);
    });
  }

  async nextInvocation() {
    const res = await this.request('GET', '/2018-06-01/runtime/invocation/next', {});
    if (res.status !== 200) {
      throw new Error(`Request to Lambda Runtime 'next' endpoint failed. Reason: '${res.status}'. Response body: '${res.body.toString()}'`);
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  _post(urlPath, bodyString, headers, callback) {
    this.request('POST', urlPath, Object.assign({ 'Content-Type': 'application/json' }, headers), bodyString)
      .then((res) => {
        if (res.status !== 202) {
          process.stderr.write(`Request to Lambda Runtime '${urlPath}' endpoint failed. Reason: '${res.status}'. Response body: '${res.body.toString().trim()}'\n`);
        }
        callback();
      }, (e) => {
        throw e; // the Runtime API is gone: let uncaughtException end the process
      });
  }

  postInvocationResponse(response, id, callback) {
    const bodyString = trySerializeResponse(response);
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`, bodyString, {}, callback);
  }

  postInvocationError(error, id, callback) {
    const response = toRapidResponse(error);
    const bodyString = trySerializeResponse(response);
    const headers = { [ERROR_TYPE_HEADER]: headerValue(response.errorType) };
    const xray = xrayCause(error);
    if (xray !== undefined) headers['Lambda-Runtime-Function-XRay-Error-Cause'] = xray;
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`, bodyString, headers, callback);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this._post('/2018-06-01/runtime/init/error', trySerializeResponse(response),
      { [ERROR_TYPE_HEADER]: headerValue(response.errorType) }, callback);
  }
}

function trySerializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (err) {
    throw new Error('Unable to stringify response body');
  }
}

function headerValue(s) {
  return String(s).replace(/[^\x20-\x7e]/g, '?');
}

/* X-Ray's view of an error (Lambda-Runtime-Function-XRay-Error-Cause). */
function xrayCause(error) {
  try {
    const err = intoError(error);
    const stack = [];
    const paths = new Set();
    for (const line of String(err.stack || '').split('\n').slice(1)) {
      const m = line.match(/^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/);
      if (!m) continue;
      stack.push({ path: m[2], line: parseInt(m[3], 10), label: m[1] || 'anonymous' });
      paths.add(m[2]);
    }
    const s = JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: err.name, message: err.message, stack }],
      paths: [...paths],
    }).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    return s.length < 1024 * 1024 ? s : undefined;
  } catch (_) {
    return undefined;
  }
}

/* ---------------------------------------------------- Handler loading -- */

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/* The response stream of one streamed invocation (see the top of the file).
 * onDone() runs once, when lambdad has answered the POST (or it failed). */
function createResponseStream(client, id, highWaterMark, onDone) {
  const { Writable } = require('stream');
  let req = null;
  let contentType = 'application/octet-stream';
  let before = null;
  let wrote = false;
  let doneCalled = false;
  const done = (err) => {
    if (doneCalled) return;
    doneCalled = true;
    onDone(err);
  };
  const open = () => {
    if (req) return;
    req = http.request({
      hostname: client.hostname, port: client.port, method: 'POST', agent: false,
      path: `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      headers: {
        'Content-Type': contentType,
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 202) {
          process.stderr.write(`Request to Lambda Runtime 'response' endpoint failed. Reason: '${res.statusCode}'. Response body: '${Buffer.concat(chunks).toString().trim()}'\n`);
        }
        done();
      });
    });
    req.on('error', (e) => done(e));
    req.setNoDelay(true);
    if (before) {
      const b = before;
      before = null;
      b((data) => req.write(data));
    }
  };
  const stream = new Writable({
    highWaterMark: highWaterMark || undefined,
    write(chunk, encoding, callback) {
      open();
      wrote = true;
      req.write(chunk, encoding, callback);
    },
    final(callback) {
      open();
      req.end();
      callback();
    },
  });
  stream.setContentType = (type) => {
    if (req) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    contentType = type;
  };
  Object.defineProperty(stream, '_onBeforeFirstWrite', {
    set(fn) { before = fn; },
    get() { return before; },
  });
  /* an error: to /error while nothing was sent, else in the trailers */
  stream.fail = (error) => {
    if (!req && !wrote) {
      client.postInvocationError(error, id, () => done());
      return;
    }
    open();
    const response = toRapidResponse(error);
    try {
      req.addTrailers({
        'Lambda-Runtime-Function-Error-Type': headerValue(response.errorType),
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(response)).toString('base64'),
      });
    } catch (_) { /* the request already ended */ }
    req.end();
  };
  return stream;
}

function defineGlobalAwsLambda() {
  const v = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (v === '1' || v === 'true') return;
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream: class HttpResponseStream {
      static from(underlyingStream, prelude) {
        underlyingStream.setContentType(HTTP_PRELUDE_CONTENT_TYPE);
        const metadata = JSON.stringify(prelude || {});
        underlyingStream._onBeforeFirstWrite = (write) => {
          write(metadata);
          write(new Uint8Array(8));
        };
        return underlyingStream;
      }
    },
  };
}

function tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

// ES modules do not look in NODE_PATH, but AWS's runtimes let an ES module
// handler import what the runtime ships (the @aws-sdk v3 clients in
// /var/runtime/node_modules) and its layers' /opt/nodejs/... packages: a
// resolve hook retries a bare specifier from each NODE_PATH directory when
// the ordinary resolution (from /var/task up) finds nothing. Registered once,
// before the first ES module handler is imported (node >= 18.19 / 20.6).
const ESM_NODE_PATH_HOOK = `
let dirs = [];
export async function initialize(data) { dirs = data.dirs; }
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const bare = !/^([./]|[a-z]+:)/i.test(specifier);
    if (!bare || !e || e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    for (const d of dirs) {
      try {
        return await next(specifier, { ...context, parentURL: 'file://' + d + '/lambdad-node-path.mjs' });
      } catch (e2) {}
    }
    throw e;
  }
}`;
let esmHookRegistered = false;

function registerEsmNodePathHook() {
  if (esmHookRegistered) return;
  esmHookRegistered = true;
  const mod = require('module');
  const dirs = (process.env.NODE_PATH || '').split(':').filter((d) => d.startsWith('/'));
  if (typeof mod.register !== 'function' || dirs.length === 0) return;
  mod.register('data:text/javascript,' + encodeURIComponent(ESM_NODE_PATH_HOOK), { data: { dirs } });
}

async function tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  if (fs.existsSync(p)) {
    registerEsmNodePathHook();
    return await import(require('url').pathToFileURL(p).href);
  }
  return undefined;
}

function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;

  const pjHasModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;

  // require() resolves relative to this file, not the function's root.
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

async function loadUserApp(appRoot, moduleRoot, module) {
  defineGlobalAwsLambda();
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`);
  }
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length != 3) throw new MalformedHandlerName('Bad handler');
  const [, module, handlerPath] = match;

  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = handlerPath.split('.').reduce((nested, key) => nested && nested[key], userApp);
  if (!handlerFunc) throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  if (typeof handlerFunc !== 'function') throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  return handlerFunc;
}

/* ------------------------------------------------------- Invoke loop --- */

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const NO_OP = () => {};
const beforeExit = {
  invoke: () => global[BEFORE_EXIT](),
  reset: () => (global[BEFORE_EXIT] = NO_OP),
  set: (listener) => (global[BEFORE_EXIT] = listener),
};

/* The callback and the succeed/fail/done part of the context; only the
 * first call of any of them counts. */
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, callback) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, callback);
  };
  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (isCompleteInvoked) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, callback);
  };
  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit.set(() => setImmediate(() => complete(result, scheduleNext)));
    }
  };
  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

  let finished = false;
  const once = (fn) => function () {
    if (!finished) {
      fn.apply(null, arguments);
      finished = true;
    }
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
    set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
    succeed: once(succeed),
    fail: once(fail),
    done: once(done),
  };
  return [once(callback), context, () => { isCompleteInvoked = true; }];
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function attachEnvironmentData(context, headers) {
  const trace = headers['lambda-runtime-trace-id'];
  if (trace) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const deadline = headers['lambda-runtime-deadline-ms'];
  return Object.assign(context, {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
  }, {
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: function () {
      return deadline - Date.now();
    },
  });
}

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.errorCallbacks = errorCallbacks;
    this.streaming = handler[HANDLER_STREAMING] === STREAM_RESPONSE;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(() => {}, (err) => {
        console.log(`Unexpected Top Level Error: ${err.toString()}`);
        this.errorCallbacks.uncaughtException(err);
      });
    });
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = headers['lambda-runtime-aws-request-id'];
    if (!invokeId) throw new Error('invocation id is missing or invalid');
    global[REQUEST_ID_SYMBOL] = invokeId;
    global[TENANT_ID_SYMBOL] = headers['lambda-runtime-aws-tenant-id'];

    const [callback, callbackContext, markCompleted] =
      buildCallbackContext(this.client, invokeId, this.scheduleIteration.bind(this));
    try {
      this.setErrorCallbacks(invokeId);
      // A handler that neither returns a promise nor calls back answers null
      // once the event loop is empty.
      beforeExit.set(() => {
        markCompleted();
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
      });
      const context = attachEnvironmentData(callbackContext, headers);
      if (this.streaming) {
        beforeExit.reset();
        this.handleStreaming(invokeId, JSON.parse(bodyJson), context);
        return;
      }
      const result = this.handler(JSON.parse(bodyJson), context, callback);
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  handleStreaming(invokeId, event, context) {
    let settled = false;
    const stream = createResponseStream(this.client, invokeId, this.handler[HANDLER_HIGHWATERMARK], (err) => {
      if (err) throw err; // the Runtime API is gone
      this.scheduleIteration();
    });
    const fail = (err) => {
      if (settled) return;
      settled = true;
      structuredConsole.logError('Invoke Error', err);
      stream.fail(err);
    };
    this.errorCallbacks.uncaughtException = (error) => { fail(error); setTimeout(() => process.exit(129), 100); };
    this.errorCallbacks.unhandledRejection = (error) => { fail(error); setTimeout(() => process.exit(128), 100); };
    stream.on('error', fail);
    try {
      const result = this.handler(event, stream, context);
      if (isPromise(result)) {
        result.then(() => {
          if (!settled && !stream.writableEnded) stream.end();
        }, fail);
      }
    } catch (err) {
      fail(err);
    }
  }

  setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }
}

async function main() {
  patchConsole();
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API);
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handler = await loadHandler(appRoot, process.env._HANDLER || '');
  new Runtime(client, handler, errorCallbacks).scheduleIteration();
}

main().catch((error) => {
  // An init failure: reported the way an uncaught exception at init is.
  process.emit('uncaughtException', error);
});
