package io.saestream.embedded.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps the Confluent Schema Registry REST API subset onto a {@link SchemaStore}. Stateless apart
 * from a request counter; thread-safe.
 */
final class RegistryHttpHandler implements HttpHandler {

  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(RegistryHttpHandler.class);

  private final SchemaStore store;
  private final AtomicLong requests = new AtomicLong();

  RegistryHttpHandler(SchemaStore store) {
    this.store = store;
  }

  long requestCount() {
    return requests.get();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    try (exchange) {
      Response response;
      try {
        response = route(exchange);
      } catch (RegistryException e) {
        response = error(e.httpStatus(), e.errorCode(), String.valueOf(e.getMessage()));
      } catch (RuntimeException e) {
        LOG.error(
            "Embedded schema registry failed on {} {}",
            exchange.getRequestMethod(),
            exchange.getRequestURI(),
            e);
        response = error(500, 50001, "Internal error: " + e);
      }
      LOG.debug(
          "{} {} -> {}", exchange.getRequestMethod(), exchange.getRequestURI(), response.status());
      exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(response.status(), bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private Response route(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
    List<String> path = segments(exchange.getRequestURI().getRawPath());
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    byte[] body = exchange.getRequestBody().readAllBytes();
    if (path.isEmpty()) {
      return method.equals("GET") ? json(JSON.createObjectNode()) : methodNotAllowed();
    }
    return switch (path.get(0)) {
      case "schemas" -> schemas(method, path, query);
      case "subjects" -> subjects(method, path, body);
      case "compatibility" -> compatibility(method, path, query, body);
      case "config" ->
          path.size() <= 2
              ? config(method, path.size() == 2 ? path.get(1) : null, query, body)
              : notFound();
      default -> notFound();
    };
  }

  private Response schemas(String method, List<String> path, Map<String, String> query) {
    int size = path.size();
    if (size == 2 && path.get(1).equals("types")) {
      return method.equals("GET") ? json(JSON.createArrayNode().add("AVRO")) : methodNotAllowed();
    }
    if (size < 3 || size > 4 || !path.get(1).equals("ids")) {
      return notFound();
    }
    if (!method.equals("GET")) {
      return methodNotAllowed();
    }
    int id = schemaId(path.get(2));
    if (size == 3) {
      ObjectNode answer = JSON.createObjectNode().put("schema", store.schemaById(id));
      if (Boolean.parseBoolean(query.get("fetchMaxId"))) {
        answer.put("maxId", store.maxId());
      }
      return json(answer);
    }
    return switch (path.get(3)) {
      case "schema" -> raw(store.schemaById(id));
      case "subjects" ->
          json(toArray(store.versionsOfId(id).stream().map(v -> v.subject()).toList()));
      case "versions" -> {
        ArrayNode versions = JSON.createArrayNode();
        for (SchemaStore.Version v : store.versionsOfId(id)) {
          versions.addObject().put("subject", v.subject()).put("version", v.version());
        }
        yield json(versions);
      }
      default -> notFound();
    };
  }

  private Response compatibility(
      String method, List<String> path, Map<String, String> query, byte[] body) {
    int size = path.size();
    if ((size != 4 && size != 5)
        || !path.get(1).equals("subjects")
        || !path.get(3).equals("versions")) {
      return notFound();
    }
    if (!method.equals("POST")) {
      return methodNotAllowed();
    }
    SchemaStore.Compatibility result =
        store.testCompatibility(
            path.get(2), size == 5 ? path.get(4) : null, schemaText(requestObject(body)));
    ObjectNode answer = JSON.createObjectNode().put("is_compatible", result.compatible());
    if (Boolean.parseBoolean(query.get("verbose"))) {
      answer.set("messages", toArray(result.messages()));
    }
    return json(answer);
  }

  private Response subjects(String method, List<String> path, byte[] body) throws IOException {
    int size = path.size();
    if (size == 1) {
      return method.equals("GET") ? json(toArray(store.subjects())) : methodNotAllowed();
    }
    String subject = path.get(1);
    if (size == 2) {
      if (!method.equals("POST")) {
        return methodNotAllowed();
      }
      return json(versionJson(store.lookup(subject, schemaText(requestObject(body)))));
    }
    if (!path.get(2).equals("versions") || size > 5) {
      return notFound();
    }
    if (size == 3) {
      return switch (method) {
        case "GET" -> json(toArray(store.versions(subject)));
        case "POST" ->
            json(
                JSON.createObjectNode()
                    .put("id", store.register(subject, schemaText(requestObject(body)))));
        default -> methodNotAllowed();
      };
    }
    if (!method.equals("GET")) {
      return methodNotAllowed();
    }
    SchemaStore.Version version = store.version(subject, path.get(3));
    if (size == 4) {
      return json(versionJson(version));
    }
    return path.get(4).equals("schema") ? raw(version.schema()) : notFound();
  }

  private Response config(
      String method, @Nullable String subject, Map<String, String> query, byte[] body)
      throws IOException {
    return switch (method) {
      case "GET" -> {
        CompatibilityLevel level;
        if (subject == null) {
          level = store.globalLevel();
        } else if (Boolean.parseBoolean(query.get("defaultToGlobal"))) {
          level = store.subjectLevel(subject).orElse(store.globalLevel());
        } else {
          level = store.subjectLevel(subject).orElseThrow(() -> SchemaStore.notConfigured(subject));
        }
        yield json(JSON.createObjectNode().put("compatibilityLevel", level.name()));
      }
      case "PUT" -> {
        JsonNode compatibility = requestObject(body).get("compatibility");
        CompatibilityLevel requested =
            CompatibilityLevel.parse(
                compatibility == null || !compatibility.isTextual() ? "" : compatibility.asText());
        if (subject == null) {
          store.setGlobalLevel(requested);
        } else {
          store.setSubjectLevel(subject, requested);
        }
        yield json(JSON.createObjectNode().put("compatibility", requested.name()));
      }
      case "DELETE" -> {
        if (subject == null) {
          yield methodNotAllowed();
        }
        CompatibilityLevel removed = store.clearSubjectLevel(subject);
        yield json(JSON.createObjectNode().put("compatibilityLevel", removed.name()));
      }
      default -> methodNotAllowed();
    };
  }

  private static ObjectNode versionJson(SchemaStore.Version version) {
    return JSON.createObjectNode()
        .put("subject", version.subject())
        .put("version", version.version())
        .put("id", version.id())
        .put("schema", version.schema());
  }

  private static JsonNode requestObject(byte[] body) {
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (IOException e) {
      throw new RegistryException(400, 400, "Malformed JSON request body: " + e.getMessage());
    }
    if (node == null || !node.isObject()) {
      throw new RegistryException(422, 422, "Request body must be a JSON object");
    }
    return node;
  }

  private static String schemaText(JsonNode request) {
    JsonNode type = request.get("schemaType");
    if (type != null && !type.isNull() && !type.asText().equalsIgnoreCase("AVRO")) {
      throw RegistryException.invalidSchema(
          "schemaType " + type.asText() + " is not supported; this registry holds AVRO only");
    }
    JsonNode references = request.get("references");
    if (references != null && !references.isNull() && !references.isEmpty()) {
      throw RegistryException.invalidSchema("schema references are not supported");
    }
    JsonNode schema = request.get("schema");
    if (schema == null || !schema.isTextual()) {
      throw RegistryException.invalidSchema("the request has no string field 'schema'");
    }
    return schema.textValue();
  }

  private static int schemaId(String text) {
    if (text.matches("[0-9]{1,10}") && Long.parseLong(text) <= Integer.MAX_VALUE) {
      return Integer.parseInt(text);
    }
    throw RegistryException.schemaNotFound("Schema " + text + " not found");
  }

  private static List<String> segments(String rawPath) {
    List<String> segments = new ArrayList<>();
    for (String raw : rawPath.split("/", -1)) {
      if (!raw.isEmpty()) {
        // URLDecoder decodes forms, where '+' is a space; in a path it is a plus.
        segments.add(URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
    }
    return segments;
  }

  private static Map<String, String> query(@Nullable String rawQuery) {
    Map<String, String> params = new HashMap<>();
    if (rawQuery == null) {
      return params;
    }
    for (String pair : rawQuery.split("&", -1)) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.put(
          URLDecoder.decode(key, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return params;
  }

  private static ArrayNode toArray(List<?> values) {
    ArrayNode array = JSON.createArrayNode();
    for (Object value : values) {
      if (value instanceof Integer number) {
        array.add(number);
      } else {
        array.add(String.valueOf(value));
      }
    }
    return array;
  }

  private static Response json(JsonNode node) {
    try {
      return new Response(200, JSON.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a JSON tree", e);
    }
  }

  private static Response raw(String text) {
    return new Response(200, text);
  }

  private static Response notFound() {
    return error(404, 404, "HTTP 404 Not Found");
  }

  private static Response methodNotAllowed() {
    return error(405, 405, "HTTP 405 Method Not Allowed");
  }

  private static Response error(int status, int errorCode, String message) {
    ObjectNode node = JSON.createObjectNode().put("error_code", errorCode).put("message", message);
    try {
      return new Response(status, JSON.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a JSON tree", e);
    }
  }

  private record Response(int status, String body) {}
}
