package io.saestream.embedded.registry;

import static io.saestream.embedded.registry.ProbeSchemas.ADDS_REQUIRED_FIELD;
import static io.saestream.embedded.registry.ProbeSchemas.DROPS_REQUIRED_FIELD;
import static io.saestream.embedded.registry.ProbeSchemas.RETYPES_A_WITH_DEFAULT;
import static io.saestream.embedded.registry.ProbeSchemas.V1;
import static io.saestream.embedded.registry.ProbeSchemas.V2_ADDS_DEFAULTED_FIELD;
import static io.saestream.embedded.registry.RegistryHttp.schemaBody;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.saestream.embedded.registry.RegistryHttp.Answer;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EmbeddedSchemaRegistryTest {

  private final EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start();
  private final RegistryHttp http = new RegistryHttp(registry.url());

  @AfterEach
  void stop() {
    registry.close();
  }

  @Test
  void idsStartAtOneAndOneSchemaHasOneIdUnderEverySubject() {
    assertThat(register("a-value", V1)).isEqualTo(1);
    assertThat(register("b-value", V1)).isEqualTo(1);
    assertThat(register("a-value", V2_ADDS_DEFAULTED_FIELD)).isEqualTo(2);

    Answer byId = http.get("/schemas/ids/1");
    assertThat(byId.status()).isEqualTo(200);
    assertThat(new Schema.Parser().parse(byId.json().get("schema").asText())).isEqualTo(V1);
    assertThat(http.get("/subjects").json()).containsExactly(text("a-value"), text("b-value"));
  }

  @Test
  void reRegisteringASchemaReturnsItsIdWithoutANewVersion() {
    int id = register("a-value", V1);
    String reformatted = reformatted(V1);

    assertThat(
            http.post("/subjects/a-value/versions", schemaBody(reformatted))
                .json()
                .get("id")
                .asInt())
        .isEqualTo(id);
    assertThat(register("a-value", V1)).isEqualTo(id);
    assertThat(http.get("/subjects/a-value/versions").json()).hasSize(1);
  }

  @Test
  void versionsCountFromOnePerSubject() {
    register("other-value", V2_ADDS_DEFAULTED_FIELD);
    register("a-value", V1);
    register("a-value", V2_ADDS_DEFAULTED_FIELD);

    assertThat(http.get("/subjects/a-value/versions").text()).isEqualTo("[1,2]");
    JsonNode latest = http.get("/subjects/a-value/versions/latest").json();
    assertThat(latest.get("subject").asText()).isEqualTo("a-value");
    assertThat(latest.get("version").asInt()).isEqualTo(2);
    assertThat(latest.get("id").asInt()).isEqualTo(1);
    assertThat(http.get("/subjects/a-value/versions/-1").json()).isEqualTo(latest);
    assertThat(http.get("/subjects/a-value/versions/1").json().get("id").asInt()).isEqualTo(2);
    assertThat(new Schema.Parser().parse(http.get("/subjects/a-value/versions/1/schema").text()))
        .isEqualTo(V1);
  }

  @Test
  void backwardIsTheDefaultAndAnIncompatibleSchemaIsRefusedWith409() {
    register("a-value", V1);

    Answer refused = http.post("/subjects/a-value/versions", schemaBody(ADDS_REQUIRED_FIELD));

    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.errorCode()).isEqualTo(409);
    assertThat(refused.json().get("message").asText())
        .contains("incompatible with an earlier schema for subject \"a-value\"")
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
        .contains("/fields/1");
    assertThat(http.get("/subjects/a-value/versions").text()).isEqualTo("[1]");
    assertThat(http.get("/config").json().get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
  }

  @ParameterizedTest(name = "{0}: add required field {1}, drop required field {2}")
  @CsvSource({
    "NONE,     true,  true",
    "BACKWARD, false, true",
    "FORWARD,  true,  false",
    "FULL,     false, false",
  })
  void eachLevelChecksItsDirection(String level, boolean addAllowed, boolean dropAllowed) {
    assertThat(http.put("/config", "{\"compatibility\":\"" + level + "\"}").status())
        .isEqualTo(200);
    register("add-value", V1);
    register("drop-value", V1);

    int add = http.post("/subjects/add-value/versions", schemaBody(ADDS_REQUIRED_FIELD)).status();
    int drop =
        http.post("/subjects/drop-value/versions", schemaBody(DROPS_REQUIRED_FIELD)).status();

    assertThat(add).isEqualTo(addAllowed ? 200 : 409);
    assertThat(drop).isEqualTo(dropAllowed ? 200 : 409);
  }

  @Test
  void transitiveLevelsCheckEveryEarlierVersion() {
    for (String subject : List.of("plain", "transitive")) {
      register(subject, V1);
      register(subject, DROPS_REQUIRED_FIELD);
    }
    http.put("/config/transitive", "{\"compatibility\":\"BACKWARD_TRANSITIVE\"}");

    assertThat(http.post("/subjects/plain/versions", schemaBody(RETYPES_A_WITH_DEFAULT)).status())
        .isEqualTo(200);
    Answer refused = http.post("/subjects/transitive/versions", schemaBody(RETYPES_A_WITH_DEFAULT));
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.json().get("message").asText()).contains("version 1");
  }

  @Test
  void compatibilityLevelIsSetPerSubjectOrGlobally() {
    register("a-value", V1);

    Answer put = http.put("/config/a-value", "{\"compatibility\":\"none\"}");
    assertThat(put.json().get("compatibility").asText()).isEqualTo("NONE");
    assertThat(register("a-value", ADDS_REQUIRED_FIELD)).isEqualTo(2);
    assertThat(http.get("/config/a-value").json().get("compatibilityLevel").asText())
        .isEqualTo("NONE");

    Answer unset = http.get("/config/b-value");
    assertThat(unset.status()).isEqualTo(404);
    assertThat(unset.errorCode()).isEqualTo(40408);
    assertThat(
            http.get("/config/b-value?defaultToGlobal=true")
                .json()
                .get("compatibilityLevel")
                .asText())
        .isEqualTo("BACKWARD");

    http.put("/config", "{\"compatibility\":\"FULL\"}");
    assertThat(http.get("/config").json().get("compatibilityLevel").asText()).isEqualTo("FULL");
    assertThat(http.delete("/config/a-value").json().get("compatibilityLevel").asText())
        .isEqualTo("NONE");
    assertThat(http.get("/config/a-value").errorCode()).isEqualTo(40408);
    assertThat(http.delete("/config/a-value").errorCode()).isEqualTo(40408);

    Answer invalid = http.put("/config/a-value", "{\"compatibility\":\"SIDEWAYS\"}");
    assertThat(invalid.status()).isEqualTo(422);
    assertThat(invalid.errorCode()).isEqualTo(42203);
  }

  @Test
  void compatibilityEndpointAnswersIsCompatibleWithOptionalMessages() {
    register("a-value", V1);

    assertThat(
            compatible("/compatibility/subjects/a-value/versions/latest", V2_ADDS_DEFAULTED_FIELD))
        .isTrue();
    assertThat(compatible("/compatibility/subjects/a-value/versions/1", ADDS_REQUIRED_FIELD))
        .isFalse();
    assertThat(compatible("/compatibility/subjects/a-value/versions", ADDS_REQUIRED_FIELD))
        .isFalse();
    assertThat(compatible("/compatibility/subjects/new-value/versions/latest", ADDS_REQUIRED_FIELD))
        .isTrue();

    Answer verbose =
        http.post(
            "/compatibility/subjects/a-value/versions/latest?verbose=true",
            schemaBody(ADDS_REQUIRED_FIELD));
    assertThat(verbose.json().get("messages")).isNotEmpty();
    assertThat(verbose.json().get("messages").get(0).asText())
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE");

    assertThat(
            http.post("/compatibility/subjects/new-value/versions/1", schemaBody(V1)).errorCode())
        .isEqualTo(40401);
    assertThat(http.post("/compatibility/subjects/a-value/versions/7", schemaBody(V1)).errorCode())
        .isEqualTo(40402);
  }

  @Test
  void lookupFindsARegisteredSchemaOrSaysWhatIsMissing() {
    register("other-value", V2_ADDS_DEFAULTED_FIELD);
    register("a-value", V1);

    JsonNode found = http.post("/subjects/a-value", schemaBody(reformatted(V1))).json();
    assertThat(found.get("subject").asText()).isEqualTo("a-value");
    assertThat(found.get("version").asInt()).isEqualTo(1);
    assertThat(found.get("id").asInt()).isEqualTo(2);
    assertThat(found.get("schema").asText()).isEqualTo(V1.toString());

    Answer noSubject = http.post("/subjects/nope", schemaBody(V1));
    assertThat(noSubject.status()).isEqualTo(404);
    assertThat(noSubject.errorCode()).isEqualTo(40401);
    Answer notUnderSubject = http.post("/subjects/a-value", schemaBody(V2_ADDS_DEFAULTED_FIELD));
    assertThat(notUnderSubject.status()).isEqualTo(404);
    assertThat(notUnderSubject.errorCode()).isEqualTo(40403);
  }

  @Test
  void schemaByIdAcceptsTheQueryStringsAndTrailingSlashOfConfluentClients() {
    register("a-value", V1);
    String expected = V1.toString();

    for (String path :
        List.of(
            "/schemas/ids/1",
            "/schemas/ids/1/",
            "/schemas/ids/1?fetchMaxId=false",
            "/schemas/ids/1?subject=a-value",
            "/schemas/ids/1?fetchMaxId=false&subject=a-value")) {
      Answer answer = http.get(path);
      assertThat(answer.status()).as(path).isEqualTo(200);
      assertThat(answer.json().get("schema").asText()).as(path).isEqualTo(expected);
    }
    assertThat(http.get("/schemas/ids/1?fetchMaxId=true").json().get("maxId").asInt()).isEqualTo(1);
  }

  @Test
  void schemaIdsListTheirSubjectsAndVersions() {
    register("a-value", V2_ADDS_DEFAULTED_FIELD);
    register("b-value", V1);
    register("b-value", V2_ADDS_DEFAULTED_FIELD);

    assertThat(http.get("/schemas/ids/1/subjects").text()).isEqualTo("[\"a-value\",\"b-value\"]");
    assertThat(http.get("/schemas/ids/1/versions").text())
        .isEqualTo(
            "[{\"subject\":\"a-value\",\"version\":1},{\"subject\":\"b-value\",\"version\":2}]");
    assertThat(new Schema.Parser().parse(http.get("/schemas/ids/2/schema").text())).isEqualTo(V1);
    assertThat(http.get("/schemas/types").text()).isEqualTo("[\"AVRO\"]");
  }

  @Test
  void badRequestsGetConfluentErrorCodes() {
    register("a-value", V1);

    assertError(http.get("/schemas/ids/99"), 404, 40403);
    assertError(http.get("/schemas/ids/abc"), 404, 40403);
    assertError(http.get("/subjects/nope/versions"), 404, 40401);
    assertError(http.get("/subjects/nope/versions/latest"), 404, 40401);
    assertError(http.get("/subjects/a-value/versions/9"), 404, 40402);
    assertError(http.get("/subjects/a-value/versions/0"), 422, 42202);
    assertError(http.get("/subjects/a-value/versions/first"), 422, 42202);
    assertError(http.post("/subjects/a-value/versions", schemaBody("{not json")), 422, 42201);
    assertError(
        http.post("/subjects/a-value/versions", schemaBody("{\"type\":\"record\"}")), 422, 42201);
    assertError(http.post("/subjects/a-value/versions", "{\"schema\":\"\"}"), 422, 42201);
    assertError(http.post("/subjects/a-value/versions", "{}"), 422, 42201);
    assertError(
        http.post(
            "/subjects/a-value/versions",
            "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}"),
        422,
        42201);
    assertError(
        http.post(
            "/subjects/a-value/versions",
            "{\"schema\":\"\\\"int\\\"\",\"references\":[{\"name\":\"x\",\"subject\":\"y\","
                + "\"version\":1}]}"),
        422,
        42201);
    assertError(http.post("/subjects/a-value/versions", "{\"schema\":"), 400, 400);
    assertError(http.post("/subjects/a-value/versions", "[1]"), 422, 422);
    assertError(http.get("/no/such/path"), 404, 404);
    assertError(http.get("/subjects/a-value/nonsense"), 404, 404);
    assertError(http.delete("/subjects"), 405, 405);
    assertError(http.put("/subjects/a-value/versions", schemaBody(V1)), 405, 405);
  }

  @Test
  void everyAnswerUsesTheRegistryMediaType() {
    assertThat(http.get("/subjects").contentType())
        .isEqualTo("application/vnd.schemaregistry.v1+json");
    assertThat(http.get("/schemas/ids/1").contentType())
        .isEqualTo("application/vnd.schemaregistry.v1+json");
  }

  @Test
  void subjectsWithReservedCharactersTravelPercentEncoded() {
    assertThat(http.post("/subjects/odd%20subject%2F%C3%A4+1/versions", schemaBody(V1)).status())
        .isEqualTo(200);

    assertThat(http.get("/subjects").json()).containsExactly(text("odd subject/ä+1"));
  }

  @Test
  void concurrentRegistrationsOfOneSchemaShareOneIdAndOneVersion() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Integer>> calls = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        String subject = i % 2 == 0 ? "shared-value" : "s" + i + "-value";
        calls.add(() -> register(subject, V1));
      }
      for (Future<Integer> id : pool.invokeAll(calls)) {
        assertThat(id.get()).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(http.get("/subjects/shared-value/versions").text()).isEqualTo("[1]");
    assertThat(http.get("/subjects").json()).hasSize(17);
  }

  @Test
  void requestsAreCounted() {
    long before = registry.requestCount();

    http.get("/subjects");
    http.get("/no/such/path");

    assertThat(registry.requestCount()).isEqualTo(before + 2);
  }

  @Test
  void closeReleasesThePortAndIsIdempotent() {
    URI url = registry.url();
    register("a-value", V1);

    registry.close();
    registry.close();

    assertThatThrownBy(registry::url).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new RegistryHttp(url).get("/subjects"))
        .isInstanceOf(UncheckedIOException.class);
    try (EmbeddedSchemaRegistry again = EmbeddedSchemaRegistry.start(url.getPort())) {
      assertThat(again.url()).isEqualTo(url);
      assertThat(new RegistryHttp(url).get("/subjects").text()).isEqualTo("[]");
    }
  }

  @Test
  void startRejectsAnImpossiblePort() {
    assertThatThrownBy(() -> EmbeddedSchemaRegistry.start(70_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be in [0, 65535], was 70000");
  }

  @Test
  void startReportsAPortInUse() {
    assertThatThrownBy(() -> EmbeddedSchemaRegistry.start(registry.url().getPort()))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("cannot bind");
  }

  private int register(String subject, Object schema) {
    Answer answer = http.post("/subjects/" + subject + "/versions", schemaBody(schema));
    assertThat(answer.status()).as(answer.text()).isEqualTo(200);
    return answer.json().get("id").asInt();
  }

  private boolean compatible(String path, Schema schema) {
    Answer answer = http.post(path, schemaBody(schema));
    assertThat(answer.status()).as(answer.text()).isEqualTo(200);
    return answer.json().get("is_compatible").asBoolean();
  }

  private static void assertError(Answer answer, int status, int errorCode) {
    assertThat(answer.status()).as(answer.text()).isEqualTo(status);
    assertThat(answer.errorCode()).as(answer.text()).isEqualTo(errorCode);
    assertThat(answer.json().get("message").asText()).isNotBlank();
  }

  /** The same schema with other whitespace. */
  private static String reformatted(Schema schema) {
    try {
      return RegistryHttp.JSON.readTree(schema.toString()).toPrettyString();
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode text(String value) {
    return RegistryHttp.JSON.getNodeFactory().textNode(value);
  }
}
