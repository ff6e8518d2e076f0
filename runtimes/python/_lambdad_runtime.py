"""lambdad's runtime client for the python3.x family.

Loaded by bootstrap.py, which lambdad starts as
`python3.X /var/runtime/bootstrap.py` in an execution
environment (cwd /var/task, code at /var/task, layers at /opt). It speaks the
Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API over one keep-alive HTTP/1.1
connection on a plain socket: GET /invocation/next, call the handler named by
$_HANDLER, POST /invocation/{id}/response or /error; init failures go to
POST /init/error and the process exits 1.

Behaviour follows AWS's python runtime interface client (awslambdaric): its
handler resolution, error documents, context object, JSON marshalling, the
`logging` root handler and its text/JSON formats, and the error lines it
writes to stdout.

Start-up cost is the point of this file: it imports only built-in or
already-loaded modules (sys, os, time, _socket, _json). json, re, traceback,
http.client and urllib are never imported on the normal path; `logging` is
configured through an import hook only if the function's code imports it.
Runs on python 3.8 and later.
"""

import os
import sys
import time
import _json
import _socket

# ---------------------------------------------------------------- JSON ----
# The C accelerators of the json package, used directly: importing `json`
# pulls in `re` (tens of milliseconds). Output is byte-for-byte what
# json.dumps gives with its defaults; anything the fast decoder refuses is
# handed to the real json module, which also produces the exact errors.

_INF = float("inf")
_CONSTANTS = {"-Infinity": -_INF, "Infinity": _INF, "NaN": float("nan")}


class _DecodeContext(object):
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo = {}


_scan_once = _json.make_scanner(_DecodeContext())
_WS = " \t\n\r"


def _fast_loads(s):
    if not isinstance(s, str):
        s = s.decode("utf-8")
    n = len(s)
    i = 0
    while i < n and s[i] in _WS:
        i += 1
    obj, end = _scan_once(s, i)
    while end < n and s[end] in _WS:
        end += 1
    if end != n:
        raise ValueError("extra data")
    return obj


def json_loads(s):
    try:
        return _fast_loads(s)
    except Exception:
        import json

        return json.loads(bytes(s) if isinstance(s, bytearray) else s)


def _json_default(o):
    t = type(o)
    if t.__name__ == "Decimal" and t.__module__ == "decimal":
        # awslambdaric (simplejson) writes a Decimal's digits verbatim; the
        # standard encoder cannot emit raw text, so integers stay exact and
        # the rest go through float.
        if o.is_nan():
            return float("nan")
        if o == o.to_integral_value():
            return int(o)
        return float(o)
    raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)


def json_dumps(obj, ensure_ascii=True):
    enc = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    if isinstance(obj, str):
        return enc(obj)
    it = _json.make_encoder({}, _json_default, enc, None, ": ", ", ", False, False, True)
    return "".join(it(obj, 0))


# awslambdaric's marshaller keeps non-ASCII characters only on python3.12.
_RESULT_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in ("AWS_Lambda_python3.12",)


def to_json(obj):
    return json_dumps(obj, _RESULT_ASCII)


# ---------------------------------------------------------- Runtime API ----


class RuntimeAPIError(Exception):
    pass


class _Closed(Exception):
    def __init__(self, empty):
        self.empty = empty


_USER_AGENT = ("aws-lambda-python/%d.%d.%d-lambdad" % sys.version_info[:3]).encode()


class RuntimeClient(object):
    """One keep-alive HTTP/1.1 connection to the Runtime API. Requests carry
    a Content-Length body; responses are read by Content-Length (the Runtime
    API never answers chunked)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.host = host
        self.port = int(port)
        self.host_header = address.encode("latin-1")
        self.sock = None
        self.buf = b""

    def _connect(self):
        family = _socket.AF_INET6 if ":" in self.host else _socket.AF_INET
        s = _socket.socket(family, _socket.SOCK_STREAM)
        try:
            s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            s.connect((self.host, self.port))
        except BaseException:
            s.close()
            raise
        self.sock = s
        self.buf = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.buf = b""

    def request(self, method, path, headers=(), body=None):
        """Returns (status, headers with lower-case names, body bytes)."""
        head = [b"%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                % (method, path, self.host_header, _USER_AGENT)]
        for name, value in headers:
            head.append(b"%s: %s\r\n" % (name, value))
        if body is not None:
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(b"\r\n")
        head = b"".join(head)
        if body is not None and len(body) <= 65536:
            head += body
            body = None
        while True:
            reused = self.sock is not None
            if not reused:
                self._connect()
            try:
                self.sock.sendall(head)
                if body:
                    self.sock.sendall(body)
                return self._read_response()
            except (_Closed, OSError) as e:
                self.close()
                # A kept-alive connection the server had already closed:
                # nothing of an answer came back, so send again on a new one.
                if reused and (not isinstance(e, _Closed) or e.empty):
                    continue
                if isinstance(e, _Closed):
                    raise RuntimeAPIError("connection closed by the Runtime API")
                raise

    def _read_response(self):
        sock = self.sock
        buf = self.buf
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            if len(buf) > 65536:
                raise RuntimeAPIError("response headers too large")
            chunk = sock.recv(65536)
            if not chunk:
                raise _Closed(not buf)
            buf += chunk
        lines = buf[:i].decode("latin-1").split("\r\n")
        rest = buf[i + 4:]
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise RuntimeAPIError("bad status line: %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise RuntimeAPIError("chunked responses are not supported")
        n = int(headers.get("content-length") or 0)
        if len(rest) >= n:
            body = rest[:n]
            self.buf = rest[n:]
        else:
            body = bytearray(n)
            view = memoryview(body)
            got = len(rest)
            view[:got] = rest
            while got < n:
                k = sock.recv_into(view[got:])
                if not k:
                    raise _Closed(False)
                got += k
            self.buf = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def next_invocation(self):
        status, headers, body = self.request(b"GET", b"/2018-06-01/runtime/invocation/next")
        if status != 200:
            raise RuntimeAPIError(
                "Request to Lambda Runtime 'next' endpoint failed. Reason: '%d'. Response body: '%s'"
                % (status, bytes(body).decode("utf-8", "replace")))
        return headers, body

    def post_result(self, request_id, body, content_type):
        path = b"/2018-06-01/runtime/invocation/%s/response" % _quote(request_id)
        status, _, rbody = self.request(b"POST", path, ((b"Content-Type", content_type),), body)
        self._check(status, rbody, "response")

    def post_error(self, request_id, body, error_type, xray_cause):
        path = b"/2018-06-01/runtime/invocation/%s/error" % _quote(request_id)
        hdrs = [(b"Content-Type", b"application/json"),
                (b"Lambda-Runtime-Function-Error-Type", _header_value(error_type))]
        if xray_cause is not None:
            hdrs.append((b"Lambda-Runtime-Function-XRay-Error-Cause", xray_cause))
        status, _, rbody = self.request(b"POST", path, hdrs, body)
        self._check(status, rbody, "error")

    def post_init_error(self, body, error_type):
        hdrs = ((b"Content-Type", b"application/json"),
                (b"Lambda-Runtime-Function-Error-Type", _header_value(error_type)))
        status, _, rbody = self.request(b"POST", b"/2018-06-01/runtime/init/error", hdrs, body)
        self._check(status, rbody, "init/error")

    @staticmethod
    def _check(status, body, endpoint):
        if status != 202:
            # As awslambdaric's client does for a refused post (e.g. 413 for
            # an oversized response): say so on stderr and carry on.
            sys.stderr.write(
                "Request to Lambda Runtime '%s' endpoint failed. Reason: '%d'. Response body: '%s'\n"
                % (endpoint, status, bytes(body).decode("utf-8", "replace").strip()))


def _quote(s):
    out = []
    for ch in s:
        if ch.isalnum() and ord(ch) < 128 or ch in "-_.~":
            out.append(ch)
        else:
            out.extend("%%%02X" % b for b in ch.encode("utf-8"))
    return "".join(out).encode("ascii")


def _header_value(s):
    return "".join(c if " " <= c <= "~" else "?" for c in str(s)).encode("ascii")


# ------------------------------------------------------------- Errors ----


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


_source_cache = {}


def _source_line(filename, lineno):
    lines = _source_cache.get(filename)
    if lines is None:
        try:
            with open(filename, encoding="utf-8", errors="replace") as f:
                lines = f.readlines()
        except (OSError, ValueError):
            lines = []
        _source_cache[filename] = lines
    if lineno and 0 < lineno <= len(lines):
        return lines[lineno - 1].strip()
    return ""


def extract_traceback(tb):
    """(filename, lineno, name, line) per frame, like traceback.extract_tb."""
    out = []
    while tb is not None:
        code = tb.tb_frame.f_code
        lineno = tb.tb_lineno
        out.append((code.co_filename, lineno, code.co_name, _source_line(code.co_filename, lineno)))
        tb = tb.tb_next
    return out


def format_list(frames):
    """traceback.format_list, with its collapsing of repeated frames."""
    result = []
    last = None
    count = 0
    for filename, lineno, name, line in frames:
        key = (filename, lineno, name)
        if key != last:
            if count > 3:
                count -= 3
                result.append("  [Previous line repeated %d more time%s]\n" % (count, "s" if count > 1 else ""))
            last = key
            count = 0
        count += 1
        if count > 3:
            continue
        row = '  File "%s", line %s, in %s\n' % (filename, lineno, name)
        if line:
            row += "    %s\n" % line.strip()
        result.append(row)
    if count > 3:
        count -= 3
        result.append("  [Previous line repeated %d more time%s]\n" % (count, "s" if count > 1 else ""))
    return result


def _is_runtime_file(filename):
    return "/bootstrap.py" in filename or filename == __file__


def _user_frames(tb):
    frames = extract_traceback(tb)
    for i in range(len(frames)):
        if not _is_runtime_file(frames[i][0]):
            return frames[i:]
    return frames


def build_fault_result(exc_info, invoke_id=None):
    etype, value, tb = exc_info
    frames = _user_frames(tb)
    return make_error(str(value), etype.__name__, format_list(frames), invoke_id), frames


def make_xray_fault(ex_type, ex_msg, frames):
    stack = []
    paths = []
    for filename, lineno, name, _ in frames:
        stack.append({"label": name, "path": filename, "line": lineno})
        if filename not in paths:
            paths.append(filename)
    return {
        "working_directory": os.getcwd(),
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": paths,
    }


# ---------------------------------------------------------------- Logs ----

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE, as awslambdaric indents traceback lines
_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_LOG_LEVEL = {None: "", "TRACE": "DEBUG"}.get(
    os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL")).upper()
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"

_request_id = None
_tenant_id = None


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _indent(line):
    n = len(line) - len(line.lstrip(" "))
    return ERROR_LOG_IDENT * n + line[n:]


def log_error(error_result):
    if _LOG_FORMAT_JSON:
        record = {"timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime()), "level": "ERROR"}
        record.update(error_result)
        sys.stdout.write(to_json(record) + "\n")
        return
    description = "[ERROR]"
    etype = error_result.get("errorType")
    if etype:
        description += " " + etype
    emsg = error_result.get("errorMessage")
    if emsg:
        if etype:
            description += ":"
        description += " " + emsg
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for trace_line in element.splitlines():
                    lines.append(_indent(trace_line))
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


_UNHANDLED_WARNING = (
    "Unhandled exception. The most likely cause is an issue in the function code. However, in rare "
    "cases, a Lambda runtime update can cause unexpected function behavior. For functions using "
    "managed runtimes, runtime updates can be triggered by a function change, or can be applied "
    "automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be "
    "able to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html")


def _log_warning(msg):
    """logging.warning(msg) through the root handler, without importing
    logging when the function's code has not."""
    logging = sys.modules.get("logging")
    if logging is not None and _logging_configured:
        logging.warning(msg)
        return
    if _LOG_LEVEL in ("ERROR", "CRITICAL"):
        return
    now = time.time()
    if _LOG_FORMAT_JSON:
        ts = time.strftime(_DATETIME_FORMAT, time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
        sys.stdout.write(json_dumps({"timestamp": ts, "level": "WARNING", "message": msg,
                                     "logger": "root", "requestId": _request_id or ""}, False) + "\n")
    else:
        sys.stdout.write("[WARNING]\t%s.%03dZ\t%s\t%s\n" % (
            time.strftime(_DATETIME_FORMAT, time.gmtime(now)), int(now * 1000) % 1000,
            _request_id or "", msg))


_logging_configured = False


def _configure_logging(logging):
    """awslambdaric's _setup_logging: a root handler writing to stdout in the
    text or JSON format, the level from AWS_LAMBDA_LOG_LEVEL."""
    global _logging_configured
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            sys.stdout.write(self.format(record))

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            record.tenant_id = _tenant_id
            return True

    handler = LambdaLoggerHandler()
    if _LOG_FORMAT_JSON:
        handler.setFormatter(_make_json_formatter(logging))
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            _DATETIME_FORMAT))
    if _LOG_LEVEL in logging._nameToLevel:
        logger.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)
    _logging_configured = True


_RESERVED_FIELDS = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
    "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
    "threadName", "processName", "process", "aws_request_id", "tenant_id", "_frame_type"))


def _make_json_formatter(logging):
    import json
    from datetime import datetime, timezone

    encode = json.JSONEncoder(ensure_ascii=False).encode

    class JsonFormatter(logging.Formatter):
        def __init__(self):
            logging.Formatter.__init__(self, datefmt=_DATETIME_FORMAT)

        def formatTime(self, record, datefmt=None):
            dt = datetime.fromtimestamp(record.created, tz=timezone.utc)
            return dt.strftime(_DATETIME_FORMAT + ".%f")[:-3] + "Z"

        def format(self, record):
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc = record.exc_info
            if exc:
                import traceback
                stack = traceback.format_tb(exc[2])
            result = {
                "timestamp": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": stack if exc else None,
                "errorType": exc[0].__name__ if exc else None,
                "errorMessage": str(exc[1]) if exc else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            for key, value in record.__dict__.items():
                if key not in _RESERVED_FIELDS and key not in result:
                    result[key] = value
            return encode({k: v for k, v in result.items() if v is not None}) + "\n"

    return JsonFormatter()


class _LoggingImportHook(object):
    """A meta path finder that configures the root logger right after the
    function's code first imports `logging`, so that a function which never
    logs never pays for the import."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(cls)
        except ValueError:
            pass
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if find is not None:
                spec = find(name, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            try:
                _configure_logging(module)
            except Exception as e:  # never break the function's import
                sys.stderr.write("lambdad runtime: could not set up logging: %r\n" % (e,))

        spec.loader.exec_module = exec_module
        return spec


# ------------------------------------------------------------- Context ----


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__, self.cognito_identity_id, self.cognito_identity_pool_id)


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return "%s([installation_id=%s,app_title=%s,app_version_name=%s,app_version_code=%s,app_package_name=%s])" % (
            self.__class__.__name__, self.installation_id, self.app_title, self.app_version_name,
            self.app_version_code, self.app_package_name)


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (self.__class__.__name__, self.custom, self.env, self.client)


def _obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field, None))
    return obj


_W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms,
                 invoked_function_arn=None, tenant_id=None):
        env = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._w3c_fields = {}
        if isinstance(client_context, dict) and "w3c" in client_context:
            raw = client_context.pop("w3c")
            if isinstance(raw, dict):
                self._w3c_fields = {k: raw[k] for k in _W3C_FIELDS if isinstance(raw.get(k), str)}
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def w3c(self):
        return dict(self._w3c_fields)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
                "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
                "identity=%s,tenant_id=%s])") % (
            self.__class__.__name__, self.aws_request_id, self.log_group_name, self.log_stream_name,
            self.function_name, self.memory_limit_in_mb, self.function_version,
            self.invoked_function_arn, self.client_context, self.identity, self.tenant_id)


def _parse_json_header(value, name):
    try:
        return json_loads(value)
    except Exception as e:
        raise FaultException(FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
                             "Unable to parse %s JSON: %s" % (name, e), None)


# ------------------------------------------------------------- Handler ----


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME,
                             "Bad handler '%s': %s" % (handler, e))
    import importlib

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(FaultException.BUILT_IN_MODULE_CONFLICT,
                                 "Cannot use built-in module %s as a handler module" % modname)
        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR,
                             "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR,
                             "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(m, fname)
    except AttributeError:
        raise FaultException(FaultException.HANDLER_NOT_FOUND,
                             "Handler '%s' missing on module '%s'" % (fname, modname), None)


def handle_event(client, request_handler, headers, body):
    invoke_id = headers.get("lambda-runtime-aws-request-id", "")
    error_result = None
    frames = []
    try:
        cc = headers.get("lambda-runtime-client-context")
        ci = headers.get("lambda-runtime-cognito-identity")
        deadline = headers.get("lambda-runtime-deadline-ms")
        context = LambdaContext(
            invoke_id,
            _parse_json_header(cc, "Client Context") if cc else None,
            _parse_json_header(ci, "Cognito Identity") if ci else None,
            int(deadline) if deadline else 0,
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        content_type = headers.get("content-type", "application/json")
        if content_type != "application/json":
            event = bytes(body)
        else:
            try:
                event = json_loads(body)
            except Exception as e:
                raise FaultException(FaultException.UNMARSHAL_ERROR,
                                     "Unable to unmarshal input: %s" % e, None)
        response = request_handler(event, context)
        if isinstance(response, bytes):
            result, result_type = response, b"application/unknown"
        else:
            try:
                result, result_type = to_json(response).encode("utf-8"), b"application/json"
            except Exception as e:
                raise FaultException(FaultException.MARSHAL_ERROR,
                                     "Unable to marshal response: %s" % e, None)
    except FaultException as e:
        xray = make_xray_fault("LambdaValidationError", e.msg, [])
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        exc_info = sys.exc_info()
        error_result, frames = build_fault_result(exc_info, invoke_id)
        xray = make_xray_fault(exc_info[0].__name__, str(exc_info[1]), frames)
        exc_info = None

    if error_result is not None:
        log_error(error_result)
        xray_json = json_dumps(xray).encode("ascii")
        client.post_error(invoke_id, to_json(error_result).encode("utf-8"), error_result["errorType"],
                          xray_json if len(xray_json) < 1024 * 1024 else None)
    else:
        client.post_result(invoke_id, result, result_type)


# ---- old botocore and the endpoint variables ----
#
# lambdad points a function's SDK at itself (AWS_ENDPOINT_URL_LAMBDA) and at
# --aws-endpoint-url (AWS_ENDPOINT_URL), variables botocore reads since 1.31.
# A host whose boto3 is older (Debian bookworm's python3-boto3 has botocore
# 1.29) would send the function's calls to AWS instead: when such a botocore
# is imported, its Session.create_client takes the endpoint from those
# variables, as a newer botocore does (an explicit endpoint_url wins). Nothing
# is imported or patched unless the function imports botocore.


def _endpoint_from_env(session, service_name):
    try:
        service_id = str(session.get_service_model(service_name).service_id)
    except Exception:
        service_id = service_name
    key = "AWS_ENDPOINT_URL_" + service_id.upper().replace(" ", "_").replace("-", "_")
    return os.environ.get(key) or os.environ.get("AWS_ENDPOINT_URL")


def _patch_old_botocore(session_module):
    try:
        import botocore
        if tuple(int(x) for x in botocore.__version__.split(".")[:2]) >= (1, 31):
            return
    except Exception:
        return
    create_client = session_module.Session.create_client

    def create_client_with_env_endpoint(self, service_name, *args, **kwargs):
        if len(args) < 5 and kwargs.get("endpoint_url") is None:
            url = _endpoint_from_env(self, service_name)
            if url:
                kwargs["endpoint_url"] = url
        return create_client(self, service_name, *args, **kwargs)

    session_module.Session.create_client = create_client_with_env_endpoint


class _OldBotocoreFinder:
    """A meta path finder that sees botocore.session imported, once."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(cls)
        import importlib.util
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module):
            exec_module(module)
            _patch_old_botocore(module)

        spec.loader.exec_module = exec_then_patch
        return spec


def _watch_for_old_botocore():
    if "botocore" not in sys.modules and any(k.startswith("AWS_ENDPOINT_URL") for k in os.environ):
        sys.meta_path.insert(0, _OldBotocoreFinder)


def _set_sys_path():
    # a distribution's interpreter (Debian's /usr/bin/python3.X) also looks in
    # the host's dist-packages, which AWS's runtimes do not have: their
    # packages (awscrt, pyOpenSSL ...) would change what a function imports
    # and slow boto3's import down
    keep = set((os.environ.get("PYTHONPATH") or "").split(":"))
    sys.path[:] = [p for p in sys.path if p in keep or not p.endswith("/dist-packages")]
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or "/var/task"
    ver = "%d.%d" % sys.version_info[:2]
    for p in ("/opt/python", "/opt/python/lib/python%s/site-packages" % ver, task_root):
        sys.path.insert(0, p)


def main():
    global _request_id, _tenant_id
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _set_sys_path()
    _watch_for_old_botocore()
    if "logging" in sys.modules:
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook)

    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        request_handler = get_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info())[0]
        _log_warning(_UNHANDLED_WARNING)
        log_error(error_result)
        client.post_init_error(to_json(error_result).encode("utf-8"), error_result["errorType"])
        sys.exit(1)

    while True:
        headers, body = client.next_invocation()
        _request_id = headers.get("lambda-runtime-aws-request-id")
        _tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in os.environ:
            del os.environ["_X_AMZN_TRACE_ID"]
        handle_event(client, request_handler, headers, body)
