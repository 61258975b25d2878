package io.saestream.sae.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SyntheticTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports an SAE with more than 2 GiB of float32 weights in a JVM whose heap is capped at 192 MiB,
 * then checks the external-data layout (offsets beyond 2^31) and runs the model in ONNX Runtime
 * against a Java reference. Default size d_in=2048, d_sae=147456 (2.25 GiB, ~15 s); {@code
 * -Dsaestream.largeExport.full=true} uses the 4096×131072 SAE (4 GiB) instead.
 */
class LargeModelExportTest {

  private static final String HEAP = "-Xmx192m";

  @Test
  void exportsMoreThan2GiBOfWeightsWithABoundedHeapAndOrtRunsIt(@TempDir Path dir)
      throws Exception {
    boolean full = Boolean.getBoolean("saestream.largeExport.full");
    int dIn = full ? 4096 : 2048;
    int dSae = full ? 131_072 : 147_456;
    int k = 8;
    Path model = dir.resolve("large.onnx");

    String line = runInSmallHeap(dir, model, dIn, dSae, k);

    long weightBytes = 4L * (2L * dIn * dSae + dSae + dIn);
    assertThat(line)
        .startsWith("weightBytes=" + weightBytes + " external=" + model + ".data peakHeapBytes=");
    Path data = Path.of(model + ".data");
    assertThat(Files.size(data)).isGreaterThan(1L << 31);
    assertThat(Files.size(model)).isLessThan(1 << 20);

    Map<String, Long> offsets = new HashMap<>();
    for (TensorProto t :
        ModelProto.parseFrom(Files.readAllBytes(model)).getGraph().getInitializerList()) {
      for (StringStringEntryProto e : t.getExternalDataList()) {
        if (e.getKey().equals("offset")) {
          offsets.put(t.getName(), Long.parseLong(e.getValue()));
        }
      }
    }
    assertThat(offsets.keySet()).containsExactlyInAnyOrder("W_enc", "b_enc", "W_dec", "b_dec");
    SaeCheckpoint sae = LargeModelExportMain.checkpoint(dIn, dSae, k);
    SyntheticTensor wDec = (SyntheticTensor) sae.tensor("W_dec");
    long last = (long) dSae * dIn - 1;
    long lastOffset = Objects.requireNonNull(offsets.get("W_dec")) + 4 * last;
    assertThat(lastOffset).isGreaterThan(Integer.MAX_VALUE);
    assertThat(floatAt(data, lastOffset)).isEqualTo(wDec.value(last));

    int n = 8;
    float[][] x = TestSaes.activations(n, dIn, 5);
    AnalyzeOutputs out;
    try (OrtModel m = OrtModel.load(model)) {
      out = AnalyzeOutputs.of(m.run(x));
    }
    assertMatchesStreamingReference(sae, x, k, out);
  }

  /**
   * The topk math of {@link SaeLensReference}, streaming the synthetic weights instead of holding
   * them (they do not fit the test JVM's heap): top k of {@code (x - b_dec)·W_enc + b_enc}, ReLU,
   * decode. Rows whose top-k cut is closer than 1e-5 of the row's largest |h| are skipped (at most
   * one); tolerance 1e-5 of the largest value, as everywhere else.
   */
  private static void assertMatchesStreamingReference(
      SaeCheckpoint sae, float[][] x, int k, AnalyzeOutputs out) {
    SyntheticTensor wEnc = (SyntheticTensor) sae.tensor("W_enc");
    SyntheticTensor wDec = (SyntheticTensor) sae.tensor("W_dec");
    SyntheticTensor bEnc = (SyntheticTensor) sae.tensor("b_enc");
    SyntheticTensor bDec = (SyntheticTensor) sae.tensor("b_dec");
    int n = x.length;
    int dIn = sae.config().dIn();
    int dSae = sae.config().dSae();
    double[][] h = new double[n][dSae];
    for (int i = 0; i < dIn; i++) {
      for (int j = 0; j < dSae; j++) {
        double w = wEnc.value((long) i * dSae + j);
        for (int r = 0; r < n; r++) {
          h[r][j] += (x[r][i] - (double) bDec.value(i)) * w;
        }
      }
    }
    int skipped = 0;
    for (int r = 0; r < n; r++) {
      Integer[] order = new Integer[dSae];
      double maxAbs = 0;
      for (int j = 0; j < dSae; j++) {
        h[r][j] += bEnc.value(j);
        order[j] = j;
        maxAbs = Math.max(maxAbs, Math.abs(h[r][j]));
      }
      double[] row = h[r];
      java.util.Arrays.sort(
          order,
          java.util.Comparator.<Integer>comparingDouble(j -> -row[j]).thenComparingInt(j -> j));
      if (row[order[k - 1]] - row[order[k]] < 1e-5 * maxAbs) {
        skipped++;
        continue;
      }
      double[] expectedOut = new double[dIn];
      long[] expectedIdx = new long[k];
      for (int s = 0; s < k; s++) {
        int j = order[s];
        double v = Math.max(row[j], 0);
        expectedIdx[s] = v > 0 ? j : -1;
        for (int i = 0; i < dIn; i++) {
          expectedOut[i] += v * wDec.value((long) j * dIn + i);
        }
        if (v > 0) {
          assertThat((double) out.values()[r][s]).isCloseTo(v, within(1e-5 * maxAbs));
        }
      }
      assertThat(AnalyzeOutputs.sorted(out.indices()[r]))
          .isEqualTo(AnalyzeOutputs.sorted(expectedIdx));
      double maxOut = 0;
      for (int i = 0; i < dIn; i++) {
        expectedOut[i] += bDec.value(i);
        maxOut = Math.max(maxOut, Math.abs(expectedOut[i]));
      }
      for (int i = 0; i < dIn; i++) {
        assertThat((double) out.saeOut()[r][i])
            .as("row %d sae_out[%d]", r, i)
            .isCloseTo(expectedOut[i], within(1e-5 * maxOut));
      }
    }
    assertThat(skipped).as("rows too close to the top-k cut").isLessThanOrEqualTo(1);
  }

  private static String runInSmallHeap(Path dir, Path model, int dIn, int dSae, int k)
      throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.add(HEAP);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(LargeModelExportMain.class.getName());
    cmd.add(model.toString());
    cmd.add(Integer.toString(dIn));
    cmd.add(Integer.toString(dSae));
    cmd.add(Integer.toString(k));
    Path log = dir.resolve("child.log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done = p.waitFor(10, TimeUnit.MINUTES);
    if (!done) {
      p.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(done).as("export finished in time; output:%n%s", output).isTrue();
    assertThat(p.exitValue()).as("exit status; output:%n%s", output).isZero();
    return output.lines().filter(l -> l.startsWith("weightBytes=")).findFirst().orElse(output);
  }

  private static float floatAt(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(b, offset);
      return b.flip().getFloat();
    }
  }
}
