package io.saestream.streams.monitoring;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Statistics of one latent of one SAE in one window: how many tokens it fired on, the sum and the
 * maximum of its activations, and their {@link ActivationHistogram}.
 *
 * @param firings tokens on which the latent was non-zero
 * @param sum sum of its activations
 * @param max largest activation
 * @param histogram its activations in fixed bins
 */
public record LatentCell(long firings, double sum, double max, ActivationHistogram histogram) {

  /** Checks for null. */
  public LatentCell {
    Objects.requireNonNull(histogram, "histogram");
  }

  /** Serde: firings, sum, max (big-endian), then the histogram's non-empty bins. */
  public static Serde<LatentCell> serde() {
    Serializer<LatentCell> ser =
        (topic, c) -> {
          if (c == null) {
            return null;
          }
          ByteBuffer b = ByteBuffer.allocate(24 + c.histogram.encodedSize());
          b.putLong(c.firings).putDouble(c.sum).putDouble(c.max);
          c.histogram.write(b);
          return b.array();
        };
    Deserializer<LatentCell> de =
        (topic, bytes) -> {
          if (bytes == null) {
            return null;
          }
          if (bytes.length < 25) {
            throw new IllegalArgumentException(
                "a latent cell must be at least 25 bytes, was " + bytes.length);
          }
          ByteBuffer b = ByteBuffer.wrap(bytes);
          return new LatentCell(
              b.getLong(), b.getDouble(), b.getDouble(), ActivationHistogram.read(b));
        };
    return Serdes.serdeFrom(ser, de);
  }

  /** This cell plus another (maximum of the maxima). */
  public LatentCell plus(LatentCell o) {
    return new LatentCell(
        firings + o.firings, sum + o.sum, Math.max(max, o.max), histogram.plus(o.histogram));
  }
}
