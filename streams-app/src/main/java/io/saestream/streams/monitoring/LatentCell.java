package io.saestream.streams.monitoring;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Statistics of one latent of one SAE in one window: how many tokens it fired on, the sum and the
 * maximum of its activations. The window's totals row ({@link MonitorKeys#TOTALS}) holds the
 * window's tokens in {@code firings} and d_sae in {@code max}.
 *
 * @param firings tokens on which the latent was non-zero
 * @param sum sum of its activations
 * @param max largest activation
 */
public record LatentCell(long firings, double sum, double max) {

  /** Serde of 24 bytes: firings, sum, max (big-endian). */
  public static Serde<LatentCell> serde() {
    Serializer<LatentCell> ser =
        (topic, c) ->
            c == null
                ? null
                : ByteBuffer.allocate(24)
                    .putLong(c.firings)
                    .putDouble(c.sum)
                    .putDouble(c.max)
                    .array();
    Deserializer<LatentCell> de =
        (topic, bytes) -> {
          if (bytes == null) {
            return null;
          }
          if (bytes.length != 24) {
            throw new IllegalArgumentException(
                "a latent cell must be 24 bytes, was " + bytes.length);
          }
          ByteBuffer b = ByteBuffer.wrap(bytes);
          return new LatentCell(b.getLong(), b.getDouble(), b.getDouble());
        };
    return Serdes.serdeFrom(ser, de);
  }

  /** This cell plus another (maximum of the maxima). */
  public LatentCell plus(LatentCell o) {
    return new LatentCell(firings + o.firings, sum + o.sum, Math.max(max, o.max));
  }
}
