package io.saestream.streams.registry;

import io.saestream.sae.checkpoint.CheckpointException;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.sae.fold.Folding;
import io.saestream.sae.onnx.ExportOptions;
import io.saestream.sae.onnx.SaeOnnxExporter;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceEngine;
import io.saestream.streams.inference.InferenceException;
import io.saestream.streams.inference.SaeSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@link SaeDeployment} into a {@link DeployedSae}: opens the sae-lens directory (which
 * checks structure, shapes and finiteness), converts it to the inference form sae-lens itself would
 * load ({@link Folding#toInference}: batchtopk becomes jumprelu; served latents are exactly
 * sae-lens's), exports the analyze graph in memory, opens a session and proves it with one smoke
 * inference. Stateless.
 */
public final class SaeLoader {

  private static final Logger LOG = LoggerFactory.getLogger(SaeLoader.class);

  private final InferenceEngine engine;

  /** Creates a loader that opens sessions with {@code engine}. */
  public SaeLoader(InferenceEngine engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  /**
   * Loads one SAE; the caller owns the returned session.
   *
   * @throws DeploymentException naming the SAE and what is wrong with it
   * @throws InferenceException when ONNX Runtime fails (infrastructure)
   */
  public DeployedSae load(SaeDeployment deployment) {
    long start = System.nanoTime();
    try (SaeCheckpoint checkpoint = SaeCheckpoint.open(deployment.path())) {
      return load(deployment, checkpoint, start);
    } catch (CheckpointException e) {
      throw new DeploymentException(deployment.saeId(), String.valueOf(e.getMessage()), e);
    }
  }

  /**
   * Loads one SAE from {@code checkpoint}, already opened (and so checked) from {@code
   * deployment.path()}, which the caller keeps open until this returns; the caller owns the
   * returned session. Hot swap uses it to inspect a checkpoint before serving it.
   *
   * @throws DeploymentException naming the SAE and what is wrong with it
   * @throws InferenceException when ONNX Runtime fails (infrastructure)
   */
  public DeployedSae load(SaeDeployment deployment, SaeCheckpoint checkpoint) {
    try {
      return load(deployment, checkpoint, System.nanoTime());
    } catch (CheckpointException e) {
      throw new DeploymentException(deployment.saeId(), String.valueOf(e.getMessage()), e);
    }
  }

  private DeployedSae load(SaeDeployment deployment, SaeCheckpoint checkpoint, long start) {
    String id = deployment.saeId();
    byte[] model;
    SaeConfig config;
    try {
      SaeCheckpoint served = Folding.toInference(checkpoint);
      config = served.config();
      ExportOptions options =
          ExportOptions.defaults().withSaeId(id).withVersion(deployment.version());
      Integer maxActive = deployment.maxActive();
      if (maxActive != null) {
        options = options.withMaxActive(maxActive);
      }
      model = SaeOnnxExporter.exportToBytes(served, options);
    } catch (IllegalArgumentException e) {
      throw new DeploymentException(
          id, "cannot serve " + deployment.path() + ": " + e.getMessage(), e);
    }
    HookKey hook =
        new HookKey(
            required(id, deployment.modelId(), config.modelName(), "model-id", "model_name"),
            required(id, deployment.hookName(), config.hookName(), "hook-name", "hook_name"));
    SaeSession session = engine.openSession(id, model);
    try {
      smokeTest(session);
      DeployedSae deployed =
          new DeployedSae(
              id,
              deployment.version(),
              hook,
              config.dIn(),
              config.dSae(),
              config.architecture().cfgName(),
              session);
      LOG.info(
          "Deployed SAE {} v{} on {}: {} d_in={} d_sae={} K={} from {} in {} ms",
          id,
          deployment.version(),
          hook,
          deployed.architecture(),
          deployed.dIn(),
          deployed.dSae(),
          deployed.slots(),
          deployment.path(),
          (System.nanoTime() - start) / 1_000_000);
      return deployed;
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  private static String required(
      String id,
      @Nullable String configured,
      @Nullable String fromCheckpoint,
      String key,
      String field) {
    if (configured != null) {
      return configured;
    }
    if (fromCheckpoint != null) {
      return fromCheckpoint;
    }
    throw new DeploymentException(
        id, "cfg.json has no metadata." + field + "; set " + key + " in the deployment");
  }

  /** One token of ones through the graph: the session loads, runs and gives finite numbers. */
  private static void smokeTest(SaeSession session) {
    FloatBuffer x =
        ByteBuffer.allocateDirect(session.dIn() * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    for (int i = 0; i < session.dIn(); i++) {
      x.put(i, 1f);
    }
    float sse = session.analyze(x, 1, analysis -> analysis.sse(0));
    if (!Float.isFinite(sse)) {
      throw new DeploymentException(
          session.name(), "smoke inference on a row of ones gave sse=" + sse + ", not finite");
    }
  }
}
