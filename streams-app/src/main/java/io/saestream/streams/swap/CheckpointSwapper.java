package io.saestream.streams.swap;

import io.saestream.sae.checkpoint.CheckpointException;
import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.schema.checkpoint.ArchiveLimits;
import io.saestream.schema.checkpoint.AssembledCheckpoint;
import io.saestream.schema.checkpoint.CheckpointArchive;
import io.saestream.schema.checkpoint.CheckpointArchiveException;
import io.saestream.schema.checkpoint.RejectionReason;
import io.saestream.streams.config.SaeDeployment;
import io.saestream.streams.inference.InferenceException;
import io.saestream.streams.registry.DeployedSae;
import io.saestream.streams.registry.DeploymentException;
import io.saestream.streams.registry.HookKey;
import io.saestream.streams.registry.SaeLoader;
import io.saestream.streams.registry.SaeRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a reassembled checkpoint into the SAE served for its sae_id: extracts the archive into a
 * temporary directory, opens it with {@link SaeCheckpoint#open} (structure, shapes, finite
 * weights), checks it against its manifest and against the deployment it replaces (same {@code
 * d_in}, same model and hook), builds and smoke-tests the session with the {@link SaeLoader}, and
 * swaps it into the {@link SaeRegistry}. The temporary directory is deleted before returning.
 *
 * <p>Runs on the follower thread, never on a stream thread. Not thread-safe.
 */
final class CheckpointSwapper {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointSwapper.class);

  private final SaeRegistry registry;
  private final SaeLoader loader;
  private final Map<String, SaeDeployment> deployments;
  private final ArchiveLimits archiveLimits;
  private final Path workDir;

  /**
   * @param deployments the configured deployments (for their K and whether their hook was set
   *     explicitly)
   * @param maxPayloadSize cap on the extracted weights
   * @param workDir parent of the temporary directories
   */
  CheckpointSwapper(
      SaeRegistry registry,
      SaeLoader loader,
      List<SaeDeployment> deployments,
      long maxPayloadSize,
      Path workDir) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.loader = Objects.requireNonNull(loader, "loader");
    this.deployments =
        deployments.stream().collect(Collectors.toMap(SaeDeployment::saeId, Function.identity()));
    this.archiveLimits = ArchiveLimits.of(maxPayloadSize);
    this.workDir = Objects.requireNonNull(workDir, "workDir");
  }

  /**
   * Swaps {@code checkpoint} in.
   *
   * @return the SAE replaced (its session is released once in-flight records finish)
   * @throws CheckpointRefusedException when the checkpoint cannot replace the deployed SAE; the old
   *     one keeps serving
   * @throws IllegalStateException when the registry is closed (the app is stopping)
   */
  DeployedSae swap(AssembledCheckpoint checkpoint) throws CheckpointRefusedException {
    String id = checkpoint.saeId();
    SaeDeployment configured = deployments.get(id);
    DeployedSae current = registry.find(id).orElse(null);
    if (configured == null || current == null) {
      throw new IllegalArgumentException("SAE " + id + " is not deployed here");
    }
    Path dir = createTempDirectory(id);
    try {
      try (InputStream payload = checkpoint.openPayload()) {
        CheckpointArchive.extract(payload, dir, archiveLimits);
      } catch (CheckpointArchiveException e) {
        throw new CheckpointRefusedException(
            RejectionReason.BAD_ARCHIVE.tagValue(), String.valueOf(e.getMessage()), e);
      } catch (IOException e) {
        throw new UncheckedIOException("in-memory payload cannot fail to close", e);
      }
      DeployedSae next;
      try (SaeCheckpoint opened = SaeCheckpoint.open(dir)) {
        checkManifest(checkpoint, opened.config());
        checkReplaces(current, configured, opened.config());
        SaeDeployment deployment =
            new SaeDeployment(
                id,
                dir,
                current.hook().modelId(),
                current.hook().hookName(),
                configured.maxActive(),
                checkpoint.version());
        next = loader.load(deployment, opened);
      } catch (CheckpointException e) {
        throw new CheckpointRefusedException(
            SwapRejectionReason.INVALID_CHECKPOINT.tagValue(), e.problem(), e);
      } catch (DeploymentException | InferenceException e) {
        throw new CheckpointRefusedException(
            SwapRejectionReason.LOAD_FAILED.tagValue(), String.valueOf(e.getMessage()), e);
      }
      try {
        return registry.swap(next);
      } catch (RuntimeException e) {
        next.session().close();
        if (e instanceof DeploymentException) {
          throw new CheckpointRefusedException(
              SwapRejectionReason.INCOMPATIBLE.tagValue(), String.valueOf(e.getMessage()), e);
        }
        throw e;
      }
    } finally {
      deleteRecursively(dir);
    }
  }

  /** The manifest is what consumers inspect without the payload: it must tell the truth. */
  private static void checkManifest(AssembledCheckpoint checkpoint, SaeConfig config)
      throws CheckpointRefusedException {
    var manifest = checkpoint.manifest();
    String architecture = config.architecture().cfgName();
    @Nullable Integer k = architecture.equals("topk") ? config.topK() : null;
    List<String> problems =
        Stream.of(
                mismatch("architecture", manifest.getArchitecture(), architecture),
                mismatch("d_in", manifest.getDIn(), config.dIn()),
                mismatch("d_sae", manifest.getDSae(), config.dSae()),
                mismatch("k", manifest.getK(), k))
            .filter(Objects::nonNull)
            .map(Objects::requireNonNull)
            .toList();
    if (!problems.isEmpty()) {
      throw new CheckpointRefusedException(
          SwapRejectionReason.MANIFEST_MISMATCH.tagValue(),
          "manifest disagrees with the payload's cfg.json: " + String.join(", ", problems));
    }
  }

  private static void checkReplaces(DeployedSae current, SaeDeployment configured, SaeConfig config)
      throws CheckpointRefusedException {
    if (config.dIn() != current.dIn()) {
      throw new CheckpointRefusedException(
          SwapRejectionReason.INCOMPATIBLE.tagValue(),
          "d_in=" + config.dIn() + " differs from d_in=" + current.dIn() + " of the deployed SAE");
    }
    // Where the deployment took model and hook from the checkpoint's metadata, a new checkpoint
    // that names others was trained on other activations.
    HookKey hook = current.hook();
    String model = config.modelName();
    if (configured.modelId() == null && model != null && !model.equals(hook.modelId())) {
      throw new CheckpointRefusedException(
          SwapRejectionReason.INCOMPATIBLE.tagValue(),
          "cfg.json metadata.model_name '" + model + "' differs from the deployed " + hook);
    }
    String hookName = config.hookName();
    if (configured.hookName() == null && hookName != null && !hookName.equals(hook.hookName())) {
      throw new CheckpointRefusedException(
          SwapRejectionReason.INCOMPATIBLE.tagValue(),
          "cfg.json metadata.hook_name '" + hookName + "' differs from the deployed " + hook);
    }
  }

  private static @Nullable String mismatch(
      String field, @Nullable Object manifest, @Nullable Object payload) {
    return Objects.equals(manifest, payload)
        ? null
        : field + " " + manifest + " (manifest) vs " + payload + " (cfg.json)";
  }

  private Path createTempDirectory(String saeId) {
    try {
      Files.createDirectories(workDir);
      // The id is in the name for operators; it cannot contain '/' (checked by the assembler).
      return Files.createTempDirectory(workDir, "sae-checkpoint-" + saeId + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory in " + workDir, e);
    }
  }

  /** Runs in a finally block: a failure is logged rather than thrown over the real outcome. */
  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Cannot delete the temporary checkpoint directory {}; delete it by hand", dir, e);
    }
  }
}
