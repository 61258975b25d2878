package io.saestream.trainer.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.saestream.trainer.training.LearningRateSchedule;
import io.saestream.trainer.training.SaeTrainer;
import io.saestream.trainer.training.TrainerState;
import io.saestream.trainer.training.TrainingSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The state directory: atomic generations, pruning, and one case per kind of damage, each of which
 * must be reported, set aside, and answered with the previous generation.
 */
class StateStoreTest {

  private static final String SAE = "sae";
  private static final TopicPartition TP = new TopicPartition("acts", 1);

  @TempDir Path dir;

  private static TrainingSettings settings() {
    return TrainingSettings.builder(8, 16, 2)
        .batchSize(8)
        .bufferTokens(32)
        .schedule(LearningRateSchedule.constant(1e-3))
        .intraOpThreads(1)
        .build();
  }

  /** A trainer's state after {@code tokens} random tokens. */
  private static TrainerState stateAfter(int tokens) {
    try (SaeTrainer trainer = new SaeTrainer(SAE, settings())) {
      SplittableRandom random = new SplittableRandom(tokens);
      float[] rows = new float[tokens * 8];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = (float) random.nextGaussian();
      }
      trainer.offer(rows, 0, tokens);
      return trainer.state();
    }
  }

  private static DurableState durable(TrainerState state, long position, long lastVersion) {
    return new DurableState(
        Instant.parse("2026-02-03T04:05:06Z"),
        Map.of(TP, position),
        Map.of(SAE, new DurableState.SaeState(state, lastVersion)));
  }

  private static Path generation(Path dir, long n) {
    return dir.resolve(StateStore.generationName(n));
  }

  @Test
  void theNewestGenerationIsLoadedAndOnlyTheNewestKeepAreKept() {
    StateStore store = StateStore.open(dir, 2);
    assertThat(store.save(durable(stateAfter(40), 10, 1))).isEqualTo(1);
    assertThat(store.save(durable(stateAfter(80), 20, 2))).isEqualTo(2);
    assertThat(store.save(durable(stateAfter(120), 30, 3))).isEqualTo(3);
    assertThat(generation(dir, 1)).doesNotExist();
    assertThat(generation(dir, 2)).isDirectory();
    assertThat(generation(dir, 3)).isDirectory();

    StateStore reopened = StateStore.open(dir, 2);
    StateStore.Loaded loaded = reopened.loadNewest(Map.of(SAE, settings())).orElseThrow();
    assertThat(loaded.generation()).isEqualTo(3);
    assertThat(loaded.state().positions()).containsExactly(Map.entry(TP, 30L));
    DurableState.SaeState sae = Objects.requireNonNull(loaded.state().saes().get(SAE), SAE);
    assertThat(sae.lastVersion()).isEqualTo(3);
    assertThat(sae.state().tokensSeen()).isEqualTo(120);
    assertThat(loaded.manifest().entry(SAE)).isNotNull();
    assertThat(reopened.rejections()).isEmpty();
    // Numbering continues after the generations found on disk.
    assertThat(reopened.save(durable(stateAfter(40), 40, 4))).isEqualTo(4);
  }

  @Test
  void anEmptyDirectoryHasNoState() {
    assertThat(StateStore.open(dir.resolve("new"), 2).loadNewest(Map.of(SAE, settings())))
        .isEmpty();
    assertThat(StateStore.newestManifest(dir.resolve("absent"))).isEmpty();
  }

  /** The ways a generation can be damaged, with what the report must say. */
  enum Damage {
    MISSING_MANIFEST("no manifest.json") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        Files.delete(gen.resolve(StateStore.MANIFEST));
      }
    },
    TRUNCATED_MANIFEST("bad manifest.json: not valid JSON") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        byte[] m = Files.readAllBytes(gen.resolve(StateStore.MANIFEST));
        Files.write(gen.resolve(StateStore.MANIFEST), java.util.Arrays.copyOf(m, m.length / 2));
      }
    },
    MANIFEST_OF_ANOTHER_FORMAT("format is sae-stream-trainer-state-manifest/0") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        editManifest(gen, "manifest/1", "manifest/0");
      }
    },
    MANIFEST_NAMING_ANOTHER_GENERATION("manifest.json names generation 7") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        editManifest(gen, "\"generation\" : 2", "\"generation\" : 7");
      }
    },
    MISSING_TENSOR_FILE("sae-0.safetensors is missing") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        Files.delete(gen.resolve("sae-0.safetensors"));
      }
    },
    TRUNCATED_TENSOR_FILE("(truncated or overwritten)") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        Path f = gen.resolve("sae-0.safetensors");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 100));
      }
    },
    ALTERED_TENSOR_FILE("sae-0.safetensors has SHA-256") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        Path f = gen.resolve("sae-0.safetensors");
        byte[] b = Files.readAllBytes(f);
        b[b.length - 10] ^= 0x40;
        Files.write(f, b);
      }
    },
    NOT_A_TENSOR_FILE("not a safetensors file") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        replaceTensorFile(gen, new byte[] {(byte) 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
      }
    },
    TENSOR_FILE_OF_ANOTHER_STATE("disagrees with manifest.json on step or tokens seen") {
      @Override
      void apply(Path gen, Path older) throws IOException {
        replaceTensorFile(gen, Files.readAllBytes(older.resolve("sae-0.safetensors")));
      }
    };

    final String reported;

    Damage(String reported) {
      this.reported = reported;
    }

    abstract void apply(Path gen, Path older) throws IOException;
  }

  private static void editManifest(Path gen, String from, String to) throws IOException {
    Path m = gen.resolve(StateStore.MANIFEST);
    String text = Files.readString(m, StandardCharsets.UTF_8);
    assertThat(text).contains(from);
    Files.writeString(m, text.replace(from, to), StandardCharsets.UTF_8);
  }

  /** Replaces the tensor file and updates the manifest's size and digest to match it. */
  private static void replaceTensorFile(Path gen, byte[] content) throws IOException {
    Path f = gen.resolve("sae-0.safetensors");
    byte[] old = Files.readAllBytes(f);
    Files.write(f, content);
    editManifest(gen, sha256(old), sha256(content));
    editManifest(gen, "\"bytes\" : " + old.length, "\"bytes\" : " + content.length);
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest
  @EnumSource(Damage.class)
  void aDamagedNewestGenerationIsReportedSetAsideAndThePreviousOneUsed(Damage damage)
      throws IOException {
    StateStore store = StateStore.open(dir, 2);
    store.save(durable(stateAfter(40), 10, 1));
    store.save(durable(stateAfter(80), 20, 2));
    damage.apply(generation(dir, 2), generation(dir, 1));

    StateStore reopened = StateStore.open(dir, 2);
    StateStore.Loaded loaded = reopened.loadNewest(Map.of(SAE, settings())).orElseThrow();
    assertThat(loaded.generation()).isEqualTo(1);
    assertThat(loaded.state().positions()).containsExactly(Map.entry(TP, 10L));
    assertThat(reopened.rejections()).singleElement().asString().contains(damage.reported);
    assertThat(generation(dir, 2)).doesNotExist();
    assertThat(dir.resolve(StateStore.generationName(2) + ".corrupt")).isDirectory();
    // The next save is numbered above the generation set aside.
    assertThat(reopened.save(durable(stateAfter(40), 30, 3))).isEqualTo(3);
  }

  @Test
  void whenEveryGenerationIsDamagedThereIsNoStateAndEachIsReported() throws IOException {
    StateStore store = StateStore.open(dir, 2);
    store.save(durable(stateAfter(40), 10, 1));
    store.save(durable(stateAfter(80), 20, 2));
    Damage.MISSING_TENSOR_FILE.apply(generation(dir, 1), generation(dir, 2));
    Damage.ALTERED_TENSOR_FILE.apply(generation(dir, 2), generation(dir, 1));

    StateStore reopened = StateStore.open(dir, 2);
    assertThat(reopened.loadNewest(Map.of(SAE, settings()))).isEmpty();
    assertThat(reopened.rejections()).hasSize(2);
    assertThat(reopened.rejections().get(0)).contains("has SHA-256");
    assertThat(reopened.rejections().get(1)).contains("is missing");
  }

  @Test
  void anInterruptedSaveIsIgnoredAndRemoved() throws IOException {
    StateStore store = StateStore.open(dir, 2);
    store.save(durable(stateAfter(40), 10, 1));
    // What a crash in the middle of the second save leaves: a hidden temporary directory.
    Path partial = dir.resolve("." + StateStore.generationName(2) + ".0123456789abcdef.tmp");
    Files.createDirectory(partial);
    Files.write(partial.resolve("sae-0.safetensors"), new byte[] {1, 2, 3});

    assertThat(StateStore.newestManifest(dir).orElseThrow().generation()).isEqualTo(1);
    assertThat(partial).isDirectory(); // the read-only view touches nothing
    StateStore reopened = StateStore.open(dir, 2);
    assertThat(reopened.loadNewest(Map.of(SAE, settings())).orElseThrow().generation())
        .isEqualTo(1);
    assertThat(partial).doesNotExist();
    assertThat(reopened.rejections()).isEmpty();
  }

  @Test
  void aStateOfAnotherShapeIsRefusedRatherThanSkipped() {
    StateStore store = StateStore.open(dir, 2);
    store.save(durable(stateAfter(40), 10, 1));
    TrainingSettings wider = settings().toBuilder().scaleEstimationTokens(0).build();
    TrainingSettings other =
        TrainingSettings.builder(8, 32, 2)
            .batchSize(8)
            .bufferTokens(32)
            .schedule(wider.schedule())
            .build();
    assertThatThrownBy(() -> StateStore.open(dir, 2).loadNewest(Map.of(SAE, other)))
        .isInstanceOf(IncompatibleStateException.class)
        .hasMessageContaining("holds a TOPK SAE d_in=8 d_sae=16")
        .hasMessageContaining("the configuration trains a TOPK SAE d_in=8 d_sae=32");
    // Nothing was set aside: the state is intact.
    assertThat(generation(dir, 1)).isDirectory();
  }

  @Test
  void anSaeThatIsNoLongerConfiguredIsLeftOutAndOneWithNoStateIsRefused() {
    StateStore store = StateStore.open(dir, 2);
    store.save(
        new DurableState(
            Instant.EPOCH,
            Map.of(),
            Map.of(
                SAE,
                new DurableState.SaeState(stateAfter(40), 1),
                "removed",
                new DurableState.SaeState(stateAfter(48), 5))));
    StateStore.Loaded loaded =
        StateStore.open(dir, 2).loadNewest(Map.of(SAE, settings())).orElseThrow();
    assertThat(loaded.state().saes()).containsOnlyKeys(SAE);
    assertThatThrownBy(() -> StateStore.open(dir, 2).loadNewest(Map.of("other", settings())))
        .isInstanceOf(IncompatibleStateException.class)
        .hasMessageContaining("holds none of the configured SAEs [other]");
  }

  @Test
  void theManifestSummarisesEachSae() throws IOException {
    StateStore store = StateStore.open(dir, 3);
    TrainerState state = stateAfter(100);
    store.save(durable(state, 55, 9));
    StateManifest m = StateStore.newestManifest(dir).orElseThrow();
    assertThat(m.generation()).isEqualTo(1);
    assertThat(m.savedAt()).isEqualTo(Instant.parse("2026-02-03T04:05:06Z"));
    assertThat(m.positions()).containsExactly(Map.entry(TP, 55L));
    StateManifest.Entry e = Objects.requireNonNull(m.entry(SAE), SAE);
    assertThat(e.step()).isEqualTo(state.snapshot().step()).isPositive();
    assertThat(e.tokensSeen()).isEqualTo(100);
    assertThat(e.lastVersion()).isEqualTo(9);
    assertThat(e.bytes()).isEqualTo(Files.size(generation(dir, 1).resolve(e.file())));
    try (Stream<Path> files = Files.list(generation(dir, 1))) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .isEqualTo(List.of("manifest.json", "sae-0.safetensors"));
    }
  }

  @Test
  void aSaveThatCannotBeWrittenFailsLoudlyAndLeavesNoGeneration() throws IOException {
    Path stateDir = dir.resolve("state");
    StateStore store = StateStore.open(stateDir, 2);
    Files.delete(stateDir);
    // A regular file where the directory was: nothing can be created inside it.
    Files.writeString(stateDir, "not a directory");
    TrainerState state = stateAfter(40);
    assertThatThrownBy(() -> store.save(durable(state, 10, 1)))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining("cannot save state generation 1");
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("state");
    }
  }

  @Test
  void badArgumentsAreRefused() throws IOException {
    assertThatThrownBy(() -> StateStore.open(dir, 0))
        .hasMessageContaining("state keep must be >= 1, was 0");
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    assertThatThrownBy(() -> StateStore.open(file.resolve("sub"), 1))
        .hasMessageContaining("cannot create the state directory");
    assertThatThrownBy(() -> durable(stateAfter(40), -1, 0))
        .hasMessageContaining("must be >= 0, was -1");
    assertThatThrownBy(() -> new DurableState(Instant.EPOCH, Map.of(), Map.of()))
        .hasMessageContaining("at least one SAE");
  }
}
