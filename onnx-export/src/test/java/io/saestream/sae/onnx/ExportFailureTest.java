package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.sae.checkpoint.ActivationNormalization;
import io.saestream.sae.checkpoint.Architecture;
import io.saestream.sae.checkpoint.DType;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.SyntheticTensor;
import io.saestream.sae.checkpoint.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every way an export can be refused or fail, and that failures leave no partial files. */
class ExportFailureTest {

  private final SaeCheckpoint sae =
      TestSaes.random(TestSaes.spec(Architecture.STANDARD, 16, 64, 0), 2);

  @Test
  void missingOutputDirectoryIsAClearErrorAndCreatesNothing(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("missing").resolve("sae.onnx");

    assertThatThrownBy(() -> SaeOnnxExporter.export(sae, out, ExportOptions.defaults()))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(dir.resolve("missing").toString())
        .hasMessageContaining("output directory does not exist");
    assertThat(listing(dir)).isEmpty();
  }

  @Test
  void outputUnderARegularFileIsAClearErrorAndCreatesNothing(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");

    assertThatThrownBy(
            () -> SaeOnnxExporter.export(sae, file.resolve("sae.onnx"), ExportOptions.defaults()))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("not a directory");
    assertThat(listing(dir)).containsExactly(file);
  }

  @Test
  void outputPathThatIsADirectoryIsRefused(@TempDir Path dir) {
    assertThatThrownBy(() -> SaeOnnxExporter.export(sae, dir, ExportOptions.defaults()))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("output path is a directory");
  }

  @ParameterizedTest
  @EnumSource(
      value = ExternalDataMode.class,
      names = {"NEVER", "ALWAYS"})
  void failureWhileStreamingWeightsLeavesThePreviousModelAndNoPartialFiles(
      ExternalDataMode mode, @TempDir Path dir) throws Exception {
    Path out = Files.writeString(dir.resolve("sae.onnx"), "previous model");
    Map<String, Tensor> tensors = new LinkedHashMap<>(sae.tensors());
    tensors.put("W_dec", new FailingTensor((FloatTensor) sae.tensor("W_dec"), 1000));
    SaeCheckpoint failing = SaeCheckpoint.of(sae.config(), tensors);

    assertThatThrownBy(
            () ->
                SaeOnnxExporter.export(
                    failing, out, ExportOptions.defaults().withExternalData(mode)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("simulated disk failure");
    assertThat(listing(dir)).containsExactly(out);
    assertThat(Files.readString(out)).isEqualTo("previous model");
  }

  @Test
  void throwingProgressListenerAbortsTheExportAndCleansUp(@TempDir Path dir) throws Exception {
    ExportOptions options =
        ExportOptions.defaults()
            .withExternalData(ExternalDataMode.ALWAYS)
            .withProgress(
                (done, total) -> {
                  throw new IllegalStateException("cancelled by the user");
                });

    assertThatThrownBy(() -> SaeOnnxExporter.export(sae, dir.resolve("sae.onnx"), options))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("cancelled by the user");
    assertThat(listing(dir)).isEmpty();
  }

  @Test
  void progressIsMonotonicAndEndsAtTheTotalWeightBytes(@TempDir Path dir) throws Exception {
    SaeCheckpoint big = TestSaes.random(TestSaes.spec(Architecture.TOPK, 256, 8192, 16), 4);
    List<long[]> reports = new ArrayList<>();
    ExportSummary summary =
        SaeOnnxExporter.export(
            big,
            dir.resolve("sae.onnx"),
            ExportOptions.defaults().withProgress((d, t) -> reports.add(new long[] {d, t})));

    assertThat(reports).hasSizeGreaterThan(1);
    long previous = 0;
    for (long[] r : reports) {
      assertThat(r[1]).isEqualTo(summary.weightBytes());
      assertThat(r[0]).isGreaterThanOrEqualTo(previous).isLessThanOrEqualTo(r[1]);
      previous = r[0];
    }
    assertThat(previous).isEqualTo(summary.weightBytes());
    // W_enc, b_enc, W_dec, b_dec and the decoder norms, as float32.
    assertThat(summary.weightBytes()).isEqualTo(4L * (2 * 256 * 8192 + 8192 + 256 + 8192));
  }

  @Test
  void batchTopKIsRefusedWithTheConversionToUse() {
    SaeCheckpoint batchTopK =
        TestSaes.random(
            new TestSaes.Spec(
                Architecture.BATCHTOPK, ActivationNormalization.NONE, true, true, 16, 64, 4),
            3,
            Map.of("topk_threshold", FloatTensor.of(new float[] {0.5f})));

    assertThatThrownBy(() -> SaeOnnxExporter.exportToBytes(batchTopK, ExportOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchtopk is training-only")
        .hasMessageContaining("Folding.batchTopKToJumpRelu");
  }

  @Test
  void unfoldedActivationScaleIsRefused() {
    SaeCheckpoint scaled =
        TestSaes.random(
            TestSaes.spec(Architecture.STANDARD, 16, 64, 0)
                .withNormalization(ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN),
            3);

    assertThatThrownBy(() -> SaeOnnxExporter.exportToBytes(scaled, ExportOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected_average_only_in")
        .hasMessageContaining("Folding.foldActivationScale");
  }

  @Test
  void layerNormNeedsTwoInputDimensions() {
    SaeCheckpoint tiny =
        TestSaes.random(
            TestSaes.spec(Architecture.STANDARD, 1, 4, 0)
                .withNormalization(ActivationNormalization.LAYER_NORM),
            3);

    assertThatThrownBy(() -> SaeOnnxExporter.exportToBytes(tiny, ExportOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("layer_norm needs d_in >= 2 (unbiased standard deviation), was 1");
  }

  @Test
  void topkAcceptsOnlyItsOwnK() {
    SaeCheckpoint topk = TestSaes.random(TestSaes.spec(Architecture.TOPK, 16, 64, 4), 3);

    assertThat(SaeOnnxExporter.exportToBytes(topk, ExportOptions.defaults().withMaxActive(4)))
        .isNotEmpty();
    assertThatThrownBy(
            () -> SaeOnnxExporter.exportToBytes(topk, ExportOptions.defaults().withMaxActive(8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "maxActive applies to standard, jumprelu and gated SAEs; a topk SAE keeps its k=4,"
                + " was asked for 8");
  }

  @Test
  void maxActiveCannotExceedDSae() {
    assertThatThrownBy(
            () -> SaeOnnxExporter.exportToBytes(sae, ExportOptions.defaults().withMaxActive(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxActive must be <= d_sae=64, was 65");
  }

  @Test
  void inMemoryExportRefusesExternalData() {
    assertThatThrownBy(
            () ->
                SaeOnnxExporter.exportToBytes(
                    sae, ExportOptions.defaults().withExternalData(ExternalDataMode.ALWAYS)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("export(checkpoint, path, options)");
  }

  @Test
  void inMemoryExportRefusesModelsOverTheLimit() {
    // 2 × 1024 × 262144 float32 = 2 GiB of synthetic weights, never materialised.
    SaeCheckpoint huge = synthetic(1024, 262_144);

    assertThatThrownBy(() -> SaeOnnxExporter.exportToBytes(huge, ExportOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "over the in-memory limit of " + SaeOnnxExporter.IN_MEMORY_LIMIT_BYTES)
        .hasMessageContaining("export(checkpoint, path, options)");
  }

  @Test
  void embeddingMoreThanProtobufAllowsIsRefusedBeforeWritingAnything(@TempDir Path dir)
      throws Exception {
    SaeCheckpoint huge = synthetic(1024, 270_000);

    assertThatThrownBy(
            () ->
                SaeOnnxExporter.export(
                    huge,
                    dir.resolve("sae.onnx"),
                    ExportOptions.defaults().withExternalData(ExternalDataMode.NEVER)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("over protobuf's 2 GiB limit");
    assertThat(listing(dir)).isEmpty();
  }

  static SaeCheckpoint synthetic(int dIn, int dSae) {
    SaeConfig cfg = TestSaes.config(TestSaes.spec(Architecture.STANDARD, dIn, dSae, 0));
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("W_enc", new SyntheticTensor(1, 0.05f, dIn, dSae));
    t.put("W_dec", new SyntheticTensor(2, 0.05f, dSae, dIn));
    t.put("b_enc", new SyntheticTensor(3, 0.1f, dSae));
    t.put("b_dec", new SyntheticTensor(4, 0.1f, dIn));
    return SaeCheckpoint.of(cfg, t);
  }

  private static List<Path> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  /** Writes {@code failAfter} bytes of a real tensor, then fails like a full disk. */
  private static final class FailingTensor implements Tensor {
    private final FloatTensor delegate;
    private final int failAfter;

    FailingTensor(FloatTensor delegate, int failAfter) {
      this.delegate = delegate;
      this.failAfter = failAfter;
    }

    @Override
    public DType dtype() {
      return DType.F32;
    }

    @Override
    public long[] shape() {
      return delegate.shape();
    }

    @Override
    public void readFloats(long start, float[] dst, int dstOffset, int length) {
      delegate.readFloats(start, dst, dstOffset, length);
    }

    @Override
    public void writeRaw(WritableByteChannel out) throws IOException {
      ByteBuffer partial = ByteBuffer.wrap(new byte[failAfter]);
      while (partial.hasRemaining()) {
        out.write(partial);
      }
      throw new IOException("simulated disk failure after " + failAfter + " bytes");
    }
  }
}
