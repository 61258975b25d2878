package io.saestream.sae.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sae-lens SAE: its {@code cfg.json} and its named tensors ({@code W_enc}, {@code b_enc}, {@code
 * W_dec}, {@code b_dec}, and per architecture {@code threshold}, {@code b_gate}, {@code b_mag},
 * {@code r_mag}, {@code topk_threshold}). Every instance has the tensors its architecture needs,
 * with the shapes {@code d_in} and {@code d_sae} imply ({@link SaeConfig#expectedTensorShapes()});
 * extra tensors are kept.
 *
 * <p>A checkpoint {@link #open opened} from disk owns a memory-mapped safetensors file: its tensors
 * are valid until {@link #close()}. Checkpoints derived from it (folding) share its tensors lazily
 * and must not outlive it; they own nothing themselves. Thread-safe for reads.
 */
public final class SaeCheckpoint implements AutoCloseable {

  /** The config file of a sae-lens SAE directory. */
  public static final String CONFIG_FILE = "cfg.json";

  /** The weights file of a sae-lens SAE directory. */
  public static final String WEIGHTS_FILE = "sae_weights.safetensors";

  /** cfg.json is a few hundred bytes; anything this large is not one. */
  static final long MAX_CONFIG_BYTES = 16L << 20;

  private static final Logger LOG = LoggerFactory.getLogger(SaeCheckpoint.class);

  private final SaeConfig config;
  private final Map<String, Tensor> tensors;
  private final @Nullable SafeTensorsFile weights;
  private final @Nullable Path source;
  private volatile @Nullable String sha256;

  private SaeCheckpoint(
      SaeConfig config,
      Map<String, ? extends Tensor> tensors,
      @Nullable SafeTensorsFile weights,
      @Nullable Path source) {
    this.config = config;
    this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    this.weights = weights;
    this.source = source;
  }

  /**
   * An in-memory or derived checkpoint; it owns nothing that needs closing.
   *
   * @throws IllegalArgumentException when a required tensor is missing or has the wrong shape
   */
  public static SaeCheckpoint of(SaeConfig config, Map<String, ? extends Tensor> tensors) {
    String problem = tensorProblem(config, tensors);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    return new SaeCheckpoint(config, tensors, null, null);
  }

  /** {@link #open(Path, ReadOptions)} with {@link ReadOptions#defaults()}. */
  public static SaeCheckpoint open(Path dir) {
    return open(dir, ReadOptions.defaults());
  }

  /**
   * Opens the sae-lens SAE directory {@code dir} ({@code cfg.json} + {@code
   * sae_weights.safetensors}), memory-mapping the weights. Checks the safetensors structure, that
   * each required tensor exists with the shape the config implies, that every weight is finite (one
   * streaming pass over the file) and that the activation scale is folded, the last two unless
   * {@code options} allow them.
   *
   * @throws CheckpointException naming the file and the problem
   */
  public static SaeCheckpoint open(Path dir, ReadOptions options) {
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(
          dir, Files.exists(dir) ? "is not a directory" : "SAE directory does not exist");
    }
    Path cfgPath = dir.resolve(CONFIG_FILE);
    SaeConfig config = readConfig(cfgPath);
    if (config.normalizeActivations() == ActivationNormalization.EXPECTED_AVERAGE_ONLY_IN
        && !options.allowUnfoldedActivationScale()) {
      throw new CheckpointException(
          cfgPath,
          "normalize_activations is expected_average_only_in: the weights expect activations"
              + " multiplied by a training-time scale factor, which must be folded into the"
              + " weights before the SAE can be served (sae-lens"
              + " fold_activation_norm_scaling_factor, or Folding.foldActivationScale); open it"
              + " with ReadOptions.withAllowUnfoldedActivationScale(true) to fold it");
    }
    Path weightsPath = dir.resolve(WEIGHTS_FILE);
    if (!Files.exists(weightsPath)) {
      throw new CheckpointException(weightsPath, "does not exist");
    }
    SafeTensorsFile file = SafeTensorsFile.open(weightsPath);
    try {
      Map<String, Tensor> tensors = new LinkedHashMap<>(file.tensors());
      String problem = tensorProblem(config, tensors);
      if (problem != null) {
        throw new CheckpointException(weightsPath, problem);
      }
      List<String> extra = new ArrayList<>(tensors.keySet());
      extra.removeAll(config.expectedTensorShapes().keySet());
      if (!extra.isEmpty()) {
        LOG.warn(
            "{}: tensors {} are not used by a {} SAE; kept, but sae-lens ignores them",
            weightsPath,
            extra,
            config.architecture().cfgName());
      }
      if (!options.allowNonFinite()) {
        checkFinite(weightsPath, tensors);
      }
      return new SaeCheckpoint(config, tensors, file, dir);
    } catch (RuntimeException e) {
      try {
        file.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /** The parsed {@code cfg.json}. */
  public SaeConfig config() {
    return config;
  }

  /** The tensors in file order. */
  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /**
   * The tensor called {@code name}.
   *
   * @throws IllegalArgumentException when absent, listing the tensors present
   */
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "no tensor '" + name + "' in checkpoint; present: " + tensors.keySet());
    }
    return t;
  }

  /** Whether a tensor called {@code name} is present. */
  public boolean has(String name) {
    return tensors.containsKey(name);
  }

  /** The directory this checkpoint was read from, if any (null for in-memory and derived ones). */
  public @Nullable Path source() {
    return source;
  }

  /**
   * The SHA-256 (lowercase hex) of the {@code sae_weights.safetensors} this checkpoint was read
   * from, computed once by streaming the open file and cached.
   *
   * @throws IllegalStateException for a checkpoint not read from disk, or after {@link #close()}
   */
  public String sourceSha256() {
    String cached = sha256;
    if (cached != null) {
      return cached;
    }
    if (weights == null) {
      throw new IllegalStateException(
          "checkpoint was not read from disk (in-memory or derived): it has no source file");
    }
    String computed = weights.sha256();
    sha256 = computed;
    return computed;
  }

  /**
   * Writes this checkpoint as a sae-lens SAE directory: {@code cfg.json} ({@link
   * SaeConfig#toCfgJson()}) and {@code sae_weights.safetensors} (safetensors layout of the
   * reference library), streaming the tensors.
   *
   * <p>Crash-safe: when {@code dir} does not exist, both files are written to a hidden sibling
   * directory that is then renamed to {@code dir} (atomic). When it exists, each file is written to
   * a hidden temporary file and both are renamed into place only after both were written, weights
   * first; other files in {@code dir} are left alone. A failure leaves no partial file behind.
   * Writing into the directory this checkpoint was opened from is allowed: the old files stay
   * mapped until {@link #close()}.
   *
   * @throws CheckpointException naming {@code dir} when it cannot be written
   */
  public void write(Path dir) {
    byte[] cfg = config.toCfgJson().getBytes(StandardCharsets.UTF_8);
    Path target = dir.toAbsolutePath().normalize();
    try {
      if (Files.isDirectory(target)) {
        writeInto(target, cfg);
      } else if (Files.exists(target)) {
        throw new CheckpointException(target, "exists and is not a directory");
      } else {
        writeNewDirectory(target, cfg);
      }
    } catch (IOException e) {
      throw new CheckpointException(target, "cannot write checkpoint: " + e, e);
    }
  }

  /** Releases the mapped weights file, if this checkpoint owns one. */
  @Override
  public void close() {
    if (weights != null) {
      try {
        weights.close();
      } catch (IOException e) {
        throw new CheckpointException(weights.path(), "cannot close: " + e, e);
      }
    }
  }

  @Override
  public String toString() {
    return "SaeCheckpoint["
        + config.architecture().cfgName()
        + " d_in="
        + config.dIn()
        + " d_sae="
        + config.dSae()
        + (source == null ? "" : " from " + source)
        + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void writeInto(Path dir, byte[] cfg) throws IOException {
    Path weightsTarget = dir.resolve(WEIGHTS_FILE);
    Path cfgTarget = dir.resolve(CONFIG_FILE);
    Path weightsTmp =
        AtomicFiles.writeTemp(
            weightsTarget, ch -> SafeTensorsWriter.writeTo(ch, tensors, Map.of()));
    Path cfgTmp = null;
    try {
      cfgTmp = AtomicFiles.writeTemp(cfgTarget, ch -> writeFully(ch, cfg));
      AtomicFiles.commit(weightsTmp, weightsTarget);
      AtomicFiles.commit(cfgTmp, cfgTarget);
    } catch (IOException | RuntimeException | Error e) {
      AtomicFiles.deleteAfterFailure(weightsTmp, e);
      if (cfgTmp != null) {
        AtomicFiles.deleteAfterFailure(cfgTmp, e);
      }
      throw e;
    }
    AtomicFiles.syncDirectory(dir);
  }

  private void writeNewDirectory(Path dir, byte[] cfg) throws IOException {
    Path parent = AtomicFiles.parentOf(dir);
    Files.createDirectories(parent);
    Path tmpDir = parent.resolve("." + dir.getFileName() + "." + AtomicFiles.randomHex() + ".tmp");
    Files.createDirectory(tmpDir);
    try {
      try (FileChannel ch = create(tmpDir.resolve(WEIGHTS_FILE))) {
        SafeTensorsWriter.writeTo(ch, tensors, Map.of());
        ch.force(true);
      }
      try (FileChannel ch = create(tmpDir.resolve(CONFIG_FILE))) {
        writeFully(ch, cfg);
        ch.force(true);
      }
      AtomicFiles.syncDirectory(tmpDir);
      Files.move(tmpDir, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException | Error e) {
      AtomicFiles.deleteAfterFailure(tmpDir.resolve(WEIGHTS_FILE), e);
      AtomicFiles.deleteAfterFailure(tmpDir.resolve(CONFIG_FILE), e);
      AtomicFiles.deleteAfterFailure(tmpDir, e);
      throw e;
    }
    AtomicFiles.syncDirectory(parent);
  }

  private static FileChannel create(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static SaeConfig readConfig(Path cfgPath) {
    if (!Files.exists(cfgPath)) {
      throw new CheckpointException(cfgPath, "does not exist: not a sae-lens SAE directory");
    }
    String text;
    try {
      long size = Files.size(cfgPath);
      if (size > MAX_CONFIG_BYTES) {
        throw new CheckpointException(
            cfgPath, "is " + size + " bytes, more than the " + MAX_CONFIG_BYTES + "-byte limit");
      }
      byte[] bytes = Files.readAllBytes(cfgPath);
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointException(cfgPath, "is not valid UTF-8", e);
    } catch (IOException e) {
      throw new CheckpointException(cfgPath, "cannot read: " + e, e);
    }
    try {
      return SaeConfig.parse(text);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(cfgPath, String.valueOf(e.getMessage()), e);
    }
  }

  /** The first missing or misshapen required tensor, or null when all are right. */
  private static @Nullable String tensorProblem(
      SaeConfig config, Map<String, ? extends Tensor> tensors) {
    for (Map.Entry<String, long[]> e : config.expectedTensorShapes().entrySet()) {
      Tensor t = tensors.get(e.getKey());
      if (t == null) {
        return "missing tensor '"
            + e.getKey()
            + "' required by architecture "
            + config.architecture().cfgName()
            + " (present: "
            + tensors.keySet()
            + ")";
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        return "tensor '"
            + e.getKey()
            + "' has shape "
            + Arrays.toString(t.shape())
            + " but cfg.json (d_in="
            + config.dIn()
            + ", d_sae="
            + config.dSae()
            + ") implies "
            + Arrays.toString(e.getValue());
      }
    }
    return null;
  }

  private static void checkFinite(Path weightsPath, Map<String, Tensor> tensors) {
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      long bad = NonFiniteScan.firstNonFinite(t);
      if (bad >= 0) {
        throw new CheckpointException(
            weightsPath,
            "tensor '"
                + e.getKey()
                + "' holds "
                + NonFiniteScan.describe(t, bad)
                + " at flat index "
                + bad
                + " (element "
                + NonFiniteScan.unravel(bad, t.shape())
                + "); non-finite weights poison every activation"
                + " (ReadOptions.withAllowNonFinite(true) skips this check)");
      }
    }
  }
}
