package io.saestream.schema.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SchemaRegistryClient} over the Confluent Schema Registry REST API, with {@link
 * java.net.http.HttpClient} and Jackson.
 *
 * <p>Caches what never changes: schemas by id, and the id and version of a schema under a subject.
 * {@link #latest}, {@link #isCompatible} and the compatibility calls always ask the registry. The
 * caches are unbounded because a deployment sees a handful of schemas, and only successful answers
 * are cached.
 *
 * <p>Requests that fail with an I/O error, HTTP 5xx or HTTP 429 are retried up to {@link
 * SchemaRegistryClientConfig#maxRetries()} times with exponential backoff and jitter, each retry on
 * the next base URL; other 4xx answers fail at once. The base URL that answered last is tried first
 * next time.
 *
 * <p>Thread-safe; one instance is meant to be shared by every serde of a process. It holds no
 * resource that needs closing.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {

  /** Media type of registry requests and answers. */
  public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private static final String ACCEPT =
      "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9,"
          + " application/json; qs=0.5";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
  private static final int MAX_ERROR_BODY_CHARS = 300;

  private final SchemaRegistryClientConfig config;
  private final HttpClient http;
  private final @Nullable String authorization;
  private final AtomicInteger preferredUrl = new AtomicInteger();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();
  private final Map<SubjectSchema, RegisteredSchema> versionsBySubjectSchema =
      new ConcurrentHashMap<>();

  /** Creates a client; no request is made until the first call. */
  public RestSchemaRegistryClient(SchemaRegistryClientConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    SchemaRegistryClientConfig.BasicAuth auth = config.basicAuth();
    this.authorization =
        auth == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        (auth.username() + ":" + auth.password()).getBytes(StandardCharsets.UTF_8));
  }

  /** The settings this client was built with. */
  public SchemaRegistryClientConfig config() {
    return config;
  }

  @Override
  public int register(String subject, Schema schema) {
    Schema portable = PortableSchema.of(schema);
    SubjectSchema key = SubjectSchema.of(subject, portable);
    Integer cached = idsBySubjectSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", subjectPath(subject) + "/versions", schemaBody(key.canonical()));
    int id = requiredInt(answer, "id", "register under " + subject);
    idsBySubjectSchema.putIfAbsent(key, id);
    schemasById.putIfAbsent(id, portable);
    return id;
  }

  @Override
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("GET", "/schemas/ids/" + id, null);
    Schema schema = parseAnswerSchema(answer, "schema id " + id);
    Schema raced = schemasById.putIfAbsent(id, schema);
    return raced == null ? schema : raced;
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema) {
    Schema portable = PortableSchema.of(schema);
    SubjectSchema key = SubjectSchema.of(subject, portable);
    RegisteredSchema cached = versionsBySubjectSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", subjectPath(subject), schemaBody(key.canonical()));
    String context = "lookup under " + subject;
    RegisteredSchema found =
        new RegisteredSchema(
            subject,
            requiredInt(answer, "id", context),
            requiredInt(answer, "version", context),
            portable);
    versionsBySubjectSchema.putIfAbsent(key, found);
    idsBySubjectSchema.putIfAbsent(key, found.id());
    schemasById.putIfAbsent(found.id(), portable);
    return found;
  }

  @Override
  public RegisteredSchema latest(String subject) {
    JsonNode answer = send("GET", subjectPath(subject) + "/versions/latest", null);
    String context = "latest version of " + subject;
    int id = requiredInt(answer, "id", context);
    Schema schema = schemasById.get(id);
    if (schema == null) {
      schema = parseAnswerSchema(answer, context);
      schemasById.putIfAbsent(id, schema);
    }
    return new RegisteredSchema(subject, id, requiredInt(answer, "version", context), schema);
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    JsonNode answer =
        send(
            "POST",
            "/compatibility" + subjectPath(subject) + "/versions/latest",
            schemaBody(PortableSchema.of(schema).toString()));
    JsonNode compatible = answer.get("is_compatible");
    if (compatible == null || !compatible.isBoolean()) {
      throw malformed("compatibility of " + subject, "no boolean 'is_compatible'", answer);
    }
    return compatible.booleanValue();
  }

  @Override
  public CompatibilityLevel compatibility(String subject) {
    JsonNode answer =
        send("GET", "/config/" + encodedSubject(subject) + "?defaultToGlobal=true", null);
    return compatibilityIn(answer, "compatibilityLevel", "compatibility of " + subject);
  }

  @Override
  public CompatibilityLevel updateCompatibility(String subject, CompatibilityLevel level) {
    Objects.requireNonNull(level, "level");
    ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
    JsonNode answer = send("PUT", "/config/" + encodedSubject(subject), body);
    return compatibilityIn(answer, "compatibility", "update compatibility of " + subject);
  }

  private static String subjectPath(String subject) {
    return "/subjects/" + encodedSubject(subject);
  }

  private static String encodedSubject(String subject) {
    requireSubject(subject);
    // URLEncoder encodes for forms; a path segment needs %20, not '+'.
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void requireSubject(String subject) {
    Objects.requireNonNull(subject, "subject");
    if (subject.isEmpty()) {
      throw new IllegalArgumentException("subject must not be empty");
    }
  }

  private static ObjectNode schemaBody(String schemaJson) {
    return JSON.createObjectNode().put("schema", schemaJson);
  }

  private JsonNode send(String method, String pathAndQuery, @Nullable JsonNode body) {
    String payload;
    try {
      payload = body == null ? null : JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a registry request body", e);
    }
    List<URI> urls = config.baseUrls();
    int first = preferredUrl.get();
    SchemaRegistryException lastFailure = null;
    int attempts = config.maxRetries() + 1;
    for (int attempt = 0; attempt < attempts; attempt++) {
      int urlIndex = (first + attempt) % urls.size();
      URI uri = URI.create(urls.get(urlIndex) + pathAndQuery);
      if (attempt > 0) {
        sleepBeforeRetry(attempt, method, uri, Objects.requireNonNull(lastFailure));
      }
      HttpResponse<String> response;
      try {
        response = http.send(request(method, uri, payload), bodyHandler());
      } catch (IOException e) {
        lastFailure =
            new SchemaRegistryException(
                "schema registry " + method + " " + uri + " failed: " + e, e);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SchemaRegistryException(
            "interrupted during schema registry " + method + " " + uri, e);
      }
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        preferredUrl.set(urlIndex);
        return parseJson(method, uri, response);
      }
      SchemaRegistryException failure = errorOf(method, uri, response);
      if (!isRetryable(status)) {
        throw failure;
      }
      lastFailure = failure;
    }
    throw new SchemaRegistryException(
        Objects.requireNonNull(lastFailure).getMessage()
            + " (gave up after "
            + attempts
            + " attempt"
            + (attempts == 1 ? "" : "s")
            + ")",
        lastFailure.httpStatus(),
        lastFailure.errorCode(),
        lastFailure);
  }

  private HttpRequest request(String method, URI uri, @Nullable String payload) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri).timeout(config.requestTimeout()).header("Accept", ACCEPT);
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    if (payload == null) {
      builder.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      builder
          .header("Content-Type", CONTENT_TYPE)
          .method(method, HttpRequest.BodyPublishers.ofString(payload, StandardCharsets.UTF_8));
    }
    return builder.build();
  }

  private static HttpResponse.BodyHandler<String> bodyHandler() {
    return HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8);
  }

  private static boolean isRetryable(int status) {
    // 429 is a 4xx but means "later", not "never"; rate-limited registries send it.
    return status >= 500 || status == 429;
  }

  private void sleepBeforeRetry(
      int retry, String method, URI nextUri, SchemaRegistryException cause) {
    long initial = config.initialBackoff().toNanos();
    long cap = config.maxBackoff().toNanos();
    long exponential = initial;
    for (int doubling = 1; doubling < retry && exponential < cap; doubling++) {
      exponential = exponential > cap / 2 ? cap : exponential * 2;
    }
    exponential = Math.min(cap, exponential);
    // Half fixed, half random: retries of many clients spread out but never collapse to zero.
    long nanos = exponential / 2 + ThreadLocalRandom.current().nextLong(exponential / 2 + 1);
    LOG.warn(
        "Retrying schema registry {} {} in {} ms (retry {} of {}) after: {}",
        method,
        nextUri,
        Duration.ofNanos(nanos).toMillis(),
        retry,
        config.maxRetries(),
        cause.getMessage());
    try {
      Thread.sleep(nanos / 1_000_000L, (int) (nanos % 1_000_000L));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException(
          "interrupted while waiting to retry schema registry " + method + " " + nextUri, e);
    }
  }

  private static JsonNode parseJson(String method, URI uri, HttpResponse<String> response) {
    try {
      JsonNode node = JSON.readTree(response.body());
      if (node == null || !(node.isObject() || node.isArray())) {
        throw new SchemaRegistryException(
            "schema registry " + method + " " + uri + " answered non-JSON: " + snippet(response),
            response.statusCode(),
            SchemaRegistryException.NONE);
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new SchemaRegistryException(
          "schema registry " + method + " " + uri + " answered invalid JSON: " + snippet(response),
          response.statusCode(),
          SchemaRegistryException.NONE,
          e);
    }
  }

  private static SchemaRegistryException errorOf(
      String method, URI uri, HttpResponse<String> response) {
    int status = response.statusCode();
    int errorCode = status;
    String message = snippet(response);
    try {
      JsonNode node = JSON.readTree(response.body());
      if (node != null && node.isObject()) {
        JsonNode code = node.get("error_code");
        if (code != null && code.canConvertToInt()) {
          errorCode = code.intValue();
        }
        JsonNode text = node.get("message");
        if (text != null && text.isTextual()) {
          message = text.textValue();
        }
      }
    } catch (JsonProcessingException e) {
      // Proxies and load balancers answer HTML or text; the raw snippet is the best message.
      LOG.debug("Registry error answer from {} is not JSON", uri, e);
    }
    return new SchemaRegistryException(
        "schema registry "
            + method
            + " "
            + uri
            + " answered HTTP "
            + status
            + " (error_code "
            + errorCode
            + "): "
            + message,
        status,
        errorCode);
  }

  private static String snippet(HttpResponse<String> response) {
    String body = response.body() == null ? "" : response.body().strip();
    return body.length() <= MAX_ERROR_BODY_CHARS
        ? body
        : body.substring(0, MAX_ERROR_BODY_CHARS) + "...";
  }

  private static int requiredInt(JsonNode answer, String field, String context) {
    JsonNode value = answer.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw malformed(context, "no integer '" + field + "'", answer);
    }
    return value.intValue();
  }

  private static Schema parseAnswerSchema(JsonNode answer, String context) {
    JsonNode type = answer.get("schemaType");
    if (type != null && type.isTextual() && !type.textValue().equals("AVRO")) {
      throw new SchemaRegistryException(
          context + " is a " + type.textValue() + " schema; only AVRO is supported",
          SchemaRegistryException.NONE,
          SchemaRegistryException.INVALID_SCHEMA);
    }
    JsonNode text = answer.get("schema");
    if (text == null || !text.isTextual()) {
      throw malformed(context, "no string 'schema'", answer);
    }
    try {
      return new Schema.Parser().parse(text.textValue());
    } catch (SchemaParseException e) {
      throw new SchemaRegistryException(
          context + " is not a valid Avro schema: " + e.getMessage(),
          SchemaRegistryException.NONE,
          SchemaRegistryException.INVALID_SCHEMA,
          e);
    }
  }

  private static CompatibilityLevel compatibilityIn(JsonNode answer, String field, String context) {
    JsonNode value = answer.get(field);
    if (value == null || !value.isTextual()) {
      // Registries disagree on the field name of GET and PUT answers; accept either.
      value = answer.get(field.equals("compatibility") ? "compatibilityLevel" : "compatibility");
    }
    if (value == null || !value.isTextual()) {
      throw malformed(context, "no string '" + field + "'", answer);
    }
    try {
      return CompatibilityLevel.parse(value.textValue());
    } catch (IllegalArgumentException e) {
      throw new SchemaRegistryException(
          context + ": " + e.getMessage(),
          SchemaRegistryException.NONE,
          SchemaRegistryException.INVALID_COMPATIBILITY_LEVEL,
          e);
    }
  }

  private static SchemaRegistryException malformed(String context, String what, JsonNode answer) {
    String text = answer.toString();
    if (text.length() > MAX_ERROR_BODY_CHARS) {
      text = text.substring(0, MAX_ERROR_BODY_CHARS) + "...";
    }
    return new SchemaRegistryException(
        "unexpected schema registry answer for " + context + ", " + what + ": " + text,
        SchemaRegistryException.NONE,
        SchemaRegistryException.NONE);
  }

  /** Cache key: registries identify a schema by its canonical JSON, docs and defaults included. */
  private record SubjectSchema(String subject, String canonical) {
    static SubjectSchema of(String subject, Schema schema) {
      Objects.requireNonNull(schema, "schema");
      requireSubject(subject);
      return new SubjectSchema(subject, schema.toString());
    }
  }
}
