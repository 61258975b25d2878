package io.saestream.streams.inference;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.saestream.sae.checkpoint.FloatTensor;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.SaeOnnxExporter;
import io.saestream.streams.config.Device;
import io.saestream.streams.config.InferenceSettings;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's ONNX Runtime: the single {@link OrtEnvironment}, the execution provider resolved
 * once from {@code inference.device}, and the session options every {@link SaeSession} gets.
 *
 * <p>Device resolution happens in {@link #create}, at start-up, never at record time: {@code cpu}
 * uses the CPU provider; {@code cuda} adds the CUDA provider and proves it works by running a tiny
 * SAE on it, failing with an {@link InferenceException} that says what is missing; {@code auto}
 * does the same but falls back to the CPU with one log line. The CUDA provider needs the {@code
 * onnxruntime_gpu} artifact (build streams-app with {@code -Pgpu}) and the CUDA 12 / cuDNN 9
 * libraries.
 *
 * <p>Thread-safe. Lifetime: one per process, created before and closed after every session. The
 * environment itself is ONNX Runtime's process-wide singleton and is deliberately not closed.
 */
public final class InferenceEngine implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InferenceEngine.class);

  /** Session config key: whether idle intra-op threads spin ("1") or sleep ("0"). */
  private static final String INTRA_OP_SPINNING = "session.intra_op.allow_spinning";

  private final OrtEnvironment environment;
  private final InferenceSettings settings;
  private final ExecutionProvider provider;
  private final @Nullable String fallbackReason;

  private InferenceEngine(
      OrtEnvironment environment,
      InferenceSettings settings,
      ExecutionProvider provider,
      @Nullable String fallbackReason) {
    this.environment = environment;
    this.settings = settings;
    this.provider = provider;
    this.fallbackReason = fallbackReason;
  }

  /**
   * Creates the engine and resolves the device.
   *
   * @throws InferenceException when {@code inference.device} is {@code cuda} and CUDA cannot be
   *     used, saying why
   */
  public static InferenceEngine create(InferenceSettings settings) {
    Objects.requireNonNull(settings, "settings");
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    if (settings.device() == Device.CPU) {
      LOG.info(
          "ONNX Runtime {}: CPU execution provider, {} intra-op thread(s) per SAE",
          environment.getVersion(),
          describeThreads(settings.intraOpThreads()));
      return new InferenceEngine(environment, settings, ExecutionProvider.CPU, null);
    }
    String problem = cudaProblem(environment, settings);
    if (problem == null) {
      LOG.info(
          "ONNX Runtime {}: CUDA execution provider on device {}",
          environment.getVersion(),
          settings.cudaDeviceId());
      return new InferenceEngine(environment, settings, ExecutionProvider.CUDA, null);
    }
    if (settings.device() == Device.CUDA) {
      throw new InferenceException(
          "inference.device is cuda but CUDA cannot be used: "
              + problem
              + ". Set inference.device to auto or cpu to run on the CPU.");
    }
    LOG.warn("inference.device is auto and CUDA cannot be used ({}); running on the CPU", problem);
    return new InferenceEngine(environment, settings, ExecutionProvider.CPU, problem);
  }

  /** The provider sessions run on. */
  public ExecutionProvider provider() {
    return provider;
  }

  /** Why {@code auto} fell back to the CPU, or null when it did not (or the device was fixed). */
  public @Nullable String fallbackReason() {
    return fallbackReason;
  }

  /** The settings this engine was created with. */
  public InferenceSettings settings() {
    return settings;
  }

  /**
   * Creates a session over the serialized analyze graph {@code model}; the caller owns it.
   *
   * @param name the SAE id, for messages
   * @throws InferenceException when ONNX Runtime refuses the model
   */
  public SaeSession openSession(String name, byte[] model) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(model, "model");
    try {
      return new SaeSession(name, environment, createSession(model));
    } catch (OrtException e) {
      throw new InferenceException(
          "SAE " + name + ": ONNX Runtime cannot create a session on " + provider, e);
    }
  }

  /** Does nothing: sessions are closed by their owners and the environment is process-wide. */
  @Override
  public void close() {}

  private OrtSession createSession(byte[] model) throws OrtException {
    try (OrtSession.SessionOptions options = sessionOptions(settings, provider)) {
      return environment.createSession(model, options);
    }
  }

  private static OrtSession.SessionOptions sessionOptions(
      InferenceSettings settings, ExecutionProvider provider) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setIntraOpNumThreads(settings.intraOpThreads());
      // Stream threads already run SAEs concurrently; one graph has no parallel branches worth a
      // second pool.
      options.setInterOpNumThreads(1);
      // ONNX Runtime's idle intra-op threads spin by default, waiting for the next operator; in
      // this app they would burn a core whenever the stream thread is decoding, committing or
      // polling, the very moments the Kafka clients (and a co-located broker) need it. Off, the
      // process used 12-22 % less CPU per record end to end at 2 intra-op threads (BENCHMARKS.md).
      options.addConfigEntry(INTRA_OP_SPINNING, "0");
      if (provider == ExecutionProvider.CUDA) {
        options.addCUDA(settings.cudaDeviceId());
      }
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /** Null when CUDA works, otherwise what stops it. */
  private static @Nullable String cudaProblem(
      OrtEnvironment environment, InferenceSettings settings) {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      return "this ONNX Runtime build has no CUDA execution provider (providers: "
          + OrtEnvironment.getAvailableProviders()
          + "); build streams-app with -Pgpu to use com.microsoft.onnxruntime:onnxruntime_gpu";
    }
    try (OrtSession.SessionOptions options = sessionOptions(settings, ExecutionProvider.CUDA);
        SaeSession probe =
            new SaeSession(
                "cuda-probe", environment, environment.createSession(probeModel(), options))) {
      // Creating the session loads the provider libraries and initialises the device; running it
      // proves that the kernels load too, so that nothing CUDA-related can first fail at record
      // time.
      FloatBuffer x =
          ByteBuffer.allocateDirect(2 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
      x.put(0, 1f).put(1, -1f);
      probe.analyze(x, 1, analysis -> analysis.sse(0));
      return null;
    } catch (OrtException | InferenceException e) {
      return "the CUDA execution provider failed on device "
          + settings.cudaDeviceId()
          + " ("
          + e.getMessage()
          + "); it needs an NVIDIA GPU, CUDA 12.x and cuDNN 9 on the library path";
    }
  }

  /** A 2-in, 2-latent standard SAE: the smallest analyze graph there is. */
  private static byte[] probeModel() {
    SaeConfig config =
        SaeConfig.fromJson(
            JsonNodeFactory.instance
                .objectNode()
                .put("architecture", "standard")
                .put("d_in", 2)
                .put("d_sae", 2));
    SaeCheckpoint checkpoint =
        SaeCheckpoint.of(
            config,
            Map.of(
                "W_enc", FloatTensor.of(new float[] {1, 0, 0, 1}, 2, 2),
                "b_enc", FloatTensor.of(new float[] {0, 0}, 2),
                "W_dec", FloatTensor.of(new float[] {1, 0, 0, 1}, 2, 2),
                "b_dec", FloatTensor.of(new float[] {0, 0}, 2)));
    return SaeOnnxExporter.exportToBytes(checkpoint, ExportOptions.defaults().withSaeId("probe"));
  }

  private static String describeThreads(int intraOpThreads) {
    return intraOpThreads == 0 ? "default" : Integer.toString(intraOpThreads);
  }
}
