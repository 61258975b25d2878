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
    long[] firings = new long[width];
    double[] sums = new double[width];
    float[] maxima = new float[width];
    long[] histograms = new long[width * ActivationHistogram.BINS];
    Random random = new Random(3);
    Map<Integer, LatentCell> expected = new TreeMap<>();
    for (int j : new int[] {LatentShard.SIZE, LatentShard.SIZE + 1, 2 * LatentShard.SIZE - 1}) {
      long[] counts = new long[ActivationHistogram.BINS];
      counts[random.nextInt(ActivationHistogram.BINS)] = 1L << 40;
      counts[0] = 2;
      firings[j] = Arrays.stream(counts).sum();
      sums[j] = random.nextDouble() * 1e6;
      maxima[j] = random.nextFloat() * 300;
      System.arraycopy(counts, 0, histograms, j * ActivationHistogram.BINS, counts.length);
      expected.put(
          j, new LatentCell(firings[j], sums[j], maxima[j], ActivationHistogram.of(counts)));
    }
    assertThat(LatentShard.encode(0, 5, firings, sums, maxima, histograms, width))
        .as("no latent of shard 0 fired")
        .isNull();
    LatentShard shard = LatentShard.encode(1, 41, firings, sums, maxima, histograms, width);
    Serde<LatentShard> serde = LatentShard.serde();
    LatentShard back =
        serde.deserializer().deserialize("t", serde.serializer().serialize("t", shard));
    assertThat(back.throughSequence()).isEqualTo(41);
    Map<Integer, LatentCell> cells = new TreeMap<>();
    back.forEach(cells::put);
    assertThat(cells).isEqualTo(expected);

    byte[] bytes = serde.serializer().serialize("t", shard);
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
