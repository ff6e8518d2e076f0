package lambdad;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.deser.Deserializers;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.util.StdDateFormat;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * lambdad's runtime client for the java runtimes: the first process of a java execution environment.
 *
 * It talks to lambdad through the Runtime API (AWS_LAMBDA_RUNTIME_API, /2018-06-01/runtime/...), loads
 * the handler named by _HANDLER from the function's code (LAMBDA_TASK_ROOT: its classes, lib/*.jar, and
 * the layers' /opt/java/lib/*.jar), and calls it once per event. A handler is "package.Class::method"
 * or "package.Class" implementing RequestHandler or RequestStreamHandler. Typed input and output go
 * through Jackson with the settings AWS's runtime uses (unknown properties ignored, nulls left out); a
 * method taking (InputStream, OutputStream[, Context]) gets the raw bytes. Errors are AWS's Java error
 * document: errorMessage, errorType (the exception's class) and stackTrace.
 *
 * Types of aws-lambda-java-events (package com.amazonaws.services.lambda.runtime.events, bundled in
 * the function's jar) are read as AWS's runtime reads them: the event sources' member names ("Records",
 * "eventSourceARN", "NewImage", ...) match the classes' properties whatever their case; a
 * java.util.Date given as a number is epoch seconds (Kinesis and DynamoDB timestamps); a Joda DateTime
 * is parsed from its ISO-8601 text (SNS, scheduled events), through reflection on the function's own
 * joda-time.
 */
public final class Bootstrap {
    private static final String PREFIX = "/2018-06-01/runtime/";
    private static final PrintStream OUT = System.out;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final ObjectMapper mapper = newMapper();
    private final ObjectMapper eventsMapper = newEventsMapper();
    static final String EVENTS_PACKAGE = "com.amazonaws.services.lambda.runtime.events";

    private Bootstrap(String api) {
        base = "http://" + api + PREFIX;
    }

    static ObjectMapper newMapper() {
        ObjectMapper m = new ObjectMapper();
        m.configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);
        m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        m.configure(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY, true);
        m.configure(DeserializationFeature.ACCEPT_EMPTY_STRING_AS_NULL_OBJECT, true);
        m.configure(JsonParser.Feature.ALLOW_COMMENTS, true);
        m.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        m.setSerializationInclusion(JsonInclude.Include.NON_NULL);
        return m;
    }

    /** The mapper for aws-lambda-java-events types (see the class comment). */
    static ObjectMapper newEventsMapper() {
        ObjectMapper m = newMapper();
        m.configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES, true);
        m.registerModule(new SimpleModule("lambdad-events") {
            @Override
            public void setupModule(SetupContext c) {
                super.setupModule(c);
                c.addDeserializers(new EventDeserializers());
            }
        });
        return m;
    }

    /** Date as epoch seconds when numeric; org.joda.time.DateTime from its text. */
    static final class EventDeserializers extends Deserializers.Base {
        @Override
        public JsonDeserializer<?> findBeanDeserializer(JavaType type, DeserializationConfig config,
                BeanDescription beanDesc) {
            Class<?> raw = type.getRawClass();
            if (raw == java.util.Date.class)
                return new JsonDeserializer<java.util.Date>() {
                    @Override
                    public java.util.Date deserialize(JsonParser p, DeserializationContext ctx) throws java.io.IOException {
                        if (p.currentToken().isNumeric())
                            return new java.util.Date((long) (p.getDoubleValue() * 1000.0));
                        try {
                            return new StdDateFormat().parse(p.getText());
                        } catch (java.text.ParseException e) {
                            throw new java.io.IOException(e);
                        }
                    }
                };
            if (raw.getName().equals("org.joda.time.DateTime"))
                return new JsonDeserializer<Object>() {
                    @Override
                    public Object deserialize(JsonParser p, DeserializationContext ctx) throws java.io.IOException {
                        try {
                            Object v = p.currentToken().isNumeric() ? (Object) p.getLongValue() : p.getText();
                            return raw.getConstructor(Object.class).newInstance(v);
                        } catch (ReflectiveOperationException e) {
                            throw new java.io.IOException(e);
                        }
                    }
                };
            return null;
        }
    }

    /** The loaded handler: how to call it, and the type its input is read as. */
    private static final class Handler {
        Object target;
        Method method;
        boolean stream, withContext;
        JavaType input;
        int arity;
    }

    /** An error of the init phase, posted to /init/error. */
    private static final class InitError extends Exception {
        final String type;

        InitError(String type, String message, Throwable cause) {
            super(message, cause);
            this.type = type;
        }
    }

    public static void main(String[] args) throws Exception {
        String api = System.getenv("AWS_LAMBDA_RUNTIME_API");
        if (api == null) {
            System.err.println("lambdad java runtime: AWS_LAMBDA_RUNTIME_API is not set");
            System.exit(1);
        }
        new Bootstrap(api).run();
    }

    private void run() throws Exception {
        Handler h;
        try {
            h = load(System.getenv("_HANDLER"));
        } catch (InitError e) {
            post("init/error", errorDocument(e.type, e.getMessage(), e.getCause()), e.type);
            System.exit(1);
            return;
        }
        while (true) {
            HttpResponse<byte[]> next = http.send(HttpRequest.newBuilder(URI.create(base + "invocation/next")).GET()
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            String id = next.headers().firstValue("Lambda-Runtime-Aws-Request-Id").orElse("");
            long deadline = next.headers().firstValue("Lambda-Runtime-Deadline-Ms").map(Long::parseLong).orElse(0L);
            String arn = next.headers().firstValue("Lambda-Runtime-Invoked-Function-Arn").orElse("");
            String cc = next.headers().firstValue("Lambda-Runtime-Client-Context").orElse(null);
            String identity = next.headers().firstValue("Lambda-Runtime-Cognito-Identity").orElse(null);
            next.headers().firstValue("Lambda-Runtime-Trace-Id")
                    .ifPresentOrElse(t -> System.setProperty("com.amazonaws.xray.traceHeader", t),
                            () -> System.clearProperty("com.amazonaws.xray.traceHeader"));
            LambdaContext ctx = new LambdaContext(id, deadline, arn, parseClientContext(cc), parseIdentity(identity));
            byte[] result;
            try {
                result = invoke(h, next.body(), ctx);
            } catch (Throwable t) {
                Throwable e = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
                byte[] doc = errorDocument(e.getClass().getName(), e.getMessage(), e);
                e.printStackTrace(OUT);
                post("invocation/" + id + "/error", doc, e.getClass().getName());
                continue;
            }
            post("invocation/" + id + "/response", result, null);
        }
    }

    private void post(String path, byte[] body, String errorType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (errorType != null)
            b.header("Lambda-Runtime-Function-Error-Type", errorType);
        http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    }

    /* ---- the handler ---- */

    private Handler load(String spec) throws InitError {
        if (spec == null || spec.isEmpty())
            throw new InitError("java.lang.ClassNotFoundException", "Class not found: ", null);
        int sep = spec.indexOf("::");
        String className = sep < 0 ? spec : spec.substring(0, sep);
        String methodName = sep < 0 ? null : spec.substring(sep + 2);
        ClassLoader loader = codeLoader();
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> cls;
        try {
            cls = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new InitError("java.lang.ClassNotFoundException", "Class not found: " + className, e);
        } catch (ExceptionInInitializerError e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new InitError(c.getClass().getName(), c.getMessage(), c);
        }
        Handler h = new Handler();
        if (methodName == null) {
            if (RequestStreamHandler.class.isAssignableFrom(cls)) {
                methodName = "handleRequest";
            } else if (RequestHandler.class.isAssignableFrom(cls)) {
                methodName = "handleRequest";
            } else {
                throw new InitError("java.lang.Exception",
                        "Class " + className + " does not implement RequestHandler with concrete type parameters",
                        null);
            }
        }
        h.method = pick(cls, methodName);
        if (h.method == null)
            throw new InitError("java.lang.RuntimeException", "No public method named " + methodName
                    + " with appropriate method signature found on class " + className, null);
        h.method.setAccessible(true);
        Class<?>[] p = h.method.getParameterTypes();
        h.arity = p.length;
        h.stream = p.length >= 2 && InputStream.class.isAssignableFrom(p[0]) && OutputStream.class.isAssignableFrom(p[1]);
        h.withContext = p.length > 0 && Context.class.isAssignableFrom(p[p.length - 1]);
        if (!h.stream && p.length > 0 && !(p.length == 1 && h.withContext))
            h.input = inputType(cls, h.method);
        if (!Modifier.isStatic(h.method.getModifiers())) {
            try {
                h.target = cls.getDeclaredConstructor().newInstance();
            } catch (InvocationTargetException e) {
                Throwable c = e.getCause() != null ? e.getCause() : e;
                throw new InitError(c.getClass().getName(), c.getMessage(), c);
            } catch (ReflectiveOperationException e) {
                throw new InitError("java.lang.Exception", "Class " + className
                        + " has no public zero-argument constructor", e);
            }
        }
        return h;
    }

    /** The method to call: by name, the most parameters first, bridge methods last. */
    private static Method pick(Class<?> cls, String name) {
        List<Method> found = new ArrayList<>();
        for (Method m : cls.getMethods())
            if (m.getName().equals(name) && m.getParameterCount() <= 3)
                found.add(m);
        found.sort((a, b) -> a.isBridge() != b.isBridge() ? (a.isBridge() ? 1 : -1)
                : Integer.compare(b.getParameterCount(), a.getParameterCount()));
        for (Method m : found) {
            Class<?>[] p = m.getParameterTypes();
            boolean ok;
            switch (p.length) {
                case 0: ok = true; break;
                case 1: ok = true; break;
                case 2: ok = Context.class.isAssignableFrom(p[1])
                        || (InputStream.class.isAssignableFrom(p[0]) && OutputStream.class.isAssignableFrom(p[1]));
                    break;
                default: ok = InputStream.class.isAssignableFrom(p[0]) && OutputStream.class.isAssignableFrom(p[1])
                        && Context.class.isAssignableFrom(p[2]);
            }
            if (ok)
                return m;
        }
        return null;
    }

    /** The input's type: the method's first parameter, with RequestHandler's I resolved through the
     * class hierarchy when the method is the generic handleRequest. */
    private JavaType inputType(Class<?> cls, Method m) {
        Type t = m.getGenericParameterTypes()[0];
        if (t instanceof TypeVariable) {
            Type resolved = resolveRequestHandlerInput(cls);
            if (resolved != null)
                t = resolved;
        }
        if (t instanceof TypeVariable)
            return mapper.getTypeFactory().constructType(Object.class);
        return mapper.getTypeFactory().constructType(t);
    }

    private static Type resolveRequestHandlerInput(Class<?> cls) {
        for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Type i : c.getGenericInterfaces()) {
                if (i instanceof ParameterizedType && ((ParameterizedType) i).getRawType() == RequestHandler.class)
                    return ((ParameterizedType) i).getActualTypeArguments()[0];
            }
        }
        return null;
    }

    private static ClassLoader codeLoader() {
        String root = System.getenv().getOrDefault("LAMBDA_TASK_ROOT", "/var/task");
        List<URL> urls = new ArrayList<>();
        try {
            urls.add(new File(root).toURI().toURL());
            for (String dir : new String[] {root + "/lib", "/opt/java/lib"}) {
                File[] jars = new File(dir).listFiles((d, n) -> n.endsWith(".jar"));
                if (jars == null)
                    continue;
                Arrays.sort(jars);
                for (File j : jars)
                    urls.add(j.toURI().toURL());
            }
            urls.add(new File("/opt/java").toURI().toURL());
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException(e);
        }
        return new URLClassLoader(urls.toArray(new URL[0]), Bootstrap.class.getClassLoader());
    }

    /* ---- one invocation ---- */

    private byte[] invoke(Handler h, byte[] event, Context ctx) throws Throwable {
        if (h.stream) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Object[] a = h.arity == 3 ? new Object[] {new ByteArrayInputStream(event), out, ctx}
                    : new Object[] {new ByteArrayInputStream(event), out};
            h.method.invoke(h.target, a);
            return out.toByteArray();
        }
        Object[] a;
        if (h.arity == 0) {
            a = new Object[0];
        } else if (h.input == null) {
            a = new Object[] {ctx};
        } else {
            Object in = readInput(event, h.input);
            a = h.withContext ? new Object[] {in, ctx} : new Object[] {in};
        }
        Object result = h.method.invoke(h.target, a);
        if (h.method.getReturnType() == void.class)
            return "null".getBytes(StandardCharsets.UTF_8);
        return mapper.writeValueAsBytes(result);
    }

    private Object readInput(byte[] event, JavaType type) throws Exception {
        if (type.getRawClass() == InputStream.class)
            return new ByteArrayInputStream(event);
        if (type.getRawClass() == byte[].class)
            return event;
        return isEventType(type) ? eventsMapper.readValue(event, type) : mapper.readValue(event, type);
    }

    private static boolean isEventType(JavaType type) {
        Package p = type.getRawClass().getPackage();
        return p != null && (p.getName().equals(EVENTS_PACKAGE) || p.getName().startsWith(EVENTS_PACKAGE + "."));
    }

    /* ---- AWS's Java error document ---- */

    private ObjectNode errorNode(String type, String message, Throwable e) {
        ObjectNode doc = mapper.createObjectNode();
        doc.put("errorMessage", message);
        doc.put("errorType", type);
        if (e != null) {
            ArrayNode st = doc.putArray("stackTrace");
            for (StackTraceElement s : e.getStackTrace())
                st.add(s.toString());
            Throwable c = e.getCause();
            if (c != null && c != e)
                doc.set("cause", errorNode(c.getClass().getName(), c.getMessage(), c));
        }
        return doc;
    }

    private byte[] errorDocument(String type, String message, Throwable e) {
        try {
            return mapper.writeValueAsBytes(errorNode(type, message, e));
        } catch (Exception x) {
            return ("{\"errorMessage\":\"error\",\"errorType\":\"" + type + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }

    /* ---- the context ---- */

    private ClientContext parseClientContext(String json) {
        if (json == null || json.isEmpty())
            return null;
        try {
            JsonNode n = mapper.readTree(json);
            JsonNode c = n.path("client");
            Map<String, String> custom = toMap(n.path("custom")), env = toMap(n.path("env"));
            Client client = new Client() {
                public String getInstallationId() { return c.path("installation_id").asText(null); }
                public String getAppTitle() { return c.path("app_title").asText(null); }
                public String getAppVersionName() { return c.path("app_version_name").asText(null); }
                public String getAppVersionCode() { return c.path("app_version_code").asText(null); }
                public String getAppPackageName() { return c.path("app_package_name").asText(null); }
            };
            return new ClientContext() {
                public Client getClient() { return client; }
                public Map<String, String> getCustom() { return custom; }
                public Map<String, String> getEnvironment() { return env; }
            };
        } catch (Exception e) {
            return null;
        }
    }

    private Map<String, String> toMap(JsonNode n) {
        if (!n.isObject())
            return Collections.emptyMap();
        Map<String, String> m = new java.util.LinkedHashMap<>();
        n.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue().asText()));
        return m;
    }

    private CognitoIdentity parseIdentity(String json) {
        String id = null, pool = null;
        if (json != null && !json.isEmpty()) {
            try {
                JsonNode n = mapper.readTree(json);
                id = n.path("cognitoIdentityId").asText(null);
                pool = n.path("cognitoIdentityPoolId").asText(null);
            } catch (Exception e) {
                // left empty
            }
        }
        final String fid = id, fpool = pool;
        return new CognitoIdentity() {
            public String getIdentityId() { return fid; }
            public String getIdentityPoolId() { return fpool; }
        };
    }

    private static final class LambdaContext implements Context {
        private static final LambdaLogger LOGGER = new LambdaLogger() {
            public void log(String message) {
                OUT.print(message);
                OUT.flush();
            }

            public void log(byte[] message) {
                OUT.write(message, 0, message.length);
                OUT.flush();
            }
        };
        private final String id, arn;
        private final long deadline;
        private final ClientContext clientContext;
        private final CognitoIdentity identity;

        LambdaContext(String id, long deadline, String arn, ClientContext cc, CognitoIdentity identity) {
            this.id = id;
            this.deadline = deadline;
            this.arn = arn;
            this.clientContext = cc;
            this.identity = identity;
        }

        public String getAwsRequestId() { return id; }
        public String getLogGroupName() { return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME"); }
        public String getLogStreamName() { return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME"); }
        public String getFunctionName() { return System.getenv("AWS_LAMBDA_FUNCTION_NAME"); }
        public String getFunctionVersion() { return System.getenv("AWS_LAMBDA_FUNCTION_VERSION"); }
        public String getInvokedFunctionArn() { return arn; }
        public CognitoIdentity getIdentity() { return identity; }
        public ClientContext getClientContext() { return clientContext; }

        public int getRemainingTimeInMillis() {
            long left = deadline - System.currentTimeMillis();
            return (int) Math.max(0, Math.min(Integer.MAX_VALUE, left));
        }

        public int getMemoryLimitInMB() {
            try {
                return Integer.parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));
            } catch (RuntimeException e) {
                return 0;
            }
        }

        public LambdaLogger getLogger() { return LOGGER; }
    }
}
