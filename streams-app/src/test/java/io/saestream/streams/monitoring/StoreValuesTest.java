package io.saestream.streams.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

/** The binary forms of the per-SAE stores' values: latent shards and top contexts. */
class StoreValuesTest {

  @Test
  void aShardHoldsTheCellsOfItsLatentsThatFiredAndItsThroughSequence() {
    int width = 2 * LatentShard.SIZE + 5;
    WindowAccumulator window = new WindowAccumulator(width);
    Random random = new Random(3);
    Map<Integer, LatentCell> expected = new TreeMap<>();
    for (int j : new int[] {LatentShard.SIZE, LatentShard.SIZE + 1, 2 * LatentShard.SIZE - 1}) {
      long[] counts = new long[ActivationHistogram.BINS];
      counts[1 + random.nextInt(ActivationHistogram.BINS - 1)] = 1L << 30;
      counts[0] = 2;
      LatentCell cell =
          new LatentCell(
              Arrays.stream(counts).sum(),
              random.nextDouble() * 1e6,
              random.nextFloat() * 300,
              ActivationHistogram.of(counts));
      window.add(j, cell);
      expected.put(j, cell);
    }
    assertThat(LatentShard.encode(0, 5, window)).as("no latent of shard 0 fired").isNull();
    assertThat(LatentShard.encode(2, 5, window)).as("latents 2048..2052 did not fire").isNull();
    LatentShard shard = java.util.Objects.requireNonNull(LatentShard.encode(1, 41, window));
    Serde<LatentShard> serde = LatentShard.serde();
    LatentShard back =
        serde.deserializer().deserialize("t", serde.serializer().serialize("t", shard));
    assertThat(back.throughSequence()).isEqualTo(41);
    Map<Integer, LatentCell> cells = new TreeMap<>();
    back.forEach(cells::put);
    assertThat(cells).isEqualTo(expected);

    byte[] bytes = serde.serializer().serialize("t", shard);
    // A window's histogram counts are ints: more than 2^31 firings of one latent in one bin and
    // window is refused rather than wrapped.
    LatentCell again = java.util.Objects.requireNonNull(expected.get(LatentShard.SIZE));
    assertThatThrownBy(() -> window.add(LatentShard.SIZE, again))
        .isInstanceOf(ArithmeticException.class);
    byte[] wrongFormat = bytes.clone();
    wrongFormat[0] = 4;
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", wrongFormat))
        .hasMessage("latent shard format must be 1, was 4");
    LatentShard truncated =
        serde.deserializer().deserialize("t", Arrays.copyOf(bytes, bytes.length - 3));
    assertThatThrownBy(() -> truncated.forEach((j, c) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("truncated");
  }

  @Test
  void topContextsRoundTripAndRefuseCorruptBytes() {
    TopContexts top =
        new TopContexts(
            List.of(
                new ContextEntry(3.5, "seq-é", 12, List.of("a", "b", "ü"), 1, 1_700_000_000_000L),
                new ContextEntry(1.0, "seq-2", 0, List.of(), -1, 5)));
    Serde<TopContexts> serde = TopContexts.serde();
    byte[] bytes = serde.serializer().serialize("t", top);
    assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(top);
    assertThatThrownBy(
            () -> serde.deserializer().deserialize("t", Arrays.copyOf(bytes, bytes.length - 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageStartingWith("cannot read top contexts: truncated");
    byte[] wrongFormat = bytes.clone();
    wrongFormat[0] = 2;
    assertThatThrownBy(() -> serde.deserializer().deserialize("t", wrongFormat))
        .isInstanceOf(SerializationException.class)
        .hasMessage("cannot read top contexts: top contexts format must be 1, was 2");
  }
}
