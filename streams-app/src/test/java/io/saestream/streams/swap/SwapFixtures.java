package io.saestream.streams.swap;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.checkpoint.Tensor;
import io.saestream.schema.checkpoint.AssembledCheckpoint;
import io.saestream.schema.checkpoint.AssemblerLimits;
import io.saestream.schema.checkpoint.AssemblyOutcome;
import io.saestream.schema.checkpoint.CheckpointArchive;
import io.saestream.schema.checkpoint.CheckpointAssembler;
import io.saestream.schema.checkpoint.CheckpointRecords;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PayloadSource;
import io.saestream.schema.v1.SaeCheckpointChunk;
import io.saestream.streams.testing.SaeLensFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * SAE directories derived from the sae-lens fixtures for hot-swap tests (scaled encoder, reversed
 * latents, NaN weights, other metadata) and the checkpoint records of a directory.
 */
final class SwapFixtures {

  /** The fixture served in the hot-swap tests: topk, rescaled and folded, d_in 32, d_sae 128. */
  static final String TOPK = "topk_rescale_folded";

  private SwapFixtures() {}

  /** A copy of fixture {@code caseName} with each tensor passed through {@code edit}. */
  static Path variant(
      String caseName, Path out, BiFunction<String, float[], float[]> edit, SaeConfigEdit cfg) {
    try (SaeCheckpoint source = SaeCheckpoint.open(SaeLensFixtures.saeDir(caseName))) {
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : source.tensors().entrySet()) {
        Tensor t = e.getValue();
        float[] data = new float[(int) t.numel()];
        t.readFloats(0, data, 0, data.length);
        tensors.put(e.getKey(), FloatTensor.of(edit.apply(e.getKey(), data), t.shape()));
      }
      SaeCheckpoint.of(cfg.apply(source.config()), tensors).write(out);
    }
    return out;
  }

  /** The topk fixture with {@code W_enc} and {@code b_enc} times {@code scale}. */
  static Path scaledEncoder(Path out, float scale) {
    return variant(
        TOPK,
        out,
        (name, data) -> {
          if (name.equals("W_enc") || name.equals("b_enc")) {
            for (int i = 0; i < data.length; i++) {
              data[i] *= scale;
            }
          }
          return data;
        },
        cfg -> cfg);
  }

  /** The topk fixture with latent j moved to {@code d_sae - 1 - j}. */
  static Path reversedLatents(Path out) {
    int dIn = 32;
    int dSae = 128;
    return variant(
        TOPK,
        out,
        (name, data) -> {
          float[] copy = data.clone();
          if (name.equals("W_enc")) {
            for (int r = 0; r < dIn; r++) {
              for (int j = 0; j < dSae; j++) {
                copy[r * dSae + j] = data[r * dSae + (dSae - 1 - j)];
              }
            }
          } else if (name.equals("b_enc")) {
            for (int j = 0; j < dSae; j++) {
              copy[j] = data[dSae - 1 - j];
            }
          } else if (name.equals("W_dec")) {
            for (int j = 0; j < dSae; j++) {
              System.arraycopy(data, (dSae - 1 - j) * dIn, copy, j * dIn, dIn);
            }
          }
          return copy;
        },
        cfg -> cfg);
  }

  /** The topk fixture with one NaN in {@code W_enc}. */
  static Path withNaN(Path out) {
    return variant(
        TOPK,
        out,
        (name, data) -> {
          if (name.equals("W_enc")) {
            data[5] = Float.NaN;
          }
          return data;
        },
        cfg -> cfg);
  }

  /** Fixture {@code caseName} unchanged but for its cfg.json. */
  static Path withConfig(String caseName, Path out, SaeConfigEdit cfg) {
    return variant(caseName, out, (name, data) -> data, cfg);
  }

  /** A cfg.json edit that sets {@code metadata.hook_name}. */
  static SaeConfigEdit hookName(String hook) {
    return cfg -> {
      ObjectNode metadata = (ObjectNode) cfg.toJson().get("metadata");
      metadata.put("hook_name", hook);
      return cfg.with("metadata", metadata);
    };
  }

  /**
   * The release of SAE directory {@code dir} as {@code saeId} v{@code version}, manifest truthful.
   */
  static CheckpointRelease release(String saeId, long version, Path dir) {
    try {
      String cfgJson = Files.readString(dir.resolve("cfg.json"), StandardCharsets.UTF_8);
      SaeConfig cfg = SaeConfig.parse(cfgJson);
      String architecture = cfg.architecture().cfgName();
      return new CheckpointRelease(
          saeId,
          version,
          architecture,
          cfg.dIn(),
          cfg.dSae(),
          architecture.equals("topk") ? cfg.topK() : null,
          cfgJson,
          PayloadSource.ofBytes(CheckpointArchive.toBytes(dir)),
          null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code release} reassembled and verified, as the follower would hand it to the swapper. */
  static AssembledCheckpoint assembled(CheckpointRelease release) {
    byte[] payload;
    try (InputStream in = release.payload().open()) {
      payload = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int chunk = 64 * 1024;
    CheckpointAssembler assembler =
        new CheckpointAssembler(AssemblerLimits.defaults(), null, Clock.systemUTC());
    for (SaeCheckpointChunk c :
        CheckpointRecords.split(release.saeId(), release.version(), payload, chunk)) {
      assembler.offerChunk(c);
    }
    AssemblyOutcome outcome =
        assembler.offerManifest(
            CheckpointRecords.manifest(
                release,
                sha256(payload),
                payload.length,
                chunk,
                null,
                Instant.ofEpochMilli(1_767_225_600_000L)));
    if (!(outcome instanceof AssemblyOutcome.Completed completed)) {
      throw new AssertionError("fixture checkpoint did not assemble: " + outcome);
    }
    return completed.checkpoint();
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An edit of a cfg.json. */
  interface SaeConfigEdit {
    SaeConfig apply(SaeConfig cfg);
  }
}
