package io.saestream.schema.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.saestream.schema.registry.StubHttpServer.Answer;
import io.saestream.schema.registry.StubHttpServer.Request;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RestSchemaRegistryClientTest {

  private static final Schema SCHEMA =
      SchemaBuilder.record("Probe")
          .namespace("io.saestream.test")
          .fields()
          .requiredInt("a")
          .endRecord();
  private static final String SCHEMA_ANSWER = "{\"schema\":" + quoted(SCHEMA.toString()) + "}";

  private final List<StubHttpServer> servers = new ArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(StubHttpServer::close);
  }

  private StubHttpServer start(Answer... answers) throws IOException {
    StubHttpServer server = new StubHttpServer(answers);
    servers.add(server);
    return server;
  }

  @Test
  void retriesServerErrorsWithBackoffUntilTheRegistryAnswers() throws IOException {
    StubHttpServer stub =
        start(
            Answer.json(503, "{\"error_code\":50003,\"message\":\"forwarding failed\"}"),
            Answer.json(503, "{\"error_code\":50003,\"message\":\"forwarding failed\"}"),
            Answer.json(200, "{\"id\":7}"));

    int id = client(stub.url()).register("sae.activations.v1-value", SCHEMA);

    assertThat(id).isEqualTo(7);
    assertThat(stub.requests())
        .hasSize(3)
        .allSatisfy(
            r -> {
              assertThat(r.method()).isEqualTo("POST");
              assertThat(r.pathAndQuery()).isEqualTo("/subjects/sae.activations.v1-value/versions");
            });
  }

  @Test
  void givesUpAfterTheConfiguredRetriesWithTheLastError() throws IOException {
    StubHttpServer stub = start(Answer.json(503, "{\"error_code\":50003,\"message\":\"busy\"}"));
    RestSchemaRegistryClient client =
        new RestSchemaRegistryClient(fastRetries(stub.url()).withRetries(2, ms(1), ms(4)));

    assertThatThrownBy(() -> client.schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(503);
              assertThat(e.errorCode()).isEqualTo(50003);
            })
        .hasMessageContaining("busy")
        .hasMessageContaining("gave up after 3 attempts");
    assertThat(stub.requests()).hasSize(3);
  }

  @Test
  void clientErrorsAreNotRetriedAndKeepTheRegistryErrorCode() throws IOException {
    StubHttpServer stub =
        start(Answer.json(404, "{\"error_code\":40403,\"message\":\"Schema 5 not found\"}"));

    assertThatThrownBy(() -> client(stub.url()).schemaById(5))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(404);
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.SCHEMA_NOT_FOUND);
            })
        .hasMessageContaining("Schema 5 not found")
        .hasMessageContaining("GET " + stub.url() + "/schemas/ids/5");
    assertThat(stub.requests()).hasSize(1);
  }

  @Test
  void rateLimitingIsRetried() throws IOException {
    StubHttpServer stub =
        start(
            Answer.json(429, "{\"error_code\":42901,\"message\":\"slow down\"}"),
            Answer.json(200, SCHEMA_ANSWER));

    assertThat(client(stub.url()).schemaById(3)).isEqualTo(SCHEMA);
    assertThat(stub.requests()).hasSize(2);
  }

  @Test
  void aNonJsonErrorFromAProxyKeepsTheStatusAndTheText() throws IOException {
    StubHttpServer stub = start(Answer.text(403, "<html>403 Forbidden by proxy</html>"));

    assertThatThrownBy(() -> client(stub.url()).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(403);
              assertThat(e.errorCode()).isEqualTo(403);
            })
        .hasMessageContaining("Forbidden by proxy");
  }

  @Test
  void failsOverToTheNextUrlAndStaysWithTheOneThatAnswered() throws IOException {
    StubHttpServer stub = start(Answer.json(503, "{\"error_code\":50003,\"message\":\"down\"}"));
    StubHttpServer other = start(Answer.json(200, SCHEMA_ANSWER));
    RestSchemaRegistryClient client =
        new RestSchemaRegistryClient(
            SchemaRegistryClientConfig.of(stub.url() + "," + other.url())
                .withRetries(3, ms(1), ms(4)));

    client.schemaById(1);
    client.schemaById(2);

    assertThat(stub.requests()).hasSize(1);
    assertThat(other.requests())
        .extracting(Request::pathAndQuery)
        .containsExactly("/schemas/ids/1", "/schemas/ids/2");
  }

  @Test
  void aConnectionRefusedIsRetriedOnTheNextUrl() throws IOException {
    URI refused;
    try (StubHttpServer closedSoon = new StubHttpServer()) {
      refused = closedSoon.url();
    }
    StubHttpServer stub = start(Answer.json(200, SCHEMA_ANSWER));

    Schema schema =
        new RestSchemaRegistryClient(
                SchemaRegistryClientConfig.of(List.of(refused, stub.url()))
                    .withRetries(1, ms(1), ms(1)))
            .schemaById(1);

    assertThat(schema).isEqualTo(SCHEMA);
  }

  @Test
  void aRequestThatTimesOutIsRetried() throws IOException {
    StubHttpServer stub =
        start(
            Answer.json(200, "{\"id\":1}").delayedBy(Duration.ofSeconds(10)),
            Answer.json(200, "{\"id\":2}"));
    RestSchemaRegistryClient client =
        new RestSchemaRegistryClient(
            fastRetries(stub.url()).withTimeouts(Duration.ofSeconds(1), ms(300)));

    assertThat(client.register("s", SCHEMA)).isEqualTo(2);
    assertThat(stub.requests()).hasSize(2);
  }

  @Test
  void anUnreachableRegistryFailsWithoutStatusOrCode() throws IOException {
    URI refused;
    try (StubHttpServer closedSoon = new StubHttpServer()) {
      refused = closedSoon.url();
    }

    assertThatThrownBy(() -> client(refused).schemaById(1))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NONE);
              assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.NONE);
              assertThat(e.getCause()).isInstanceOf(SchemaRegistryException.class);
              assertThat(e.getCause()).hasCauseInstanceOf(IOException.class);
            });
  }

  @Test
  void requestsCarryTheRegistryMediaTypeBasicAuthAndTheSchemaJson() throws Exception {
    StubHttpServer stub = start(Answer.json(200, "{\"id\":4}"));
    RestSchemaRegistryClient client =
        new RestSchemaRegistryClient(
            fastRetries(stub.url())
                .withBasicAuth(SchemaRegistryClientConfig.BasicAuth.parse("user:p:ss")));

    client.register("sae.features.v1-value", SCHEMA);

    Request request = stub.requests().get(0);
    assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
    assertThat(request.authorization()).isEqualTo("Basic dXNlcjpwOnNz");
    JsonNode body = new ObjectMapper().readTree(request.body());
    assertThat(new Schema.Parser().parse(body.get("schema").textValue())).isEqualTo(SCHEMA);
  }

  @Test
  void schemasTravelWithoutJavaOnlyProperties() throws Exception {
    StubHttpServer stub =
        start(
            Answer.json(200, "{\"id\":4}"),
            Answer.json(200, "{\"subject\":\"s\",\"version\":1,\"id\":4}"),
            Answer.json(200, "{\"is_compatible\":true}"));
    RestSchemaRegistryClient client = client(stub.url());
    Schema generated = io.saestream.schema.v1.FeatureBatch.getClassSchema();

    client.register("s", generated);
    client.lookup("s", generated);
    client.isCompatible("s", generated);

    assertThat(stub.requests())
        .hasSize(3)
        .allSatisfy(
            r -> {
              String sent = new ObjectMapper().readTree(r.body()).get("schema").textValue();
              assertThat(sent).doesNotContain("avro.java.string");
              assertThat(new Schema.Parser().parse(sent)).isEqualTo(PortableSchema.of(generated));
            });
    assertThat(generated.toString()).contains("avro.java.string");
  }

  @Test
  void subjectsArePercentEncodedAsOnePathSegment() throws IOException {
    StubHttpServer stub = start(Answer.json(200, "{\"id\":4}"));

    client(stub.url()).register("odd subject/ä", SCHEMA);

    assertThat(stub.requests().get(0).pathAndQuery())
        .isEqualTo("/subjects/odd%20subject%2F%C3%A4/versions");
  }

  @Test
  void idsAndSchemasAreCachedButTheLatestVersionIsNot() throws IOException {
    String latest = "{\"subject\":\"s\",\"version\":2,\"id\":9," + SCHEMA_ANSWER.substring(1);
    StubHttpServer stub =
        start(
            Answer.json(200, "{\"id\":9}"),
            Answer.json(200, "{\"subject\":\"s\",\"version\":2,\"id\":9}"),
            Answer.json(200, latest));
    RestSchemaRegistryClient client = client(stub.url());

    assertThat(client.register("s", SCHEMA)).isEqualTo(9);
    assertThat(client.register("s", SCHEMA)).isEqualTo(9);
    assertThat(client.schemaById(9)).isEqualTo(SCHEMA);
    assertThat(client.lookup("s", SCHEMA)).isEqualTo(new RegisteredSchema("s", 9, 2, SCHEMA));
    assertThat(client.lookup("s", SCHEMA).version()).isEqualTo(2);
    assertThat(client.latest("s").version()).isEqualTo(2);
    assertThat(client.latest("s").id()).isEqualTo(9);

    assertThat(stub.requests())
        .extracting(r -> r.method() + " " + r.pathAndQuery())
        .containsExactly(
            "POST /subjects/s/versions",
            "POST /subjects/s",
            "GET /subjects/s/versions/latest",
            "GET /subjects/s/versions/latest");
  }

  @Test
  void anAnswerWithoutTheExpectedFieldIsAnError() throws IOException {
    StubHttpServer stub = start(Answer.json(200, "{\"identifier\":4}"));

    assertThatThrownBy(() -> client(stub.url()).register("s", SCHEMA))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("no integer 'id'");
  }

  @Test
  void aSchemaThatIsNotAvroIsAnInvalidSchema() throws IOException {
    StubHttpServer stub =
        start(
            Answer.json(
                200, "{\"schema\":\"syntax = \\\"proto3\\\";\",\"schemaType\":\"PROTOBUF\"}"),
            Answer.json(200, "{\"schema\":\"{not avro\"}"));
    RestSchemaRegistryClient client = client(stub.url());

    for (int id : new int[] {1, 2}) {
      assertThatThrownBy(() -> client.schemaById(id))
          .isInstanceOfSatisfying(
              SchemaRegistryException.class,
              e -> assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.INVALID_SCHEMA));
    }
  }

  @Test
  void compatibilityCallsUseTheConfluentPathsAndFields() throws IOException {
    StubHttpServer stub =
        start(
            Answer.json(200, "{\"is_compatible\":false}"),
            Answer.json(200, "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}"),
            Answer.json(200, "{\"compatibility\":\"NONE\"}"));
    RestSchemaRegistryClient client = client(stub.url());

    assertThat(client.isCompatible("s", SCHEMA)).isFalse();
    assertThat(client.compatibility("s")).isEqualTo(CompatibilityLevel.FULL_TRANSITIVE);
    assertThat(client.updateCompatibility("s", CompatibilityLevel.NONE))
        .isEqualTo(CompatibilityLevel.NONE);

    assertThat(stub.requests())
        .extracting(r -> r.method() + " " + r.pathAndQuery() + " " + r.body())
        .containsExactly(
            "POST /compatibility/subjects/s/versions/latest {\"schema\":"
                + quoted(SCHEMA.toString())
                + "}",
            "GET /config/s?defaultToGlobal=true ",
            "PUT /config/s {\"compatibility\":\"NONE\"}");
  }

  @Test
  void anInterruptedCallerGetsAnErrorAndKeepsItsInterruptFlag() throws IOException {
    StubHttpServer stub = start(Answer.json(503, "{}"));
    RestSchemaRegistryClient client = client(stub.url());

    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> client.schemaById(1))
          .isInstanceOf(SchemaRegistryException.class)
          .hasMessageContaining("interrupted");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  private static RestSchemaRegistryClient client(URI url) {
    return new RestSchemaRegistryClient(fastRetries(url));
  }

  private static SchemaRegistryClientConfig fastRetries(URI url) {
    return SchemaRegistryClientConfig.of(List.of(url)).withRetries(3, ms(1), ms(4));
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }

  private static String quoted(String text) {
    try {
      return new ObjectMapper().writeValueAsString(text);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
