package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Validation and defaults of the exporter's public value types. */
class ExportOptionsTest {

  private static final String SHA = "0123456789abcdef".repeat(4);

  @Test
  void defaultsBuildTheAnalyzeGraphWithAutomaticExternalData() {
    ExportOptions d = ExportOptions.defaults();

    assertThat(d.graph()).isEqualTo(GraphKind.ANALYZE);
    assertThat(d.maxActive()).isNull();
    assertThat(d.externalData()).isEqualTo(ExternalDataMode.AUTO);
    assertThat(d.saeId()).isNull();
    assertThat(d.version()).isZero();
    assertThat(d.sourceSha256()).isNull();
  }

  @Test
  void withersChangeOneComponentEach() {
    ExportProgressListener listener = (done, total) -> {};
    ExportOptions o =
        ExportOptions.defaults()
            .withGraph(GraphKind.DECODER)
            .withMaxActive(64)
            .withExternalData(ExternalDataMode.NEVER)
            .withSaeId("gemma-l12")
            .withVersion(7)
            .withProgress(listener)
            .withSourceSha256(SHA);

    assertThat(o)
        .isEqualTo(
            new ExportOptions(
                GraphKind.DECODER, 64, ExternalDataMode.NEVER, "gemma-l12", 7, listener, SHA));
  }

  @Test
  void invalidComponentsAreRefusedWithTheOffendingValue() {
    ExportOptions d = ExportOptions.defaults();
    assertThatThrownBy(() -> d.withMaxActive(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxActive must be > 0, was 0");
    assertThatThrownBy(() -> d.withVersion(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("version must be >= 0, was -3");
    assertThatThrownBy(() -> d.withSaeId(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("saeId must not be blank when given");
    assertThatThrownBy(() -> d.withSourceSha256("ABC"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sourceSha256 must be 64 lowercase hex digits, was 'ABC'");
  }

  @Test
  void graphKindsParseTheirCommandLineNames() {
    assertThat(GraphKind.fromCliName("analyze")).isEqualTo(GraphKind.ANALYZE);
    assertThat(GraphKind.fromCliName("Encoder")).isEqualTo(GraphKind.ENCODER);
    assertThat(GraphKind.DECODER.cliName()).isEqualTo("decoder");
    assertThatThrownBy(() -> GraphKind.fromCliName("dense"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown graph 'dense', expected one of analyze, encoder, decoder");
  }

  @Test
  void tensorSpecsValidateAndPrintCompactly() {
    TensorSpec s = new TensorSpec("indices", "int64", List.of("N", "32"));

    assertThat(s).hasToString("indices: int64[N, 32]");
    assertThatThrownBy(() -> new TensorSpec("x", "float16", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("elementType must be float32 or int64, was float16");
    assertThatThrownBy(() -> new TensorSpec("", "int64", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name must not be empty");
  }
}
