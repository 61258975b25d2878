package io.saestream.sae.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeCheckpointTest {

  @Test
  void everyFixtureOpensAndRoundTripsByteForByte(@TempDir Path tmp) throws IOException {
    for (Path dir : Fixtures.checkpointDirs()) {
      Path out = tmp.resolve(Fixtures.label(dir));
      try (SaeCheckpoint ckpt = SaeCheckpoint.open(dir)) {
        assertThat(ckpt.source()).isEqualTo(dir);
        ckpt.write(out);
        try (SaeCheckpoint back = SaeCheckpoint.open(out)) {
          assertThat(back.tensors().keySet()).containsExactlyElementsOf(ckpt.tensors().keySet());
          for (String name : ckpt.tensors().keySet()) {
            assertThat(raw(back.tensor(name)))
                .as("%s %s", dir, name)
                .isEqualTo(raw(ckpt.tensor(name)));
            assertThat(back.tensor(name).dtype()).isEqualTo(ckpt.tensor(name).dtype());
          }
          assertThat(back.config().toJson()).isEqualTo(ckpt.config().toJson());
          assertThat(List.copyOf(back.config().toJson().properties()).toString())
              .isEqualTo(List.copyOf(ckpt.config().toJson().properties()).toString());
        }
      }
      for (String file : List.of(SaeCheckpoint.CONFIG_FILE, SaeCheckpoint.WEIGHTS_FILE)) {
        assertThat(Files.readAllBytes(out.resolve(file)))
            .as("%s/%s", dir, file)
            .isEqualTo(Files.readAllBytes(dir.resolve(file)));
      }
    }
  }

  @Test
  void writingIntoAnExistingDirectoryReplacesBothFilesAndKeepsOthers(@TempDir Path tmp)
      throws IOException {
    Path dir = copyOf(Fixtures.sae("jumprelu"), tmp.resolve("copy"));
    Files.writeString(dir.resolve("README.md"), "mine");
    // Write the checkpoint over the very directory it is mapped from.
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(dir)) {
      SaeConfig renamed =
          ckpt.config().withFoldProvenance(FoldProvenance.NONE.withDecoderNormFolded());
      SaeCheckpoint.of(renamed, ckpt.tensors()).write(dir);
      assertThat(ckpt.tensor("threshold").toFloatArray()).hasSize(160);
    }
    try (SaeCheckpoint back = SaeCheckpoint.open(dir)) {
      assertThat(back.config().foldProvenance().decoderNormFolded()).isTrue();
    }
    assertThat(Files.readAllBytes(dir.resolve(SaeCheckpoint.WEIGHTS_FILE)))
        .isEqualTo(
            Files.readAllBytes(Fixtures.sae("jumprelu").resolve(SaeCheckpoint.WEIGHTS_FILE)));
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("README.md", "cfg.json", "sae_weights.safetensors");
    }
  }

  @Test
  void aFailedWriteOfANewDirectoryLeavesNothingBehind(@TempDir Path tmp) throws IOException {
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      SaeCheckpoint failing = withFailingWEnc(ckpt);
      Path out = tmp.resolve("out").resolve("sae");
      assertThatThrownBy(() -> failing.write(out))
          .isInstanceOf(CheckpointException.class)
          .hasMessageContaining("cannot write checkpoint")
          .hasMessageContaining("disk full");
      assertThat(out).doesNotExist();
      try (Stream<Path> files = Files.list(tmp.resolve("out"))) {
        assertThat(files).isEmpty();
      }
    }
  }

  @Test
  void aFailedWriteIntoAnExistingDirectoryKeepsTheOldFiles(@TempDir Path tmp) throws IOException {
    Path dir = copyOf(Fixtures.sae("standard"), tmp.resolve("existing"));
    byte[] before = Files.readAllBytes(dir.resolve(SaeCheckpoint.WEIGHTS_FILE));
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      assertThatThrownBy(() -> withFailingWEnc(ckpt).write(dir))
          .isInstanceOf(CheckpointException.class);
    }
    assertThat(Files.readAllBytes(dir.resolve(SaeCheckpoint.WEIGHTS_FILE))).isEqualTo(before);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("cfg.json", "sae_weights.safetensors");
    }
  }

  @Test
  void writingOverAFileIsRefused(@TempDir Path tmp) throws IOException {
    Path file = Files.writeString(tmp.resolve("plain"), "x");
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      assertThatThrownBy(() -> ckpt.write(file))
          .isInstanceOf(CheckpointException.class)
          .hasMessage(file + ": exists and is not a directory");
    }
  }

  @Test
  void sourceSha256IsTheWeightsFileDigest() throws Exception {
    Path dir = Fixtures.sae("gated");
    String expected =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(dir.resolve(SaeCheckpoint.WEIGHTS_FILE))));
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(dir)) {
      assertThat(ckpt.sourceSha256()).isEqualTo(expected);
      assertThat(ckpt.sourceSha256()).isSameAs(ckpt.sourceSha256());
      SaeCheckpoint derived = SaeCheckpoint.of(ckpt.config(), ckpt.tensors());
      assertThatThrownBy(derived::sourceSha256).isInstanceOf(IllegalStateException.class);
      assertThat(derived.source()).isNull();
    }
  }

  @Test
  void tensorsAreUnusableAfterClose() {
    SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard"));
    Tensor wEnc = ckpt.tensor("W_enc");
    ckpt.close();
    assertThatThrownBy(wEnc::toFloatArray).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void ofValidatesRequiredTensorsAndShapes() {
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("jumprelu"))) {
      Map<String, Tensor> t = new LinkedHashMap<>(ckpt.tensors());
      t.remove("threshold");
      assertThatThrownBy(() -> SaeCheckpoint.of(ckpt.config(), t))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("missing tensor 'threshold' required by architecture jumprelu");
      t.put("threshold", FloatTensor.of(new float[159], 159));
      assertThatThrownBy(() -> SaeCheckpoint.of(ckpt.config(), t))
          .hasMessageContaining(
              "tensor 'threshold' has shape [159] but cfg.json (d_in=40, d_sae=160) implies [160]");
      t.put("threshold", FloatTensor.of(new float[160], 160));
      t.put("extra", FloatTensor.of(new float[] {1}, 1));
      assertThat(SaeCheckpoint.of(ckpt.config(), t).tensors()).containsKey("extra");
      assertThatThrownBy(() -> ckpt.tensor("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("present: [W_dec, W_enc, b_dec, b_enc, threshold]");
    }
  }

  @Test
  void extraTensorsAreKeptOnOpen(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("extra");
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard"))) {
      Map<String, Tensor> t = new LinkedHashMap<>(ckpt.tensors());
      t.put("feature_sparsity", FloatTensor.of(new float[64], 64));
      SaeCheckpoint.of(ckpt.config(), t).write(dir);
    }
    try (SaeCheckpoint back = SaeCheckpoint.open(dir)) {
      assertThat(back.has("feature_sparsity")).isTrue();
      assertThat(back.tensor("feature_sparsity").shape()).containsExactly(64);
    }
  }

  @Test
  void readOptionsRelaxTheServingChecks(@TempDir Path tmp) {
    Path nan = CorruptCheckpoints.nanWeight(tmp);
    try (SaeCheckpoint ckpt =
        SaeCheckpoint.open(nan, ReadOptions.defaults().withAllowNonFinite(true))) {
      assertThat(ckpt.tensor("W_enc").toFloatArray()[13]).isNaN();
    }
    Path scaled = CorruptCheckpoints.unfoldedActivationScale(tmp);
    try (SaeCheckpoint ckpt =
        SaeCheckpoint.open(scaled, ReadOptions.defaults().withAllowUnfoldedActivationScale(true))) {
      assertThat(ckpt.config().normalizeActivations())
          .isEqualTo(ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN);
    }
  }

  @Test
  void validBaselineOfTheCorruptionsOpens(@TempDir Path tmp) {
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(CorruptCheckpoints.valid(tmp))) {
      assertThat(ckpt.config().dIn()).isEqualTo(CorruptCheckpoints.D_IN);
      assertThat(ckpt.tensors()).hasSize(4);
    }
  }

  /** standard_bf16: the BF16 weights read as float32 reproduce sae-lens's float32 hidden_pre. */
  @Test
  void standardBf16ReproducesSaeLensFloat32PreActivations() {
    Fixtures.Expected expected = Fixtures.expected("standard_bf16");
    try (SaeCheckpoint ckpt = SaeCheckpoint.open(Fixtures.sae("standard_bf16"))) {
      float[] wEnc = ckpt.tensor("W_enc").toFloatArray();
      float[] bEnc = ckpt.tensor("b_enc").toFloatArray();
      float[] bDec = ckpt.tensor("b_dec").toFloatArray();
      float[] x = expected.get("x");
      float[] hiddenPre = expected.get("hidden_pre");
      int dIn = 32;
      int dSae = 128;
      double maxAbs = 0;
      double maxDiff = 0;
      for (int row = 0; row < x.length / dIn; row++) {
        for (int j = 0; j < dSae; j++) {
          double h = bEnc[j];
          for (int i = 0; i < dIn; i++) {
            h += ((double) x[row * dIn + i] - bDec[i]) * wEnc[i * dSae + j];
          }
          maxAbs = Math.max(maxAbs, Math.abs(hiddenPre[row * dSae + j]));
          maxDiff = Math.max(maxDiff, Math.abs(h - hiddenPre[row * dSae + j]));
        }
      }
      // float32 accumulation in torch vs float64 here: ~1e-7 relative to the largest value.
      assertThat(maxDiff / maxAbs).isLessThan(2e-6);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static byte[] raw(Tensor t) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    t.writeRaw(Channels.newChannel(out));
    return out.toByteArray();
  }

  private static Path copyOf(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (String f : List.of(SaeCheckpoint.CONFIG_FILE, SaeCheckpoint.WEIGHTS_FILE)) {
      Files.copy(from.resolve(f), to.resolve(f));
    }
    return to;
  }

  private static SaeCheckpoint withFailingWEnc(SaeCheckpoint ckpt) {
    Tensor wEnc = ckpt.tensor("W_enc");
    Tensor failing =
        new Tensor() {
          @Override
          public DType dtype() {
            return wEnc.dtype();
          }

          @Override
          public long[] shape() {
            return wEnc.shape();
          }

          @Override
          public void readFloats(long start, float[] dst, int dstOffset, int length) {
            wEnc.readFloats(start, dst, dstOffset, length);
          }

          @Override
          public void writeRaw(WritableByteChannel out) throws IOException {
            out.write(ByteBuffer.allocate(100));
            throw new IOException("disk full");
          }
        };
    Map<String, Tensor> t = new LinkedHashMap<>(ckpt.tensors());
    t.put("W_enc", failing);
    return SaeCheckpoint.of(ckpt.config(), t);
  }
}
