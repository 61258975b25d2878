package io.saestream.trainer.publish;

import io.saestream.sae.checkpoint.SaeCheckpoint;
import io.saestream.sae.checkpoint.SaeConfig;
import io.saestream.schema.checkpoint.CheckpointArchive;
import io.saestream.schema.checkpoint.CheckpointRelease;
import io.saestream.schema.checkpoint.PayloadSource;
import io.saestream.schema.checkpoint.PublishedCheckpoint;
import io.saestream.schema.checkpoint.TrainingStats;
import io.saestream.trainer.training.EvaluationReport;
import io.saestream.trainer.training.TrainerSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes trainer snapshots of one SAE as strictly increasing versions: on its own thread it
 * folds the snapshot into the sae-lens inference checkpoint, zips it and hands it to the {@link
 * CheckpointSink}, optionally keeping a copy (with {@code sparsity.safetensors}) under {@code
 * outputDir/<sae_id>/v<version>}. The training thread only takes the snapshot (a copy of the
 * parameters), so a publication stalls training by that copy, never by serialisation or Kafka.
 *
 * <p>One publication at a time: {@link #publish} refuses while one is in flight. Ownership: owns
 * its thread; {@link #close()} waits for the publication in flight. Thread-safe.
 */
public final class SnapshotPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPublisher.class);

  private final String saeId;
  private final String modelId;
  private final String hookName;
  private final CheckpointSink sink;
  private final @Nullable Path outputDir;
  private final ExecutorService executor;
  private long nextVersion;
  private @Nullable CompletableFuture<PublishedCheckpoint> inFlight;

  /**
   * Creates a publisher whose first version is {@code firstVersion}.
   *
   * @param outputDir where a sae-lens copy of each version is kept, or null for none
   */
  public SnapshotPublisher(
      String saeId,
      String modelId,
      String hookName,
      CheckpointSink sink,
      @Nullable Path outputDir,
      long firstVersion) {
    this.saeId = Objects.requireNonNull(saeId, "saeId");
    this.modelId = Objects.requireNonNull(modelId, "modelId");
    this.hookName = Objects.requireNonNull(hookName, "hookName");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.outputDir = outputDir;
    if (firstVersion < 1) {
      throw new IllegalArgumentException("first version must be >= 1, was " + firstVersion);
    }
    this.nextVersion = firstVersion;
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "sae-publisher-" + saeId);
              t.setDaemon(true);
              return t;
            });
  }

  /** The version the next publication gets. */
  public synchronized long nextVersion() {
    return nextVersion;
  }

  /** Whether a publication is in flight. */
  public synchronized boolean busy() {
    return inFlight != null && !inFlight.isDone();
  }

  /**
   * Starts publishing {@code snapshot} as the next version.
   *
   * @throws IllegalStateException while another publication is in flight
   */
  public synchronized CompletableFuture<PublishedCheckpoint> publish(TrainerSnapshot snapshot) {
    Objects.requireNonNull(snapshot, "snapshot");
    if (busy()) {
      throw new IllegalStateException(
          "SAE " + saeId + ": a publication is in flight; publish after it completes");
    }
    long version = nextVersion++;
    CompletableFuture<PublishedCheckpoint> f =
        CompletableFuture.supplyAsync(() -> publishNow(snapshot, version), executor);
    inFlight = f;
    return f;
  }

  /** Waits for the publication in flight, then stops the thread. */
  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.MINUTES)) {
        LOG.warn("SAE {}: publication still running after 5 minutes; abandoning it", saeId);
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }

  private PublishedCheckpoint publishNow(TrainerSnapshot snapshot, long version) {
    Path work = null;
    try {
      // Under the output directory when there is one, so that the final move is a rename on one
      // file system (a mounted volume is another file system than /tmp).
      if (outputDir != null) {
        Files.createDirectories(outputDir);
        work = Files.createTempDirectory(outputDir, ".publish-");
      } else {
        work = Files.createTempDirectory("sae-publish-");
      }
      Path dir = work.resolve("sae");
      InferenceCheckpoints.write(snapshot, modelId, hookName, dir);
      byte[] payload = CheckpointArchive.toBytes(dir);
      SaeConfig cfg;
      try (SaeCheckpoint published = SaeCheckpoint.open(dir)) {
        cfg = published.config();
      }
      String architecture = cfg.architecture().cfgName();
      EvaluationReport eval = snapshot.evaluation();
      TrainingStats stats =
          eval == null || !Double.isFinite(eval.fvu())
              ? null
              : new TrainingStats(
                  snapshot.step(),
                  snapshot.tokensTrained(),
                  Math.max(0, eval.fvu()),
                  eval.l0(),
                  eval.deadFraction());
      CheckpointRelease release =
          new CheckpointRelease(
              saeId,
              version,
              architecture,
              cfg.dIn(),
              cfg.dSae(),
              architecture.equals("topk") ? cfg.topK() : null,
              cfg.toCfgJson(),
              PayloadSource.ofBytes(payload),
              stats);
      PublishedCheckpoint result = sink.publish(release);
      if (outputDir != null) {
        Path target = outputDir.resolve(saeId).resolve("v" + version);
        Files.createDirectories(target.getParent());
        Files.move(dir, target);
      }
      LOG.info(
          "SAE {}: published v{} at step {} ({} tokens), {}",
          saeId,
          version,
          snapshot.step(),
          snapshot.tokensTrained(),
          eval == null ? "no held-out evaluation yet" : eval);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException("SAE " + saeId + ": cannot publish v" + version, e);
    } finally {
      if (work != null) {
        deleteTree(work);
      }
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("cannot delete the temporary directory {}: {}", root, e.toString());
    }
  }
}
